/**
 * Rows of layers/normalization/, for inference. BatchNormalization is one Mul and one Add whose
 * constants kiln folds from the weights; LayerNormalization and RMSNormalization become ONNX's own
 * op where the target opset has it and the axes fit, and otherwise (GroupNormalization and
 * UnitNormalization always) the layer's call is traced, which writes kiln's own arithmetic.
 */
import type { DType } from '../../backends/contract.js';
import * as ops from '../../src/ops/index.js';
import { foldBatchNormalization } from '../../src/fused/normalization.js';
import type { Tensor } from '../../src/tensor.js';
import { BatchNormalization } from '../../layers/normalization/batch-normalization.js';
import { GroupNormalization } from '../../layers/normalization/group-normalization.js';
import { LayerNormalization } from '../../layers/normalization/layer-normalization.js';
import { RMSNormalization } from '../../layers/normalization/rms-normalization.js';
import { UnitNormalization } from '../../layers/normalization/unit-normalization.js';
import type { GraphBuilder, Value } from '../builder.js';
import { elemType, float, int } from '../proto.js';
import { row, traced, type RowEntry } from './row.js';

/** The first opsets with LayerNormalization and RMSNormalization. */
export const LAYER_NORMALIZATION_OPSET = 17;
export const RMS_NORMALIZATION_OPSET = 23;

/** Casts to the layer's dtype, as the layers do. */
function inDtype(b: GraphBuilder, x: Value, dtype: DType): string {
  return x.dtype === dtype ? x.name : b.op('Cast', [x.name], { to: int(elemType(dtype)) });
}

/**
 * The first of the layer's axes when they are the trailing ones, as ONNX's LayerNormalization and
 * RMSNormalization normalize (every axis from their `axis` on); else null.
 */
function trailingFrom(axis: number | readonly number[], rank: number): number | null {
  const axes = (typeof axis === 'number' ? [axis] : [...axis]).map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
  return axes.every((a, i) => a === rank - axes.length + i) ? axes[0] : null;
}

/** A constant filled with `value`, of the given shape. */
const filled = (b: GraphBuilder, dtype: DType, dims: readonly number[], value: number, hint: string): string =>
  b.constant(dtype, dims, new Array<number>(dims.reduce((n, d) => n * d, 1)).fill(value), hint);

/**
 * The moving statistics, gamma and beta folded by kiln's own ops into `x · inv + shift`, the
 * two vectors reshaped along the features axis; the trace keeps them as initializers.
 */
const batchNormalization = row(BatchNormalization, 'Mul, Add (constants folded from the weights by kiln)', ({ layer, inputs: [x], trace }) => {
  const rank = x.shape.length;
  const axis = layer.axis < 0 ? layer.axis + rank : layer.axis;
  return trace(([sym]) => {
    const input = sym as unknown as Tensor;
    const t = input.dtype === layer.dtype ? input : ops.cast(input, layer.dtype);
    const { inv, shift } = foldBatchNormalization(layer.movingMean!.value, layer.movingVariance!.value, {
      offset: layer.beta?.value ?? null, scale: layer.gamma?.value ?? null, epsilon: layer.epsilon,
    });
    const along = (v: Tensor): Tensor => (axis === rank - 1 ? v : ops.reshape(v, x.shape.map((_, i) => (i === axis ? v.shape[0] : 1))));
    return ops.add(ops.multiply(t, along(inv)), along(shift));
  });
});

/** The op where the target opset has it and the axes are trailing; the traced decomposition otherwise, and for the rmsScaling form. */
const layerNormalization = row(LayerNormalization, `LayerNormalization (opset ≥ ${LAYER_NORMALIZATION_OPSET}, trailing axes), else traced: ReduceSum, Div, Sub, Mul, Add, Sqrt`, ({ b, layer, inputs: [x], trace }) => {
  const rank = x.shape.length;
  const first = trailingFrom(layer.axis, rank);
  if (b.opset < LAYER_NORMALIZATION_OPSET || first === null || layer.rmsScaling) return trace();
  const scale = layer.gamma ? b.weight(layer.gamma) : filled(b, layer.dtype, x.shape.slice(first) as number[], 1, 'ones');
  const inputs = [inDtype(b, x, layer.dtype), scale, ...(layer.beta ? [b.weight(layer.beta)] : [])];
  return [b.op('LayerNormalization', inputs, { axis: int(first), epsilon: float(layer.epsilon) })];
});

const rmsNormalization = row(RMSNormalization, `RMSNormalization (opset ≥ ${RMS_NORMALIZATION_OPSET}, trailing axes), else traced: ReduceSum, Div, Add, Sqrt, Mul`, ({ b, layer, inputs: [x], trace }) => {
  const first = trailingFrom(layer.axis, x.shape.length);
  if (b.opset < RMS_NORMALIZATION_OPSET || first === null) return trace();
  return [b.op('RMSNormalization', [inDtype(b, x, layer.dtype), b.weight(layer.scale!)], { axis: int(first), epsilon: float(layer.epsilon) })];
});

export const NORMALIZATION_ROWS: readonly RowEntry[] = [
  batchNormalization,
  layerNormalization,
  // not ONNX's GroupNormalization (opset 21): onnxruntime-node 1.30 runs it, but less exactly. On
  // standard normal inputs with two channels per group its largest error against float64 was 13
  // times the traced form's (5.5e-5 against 4.3e-6), past the export's tolerance; the traced form
  // subtracts the mean before squaring, as kiln and Keras do
  traced(GroupNormalization, 'Reshape, ReduceSum, Div, Sub, Mul, Add, Sqrt (traced)'),
  rmsNormalization,
  traced(UnitNormalization, 'ReduceSum, Max, Sqrt, Div, Mul (traced)'),
];
