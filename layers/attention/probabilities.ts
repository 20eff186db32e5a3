/** The attention probabilities: a masked softmax over the keys, and dropout of it in training. */
import * as ops from '../../src/ops/index.js';
import { uniform } from '../../src/random.js';
import { Tensor } from '../../src/tensor.js';
import type { SeedStream } from '../seed-stream.js';

/**
 * softmax over the last `axes` axes where `mask` keeps a position, and exactly 0 where it does
 * not: masked scores become -1e9 first, and Keras's Softmax then zeroes the masked positions, so
 * a query that may attend to nothing gets all-zero probabilities rather than a uniform spread.
 */
export function maskedSoftmax(scores: Tensor, mask: Tensor | null, axes: number): Tensor {
  const norm = Array.from({ length: axes }, (_, i) => scores.rank - axes + i);
  // no keys at all: the probabilities are empty, and the weighted sum over none is 0
  if (norm.some((a) => scores.shape[a] === 0)) return scores;
  if (!mask) return ops.softmax(scores, norm);
  return ops.where(mask, ops.softmax(ops.where(mask, scores, -1e9), norm), 0);
}

/** Dropout of probabilities, as keras.layers.Dropout: each kept with probability 1 - rate and scaled by 1 / (1 - rate). */
export function dropProbabilities(p: Tensor, rate: number, seeds: SeedStream): Tensor {
  // a symbolic call only infers shapes, and has no values to drop
  if (rate === 0 || !(p instanceof Tensor)) return p;
  const keep = 1 - rate;
  const u = uniform(p.shape as number[], { dtype: p.dtype, seed: seeds.next() });
  return ops.multiply(p, ops.where(ops.less(u, keep), 1 / keep, 0));
}
