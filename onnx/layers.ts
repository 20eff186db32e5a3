/**
 * The mapping table: one row per layer class, keyed by the class name the save format uses.
 * A row writes the layer's inference computation with builder calls; a layer without a row
 * (custom layers, Lambda, Dot) is traced into kiln primitives instead (primitives.ts).
 */
import type { DType, TypedArray } from '../backends/contract.js';
import type { Layer } from '../layers/layer.js';
import type { Dense } from '../layers/core/dense.js';
import type { ReLU } from '../layers/activations/relu.js';
import type { Flatten } from '../layers/reshaping/flatten.js';
import type { Normalization } from '../layers/preprocessing/normalization.js';
import type { Rescaling, Scalars } from '../layers/preprocessing/rescaling.js';
import type { Dim } from '../src/shape.js';
import type { SymbolicTensor } from '../src/symbolic.js';
import type { Tensor } from '../src/tensor.js';
import type { ActivationFn } from '../src/activations.js';
import type { GraphBuilder, Value } from './builder.js';
import { activationRow } from './activations.js';
import { elemType, float, int, ints } from './proto.js';

export interface LayerArgs {
  b: GraphBuilder;
  layer: Layer;
  inputs: Value[];
  /** What kiln inferred for each output. */
  outputs: { shape: readonly Dim[]; dtype: DType }[];
  /** Traces `fn` (by default the layer's call) on symbolic stand-ins of `on` (by default the inputs) into primitives. */
  trace(fn?: (xs: SymbolicTensor[]) => unknown, on?: Value[]): string[];
}

export interface LayerRow {
  /** The ONNX ops the layer becomes (for docs/onnx.md). */
  ops: string;
  emit(args: LayerArgs): string[];
}

/** The layer as its class, for its public knobs (the ones getConfig saves). */
const cfg = <T>(layer: Layer): T => layer as unknown as T;

const passThrough: LayerRow = { ops: '(none: the identity at inference)', emit: ({ inputs }) => [inputs[0].name] };

/** `y` through a layer's activation: its row, or the traced function when it is the user's own. */
function activate(args: LayerArgs, y: string, fn: ActivationFn, dtype: DType): string {
  const row = activationRow(fn);
  if (row) return row.emit(args.b, y, dtype);
  return args.trace(([x]) => fn(x as unknown as Tensor), [{ name: y, dtype, shape: args.outputs[0].shape }])[0];
}

const dense: LayerRow = {
  ops: 'Gemm (rank-2 input) or MatMul, Add; then the activation',
  emit: (args) => {
    const { b, layer, inputs: [x] } = args;
    const d = cfg<Dense>(layer);
    const kernel = b.weight(d.kernel!);
    const bias = d.bias ? b.weight(d.bias) : null;
    let y: string;
    if (x.shape.length === 2) y = b.op('Gemm', bias ? [x.name, kernel, bias] : [x.name, kernel]);
    else {
      y = b.op('MatMul', [x.name, kernel]);
      if (bias) y = b.op('Add', [y, bias]);
    }
    return [activate(args, y, d.activation, x.dtype)];
  },
};

const activation: LayerRow = {
  ops: 'the activation\'s op (see the activations table)',
  emit: (args) => [activate(args, args.inputs[0].name, cfg<{ activation: ActivationFn }>(args.layer).activation, args.inputs[0].dtype)],
};

/** min(x, maxValue) above the threshold, negativeSlope·(x - threshold) below, as ReLU.call composes it. */
const relu: LayerRow = {
  ops: 'Relu, or Clip; Greater, Where, Min, Sub, Mul for a threshold or slope',
  emit: ({ b, layer, inputs: [x] }) => {
    const { maxValue, negativeSlope, threshold } = cfg<ReLU>(layer);
    const k = (v: number) => b.scalar(x.dtype, v);
    if (threshold === 0 && negativeSlope === 0) return [maxValue === null ? b.op('Relu', [x.name]) : b.op('Clip', [x.name, k(0), k(maxValue)])];
    let y = threshold === 0 ? b.op('Relu', [x.name]) : b.op('Where', [b.op('Greater', [x.name, k(threshold)]), x.name, k(0)]);
    if (maxValue !== null) y = b.op('Min', [y, k(maxValue)]);
    if (negativeSlope !== 0) y = b.op('Sub', [y, b.op('Mul', [b.op('Relu', [b.op('Sub', [k(threshold), x.name])]), k(negativeSlope)])]);
    return [y];
  },
};

const softmax: LayerRow = {
  ops: 'Softmax (one axis); ReduceMax, Sub, Exp, ReduceSum, Div (several)',
  emit: ({ b, layer, inputs: [x] }) => {
    const axis = cfg<{ axis: number | number[] }>(layer).axis;
    const rank = x.shape.length;
    const axes = (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
    if (axes.length === 1) return [b.op('Softmax', [x.name], { axis: int(axes[0]) })];
    const e = b.op('Exp', [b.op('Sub', [x.name, b.reduce('ReduceMax', x.name, axes, true)])]);
    return [b.op('Div', [e, b.reduce('ReduceSum', e, axes, true)])];
  },
};

const flatten: LayerRow = {
  ops: 'Flatten (Transpose first for channels_first)',
  emit: ({ b, layer, inputs: [x] }) => {
    const rank = x.shape.length;
    let y = x.name;
    if (cfg<Flatten>(layer).dataFormat === 'channels_first' && rank > 2) {
      y = b.op('Transpose', [y], { perm: ints([0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1]) });
    }
    return [b.op('Flatten', [y], { axis: int(1) })];
  },
};

/** Lower-rank inputs of a merge get size-1 axes after the batch axis, as Merge.call adds them. */
function lifted(b: GraphBuilder, inputs: Value[]): string[] {
  const rank = Math.max(...inputs.map((v) => v.shape.length));
  return inputs.map((v) => b.unsqueeze(v.name, Array.from({ length: rank - v.shape.length }, (_, i) => i + 1)));
}

/** A merge as a chain of binary ops, in the order kiln reduces (so the rounding matches). */
const chain = (opType: string): LayerRow => ({
  ops: opType,
  emit: ({ b, inputs }) => [lifted(b, inputs).reduce((acc, x) => b.op(opType, [acc, x]))],
});

/** A merge as one variadic op. */
const variadic = (opType: string): LayerRow => ({
  ops: opType,
  emit: ({ b, inputs }) => [inputs.length === 1 ? inputs[0].name : b.op(opType, lifted(b, inputs))],
});

const shapeOf = (v: Scalars): number[] => (Array.isArray(v) ? [v.length, ...shapeOf(v[0] as Scalars)] : []);
const flat = (v: Scalars): number[] => (Array.isArray(v) ? (v as unknown[]).flat(Infinity) as number[] : [v as number]);

/** Casts to the layer's dtype, as Rescaling and Normalization do (integer pixels become floats). */
function inDtype(b: GraphBuilder, x: Value, dtype: DType): string {
  return x.dtype === dtype ? x.name : b.op('Cast', [x.name], { to: int(elemType(dtype)) });
}

const rescaling: LayerRow = {
  ops: 'Mul, Add (Cast for other input dtypes)',
  emit: ({ b, layer, inputs: [x] }) => {
    const { scale, offset, dtype } = cfg<Rescaling>(layer);
    const operand = (v: Scalars, hint: string) => b.constant(dtype, shapeOf(v), flat(v), hint);
    return [b.op('Add', [b.op('Mul', [inDtype(b, x, dtype), operand(scale, 'scale')]), operand(offset, 'offset')])];
  },
};

/** Keras's backend.epsilon(), the smallest standard deviation Normalization divides by. */
const EPSILON = 1e-7;

const normalization: LayerRow = {
  ops: 'Sub, Div (Mul, Add when inverted; Cast for other input dtypes)',
  emit: ({ b, layer, inputs: [x] }) => {
    const norm = cfg<Normalization>(layer);
    const { dtype, invert } = norm;
    const rank = x.shape.length;
    const keep = [...new Set(norm.axis.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
    // statistics shaped to broadcast: their dims on the kept axes (from the right), 1 elsewhere
    const target = (vShape: readonly number[]): number[] => {
      const t = new Array<number>(rank).fill(1);
      vShape.forEach((d, i) => (t[keep[keep.length - vShape.length + i]] = d));
      return t;
    };
    const round = dtype === 'float64' ? (v: number) => v : Math.fround;
    const std = (v: number) => Math.max(round(Math.sqrt(v)), round(EPSILON));
    const config = norm.getConfig();
    let mean: string;
    let sd: string;
    if (config.mean !== null && config.mean !== undefined) {
      const m = config.mean as Scalars;
      const v = config.variance as Scalars;
      mean = b.constant(dtype, target(shapeOf(m)), flat(m), 'mean');
      sd = b.constant(dtype, target(shapeOf(v)), flat(v).map((e) => std(round(e))), 'std');
    } else {
      const [meanVar, varianceVar] = norm.getWeightVariables();
      mean = b.weight(meanVar, { dims: target(meanVar.shape) });
      const transform = (vals: TypedArray): TypedArray => {
        const out = dtype === 'float64' ? new Float64Array(vals.length) : new Float32Array(vals.length);
        for (let i = 0; i < vals.length; i++) out[i] = std(vals[i]);
        return out;
      };
      sd = b.weight(varianceVar, { suffix: 'std', dims: target(varianceVar.shape), transform });
    }
    const t = inDtype(b, x, dtype);
    return [invert ? b.op('Add', [mean, b.op('Mul', [t, sd])]) : b.op('Div', [b.op('Sub', [t, mean]), sd])];
  },
};

export const LAYERS: Record<string, LayerRow> = {
  InputLayer: passThrough,
  Dense: dense,
  Activation: activation,
  ReLU: relu,
  LeakyReLU: {
    ops: 'LeakyRelu',
    emit: ({ b, layer, inputs: [x] }) => [b.op('LeakyRelu', [x.name], { alpha: float(cfg<{ negativeSlope: number }>(layer).negativeSlope) })],
  },
  PReLU: {
    ops: 'PRelu',
    emit: ({ b, layer, inputs: [x] }) => [b.op('PRelu', [x.name, b.weight(layer.getWeightVariables()[0])])],
  },
  ELU: { ops: 'Elu', emit: ({ b, layer, inputs: [x] }) => [b.op('Elu', [x.name], { alpha: float(cfg<{ alpha: number }>(layer).alpha) })] },
  Softmax: softmax,
  Dropout: passThrough,
  GaussianNoise: passThrough,
  GaussianDropout: passThrough,
  ActivityRegularization: passThrough,
  Identity: passThrough,
  Flatten: flatten,
  Reshape: {
    ops: 'Reshape',
    // 0 copies the batch size from the input, so one file serves every batch size
    emit: ({ b, layer, inputs: [x] }) => [b.reshape(x.name, [0, ...cfg<{ targetShape: number[] }>(layer).targetShape])],
  },
  Permute: {
    ops: 'Transpose',
    emit: ({ b, layer, inputs: [x] }) => [b.op('Transpose', [x.name], { perm: ints([0, ...cfg<{ dims: number[] }>(layer).dims]) })],
  },
  RepeatVector: {
    ops: 'Unsqueeze, Tile',
    emit: ({ b, layer, inputs: [x] }) => [b.op('Tile', [b.unsqueeze(x.name, [1]), b.int64s([1, cfg<{ n: number }>(layer).n, 1], 'repeats')])],
  },
  Add: chain('Add'),
  Subtract: chain('Sub'),
  Multiply: chain('Mul'),
  Average: variadic('Mean'),
  Maximum: variadic('Max'),
  Minimum: variadic('Min'),
  Concatenate: {
    ops: 'Concat',
    emit: ({ b, layer, inputs }) => {
      const axis = cfg<{ axis: number }>(layer).axis;
      return [b.op('Concat', inputs.map((v) => v.name), { axis: int(axis < 0 ? axis + inputs[0].shape.length : axis) })];
    },
  },
  Dot: { ops: 'Transpose, Reshape, MatMul (traced; ReduceSum, Sqrt, Max, Div to normalize)', emit: ({ trace }) => trace() },
  Lambda: { ops: 'its function\'s primitives (traced)', emit: ({ trace }) => trace() },
  Rescaling: rescaling,
  Normalization: normalization,
};
