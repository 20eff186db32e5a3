import type { DType } from '../backends/contract.js';
import { asTensor, type TensorLike } from '../src/convert.js';
import { fail } from '../src/errors.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';

/** keras.backend.epsilon(): the fuzz of F-scores, MAPE and AUC's end thresholds. */
export { EPSILON } from '../src/epsilon.js';

/** Labels, predictions and optional weights: what most metrics' updateState takes. */
export type LabelArgs = [yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null];

/** `x` as a tensor of `dtype` (arrays are uploaded as `dtype` directly, not via float32). */
export function asType(x: TensorLike, dtype: DType, op: string): Tensor {
  return ops.cast(asTensor(x, op, dtype), dtype);
}

/** The axes from `start` to the last one. */
export function axesFrom(start: number, rank: number): number[] {
  return Array.from({ length: Math.max(0, rank - start) }, (_, i) => start + i);
}

/** Fails unless `t` has `rank` (R2Score, F1Score and multi-label AUC need [N, D] data), naming the shape received. */
export function checkRank(op: string, what: string, t: Tensor, rank: number): void {
  if (t.rank !== rank) fail(op, `expected ${what} of rank ${rank}, got shape [${t.shape.join(',')}]`);
}
