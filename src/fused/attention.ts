import type { Tensor } from '../tensor.js';
import type { Dim } from '../shape.js';
import { range } from '../creation.js';
import { add, lessEqual, logicalAnd, multiply } from '../ops/binary.js';
import { where } from '../ops/select.js';
import { matmulTransposed } from '../ops/matmul.js';
import { reshape, transpose } from '../ops/movement.js';
import { fusedSoftmax } from './softmax.js';

/** What the inputs after query, key and value hold, and the op's numbers. */
export interface AttentionAttrs {
  /** Multiplies the logits q·k. */
  scale: number;
  /** Query i sees keys j <= i (top-left aligned when T ≠ S, as Keras's tril). */
  causal: boolean;
  /** Whether inputs[3] is an additive bias, broadcastable to [B, N, T, S]. */
  bias: boolean;
  /** Whether the last input is a bool mask, broadcastable to [B, N, T, S]. */
  mask: boolean;
}

/**
 * The logit a masked position gets: Keras's -0.7 · 3.38953e38 (a large finite negative rather
 * than -Infinity), so that a row with every key masked averages all the values uniformly
 * instead of turning into NaN.
 */
export const MASKED_LOGIT = -0.7 * 3.38953e38;

const times = (a: Dim, b: Dim): Dim => (a === null || b === null ? null : a * b);
const groups = (N: Dim, K: Dim): Dim => (N === null || K === null ? null : N / K);

/** [B, S, K, H] as [B, K, S, H]. */
const headsFirst = (x: Tensor): Tensor => transpose(x, [0, 2, 1, 3]);

/**
 * The bool [T, S] mask that lets query i see keys j <= i: numpy's tril(ones(T, S)), so the
 * first query sees the first key whatever S is. One comparison of two ranges, so that no
 * backend needs a triangle kernel.
 */
export function causalMask(T: number, S: number): Tensor {
  return lessEqual(reshape(range(S), [1, S]), reshape(range(T), [T, 1]));
}

/**
 * Attention from primitives, as Keras's numpy backend computes it: logits = (q·kᵀ)·scale over
 * [B, N, T, S], plus the bias, masked positions set to MASKED_LOGIT, a max-shifted softmax over
 * the keys, and the probabilities' weighted sum of the values, back as [B, T, N, H].
 * Inputs: [query, key, value, bias?, mask?], the first four in one float dtype, the mask bool.
 * Query head n = k·G + g reads key/value head k (G = N / K), as Keras's jax and torch backends
 * group them: q is read as [B, K, G·T, H], one batched product per key head.
 */
export function composedAttention(inputs: readonly Tensor[], { scale, causal, bias, mask }: AttentionAttrs): Tensor {
  const [q, k, v] = inputs;
  const [B, T, N, H] = q.shape;
  const [, S, K] = k.shape;
  const G = groups(N, K);
  const grouped = reshape(headsFirst(q), [B, K, times(G, T), H]);
  let logits = reshape(multiply(matmulTransposed(grouped, headsFirst(k), false, true), scale), [B, N, T, S]);
  if (bias) logits = add(logits, inputs[3]);
  let keep = mask ? inputs[bias ? 4 : 3] : null;
  if (causal) {
    const tril = causalMask(T as number, S as number);
    keep = keep ? logicalAnd(keep, tril) : tril;
  }
  if (keep) logits = where(keep, logits, MASKED_LOGIT);
  const probs = reshape(fusedSoftmax(logits, [3], false), [B, K, times(G, T), S]);
  return headsFirst(reshape(matmulTransposed(probs, headsFirst(v), false, false), [B, N, T, H]));
}

/** Attention over [query, key, value, bias?, mask?] as composedAttention describes. */
export function attention(inputs: readonly Tensor[], attrs: AttentionAttrs): Tensor {
  return composedAttention(inputs, attrs);
}
