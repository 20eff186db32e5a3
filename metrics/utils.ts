import type { DType } from '../backends/contract.js';
import { asTensor, type TensorLike } from '../src/convert.js';
import { fail } from '../src/errors.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';

/** keras.backend.epsilon(): the fuzz of F-scores, MAPE and AUC's end thresholds. */
export const EPSILON = 1e-7;

/** Labels, predictions and optional weights: what most metrics' updateState takes. */
export type LabelArgs = [yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null];

/** `x` as a tensor of `dtype` (arrays are uploaded as `dtype` directly, not via float32). */
export function asType(x: TensorLike, dtype: DType, op: string): Tensor {
  return ops.cast(asTensor(x, op, dtype), dtype);
}

/**
 * Keras's squeeze_or_expand_to_same_rank: when the ranks differ by one and the longer has a
 * trailing 1, that axis is dropped, or added to a rank-1 partner when `expandRank1`
 * ([N,1] labels against [N] predictions compare per sample, never as an [N,N] broadcast).
 */
export function squeezeOrExpand(a: Tensor, b: Tensor, expandRank1 = true): [Tensor, Tensor] {
  if (a.rank === b.rank + 1 && a.shape[a.rank - 1] === 1) {
    return b.rank === 1 && expandRank1 ? [a, ops.expandDims(b, -1)] : [ops.squeeze(a, -1), b];
  }
  if (b.rank === a.rank + 1 && b.shape[b.rank - 1] === 1) {
    return a.rank === 1 && expandRank1 ? [ops.expandDims(a, -1), b] : [a, ops.squeeze(b, -1)];
  }
  return [a, b];
}

/** a / b, with 0 where b is 0 (keras.ops.divide_no_nan): empty counts give 0, not NaN. */
export function divideNoNan(a: TensorLike, b: TensorLike): Tensor {
  const zero = ops.equal(b, 0);
  return ops.where(zero, 0, ops.divide(a, ops.where(zero, 1, b)));
}

/** The axes from `start` to the last one. */
export function axesFrom(start: number, rank: number): number[] {
  return Array.from({ length: Math.max(0, rank - start) }, (_, i) => start + i);
}

/** Fails unless `t` has `rank` (R2Score, F1Score and multi-label AUC need [N, D] data), naming the shape received. */
export function checkRank(op: string, what: string, t: Tensor, rank: number): void {
  if (t.rank !== rank) fail(op, `expected ${what} of rank ${rank}, got shape [${t.shape.join(',')}]`);
}
