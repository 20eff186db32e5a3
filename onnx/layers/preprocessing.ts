/**
 * Rows of layers/preprocessing/: Rescaling and Normalization as arithmetic on constants, in the
 * layer's dtype. Normalization's standard deviation is computed here, once, with the layer's floor.
 */
import type { DType, TypedArray } from '../../backends/contract.js';
import { MIN_STD, Normalization } from '../../layers/preprocessing/normalization.js';
import { Rescaling, type Scalars } from '../../layers/preprocessing/rescaling.js';
import type { GraphBuilder, Value } from '../builder.js';
import { elemType, int } from '../proto.js';
import { row, type RowEntry } from './row.js';

/** The dims of a number (none) or of nested arrays of them. */
const shapeOf = (v: Scalars): number[] => (Array.isArray(v) ? [v.length, ...shapeOf(v[0] as Scalars)] : []);
const flat = (v: Scalars): number[] => (Array.isArray(v) ? (v as unknown[]).flat(Infinity) as number[] : [v as number]);

/** Casts to the layer's dtype, as Rescaling and Normalization do (integer pixels become floats). */
function inDtype(b: GraphBuilder, x: Value, dtype: DType): string {
  return x.dtype === dtype ? x.name : b.op('Cast', [x.name], { to: int(elemType(dtype)) });
}

const rescaling = row(Rescaling, 'Mul, Add (Cast for other input dtypes)', ({ b, layer, inputs: [x] }) => {
  const { scale, offset, dtype } = layer;
  const operand = (v: Scalars, hint: string) => b.constant(dtype, shapeOf(v), flat(v), hint);
  return [b.op('Add', [b.op('Mul', [inDtype(b, x, dtype), operand(scale, 'scale')]), operand(offset, 'offset')])];
});

const normalization = row(Normalization, 'Sub, Div (Mul, Add when inverted; Cast for other input dtypes)', ({ b, layer, inputs: [x] }) => {
  const { dtype, invert } = layer;
  const rank = x.shape.length;
  const keep = [...new Set(layer.axis.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
  // statistics shaped to broadcast: their dims on the kept axes (from the right), 1 elsewhere
  const target = (vShape: readonly number[]): number[] => {
    const t = new Array<number>(rank).fill(1);
    vShape.forEach((d, i) => (t[keep[keep.length - vShape.length + i]] = d));
    return t;
  };
  // rounded as kiln's float32 tensors hold sqrt(variance) and the floor
  const round = dtype === 'float64' ? (v: number) => v : Math.fround;
  const std = (v: number) => Math.max(round(Math.sqrt(v)), round(MIN_STD));
  const config = layer.getConfig();
  let mean: string;
  let sd: string;
  if (config.mean !== null && config.mean !== undefined) {
    const m = config.mean as Scalars;
    const v = config.variance as Scalars;
    mean = b.constant(dtype, target(shapeOf(m)), flat(m), 'mean');
    sd = b.constant(dtype, target(shapeOf(v)), flat(v).map((e) => std(round(e))), 'std');
  } else {
    const [meanVar, varianceVar] = layer.getWeightVariables();
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
});

export const PREPROCESSING_ROWS: readonly RowEntry[] = [rescaling, normalization];
