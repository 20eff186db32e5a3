import { ATTENTION_MASKED_LOGIT } from '../../backends/contract.js';
import { isFloat } from '../dtype.js';
import type { Spec } from '../engine.js';
import { Tensor } from '../tensor.js';
import type { Dim } from '../shape.js';
import { range } from '../creation.js';
import { add, lessEqual, logicalAnd, multiply } from '../ops/binary.js';
import { where } from '../ops/select.js';
import { matmulTransposed } from '../ops/matmul.js';
import { broadcastTo, reshape, transpose } from '../ops/movement.js';
import { defineFused } from './define.js';
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
 * [B, N, T, S], plus the bias, masked positions set to ATTENTION_MASKED_LOGIT, a max-shifted softmax over
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
  if (keep) logits = where(keep, logits, ATTENTION_MASKED_LOGIT);
  const probs = reshape(fusedSoftmax(logits, [3], false), [B, K, times(G, T), S]);
  return headsFirst(reshape(matmulTransposed(probs, headsFirst(v), false, false), [B, N, T, H]));
}

/** The mask, if any, among [query, key, value, bias?, mask?]. */
const maskOf = <T>(inputs: readonly T[], attrs: AttentionAttrs): T | null => (attrs.mask ? inputs[attrs.bias ? 4 : 3] : null);

/** Whether a mask is in the kernel's form [Bm, Nm, T, S], Bm 1 or B and Nm 1 or N. */
function kernelMask(mask: Tensor, [B, T, N]: readonly Dim[], S: Dim): boolean {
  const [Bm, Nm, Tm, Sm] = mask.shape;
  return mask.rank === 4 && (Bm === 1 || Bm === B) && (Nm === 1 || Nm === N) && Tm === T && Sm === S;
}

const ATTENTION = defineFused({
  kernel: 'attention',
  infer: ([q]: readonly Spec[]): Spec => ({ shape: q.shape, dtype: q.dtype }),
  compose: composedAttention,
  // the bias composes: it would be one more [B, N, T, S] operand to broadcast in the kernel
  applies: (inputs, attrs) => {
    const [q, k, v] = inputs;
    const mask = maskOf(inputs, attrs);
    return !attrs.bias && isFloat(q.dtype) && k.dtype === q.dtype && v.dtype === q.dtype && q.size > 0 && k.size > 0 &&
      (mask === null || kernelMask(mask, q.shape, k.shape[1]));
  },
  run: (attention, inputs, out, attrs) => attention(inputs[0], inputs[1], inputs[2], maskOf(inputs, attrs), attrs.scale, attrs.causal, out),
  // the softmax is recomputed per query instead of keeping the [B, N, T, S] probabilities
  backward: {
    kernel: 'attentionGrad',
    infer: (inputs) => inputs.map((s, i) => (i < 3 ? { shape: s.shape, dtype: s.dtype } : null)),
    run: (attentionGrad, dy, y, inputs, grads, attrs) =>
      attentionGrad(dy, y, inputs[0], inputs[1], inputs[2], maskOf(inputs, attrs), attrs.scale, attrs.causal, grads[0], grads[1], grads[2]),
  },
});

/**
 * A concrete mask broadcastable to [B, N, T, S] as the kernel takes it, [Bm, Nm, T, S]: a
 * padding mask [B, 1, 1, S] is spread over the queries, never over the heads or the batch.
 */
function asKernelMask(mask: Tensor, [B, T, N]: readonly Dim[], S: Dim): Tensor {
  const dims = [...Array<Dim>(4 - mask.rank).fill(1), ...mask.shape];
  const full = [dims[0] === B ? B : 1, dims[1] === N ? N : 1, T, S] as number[];
  const m = reshape(mask, dims);
  return dims[2] === T && dims[3] === S ? m : broadcastTo(m, full);
}

/**
 * Attention over [query, key, value, bias?, mask?] as composedAttention describes: the backend's
 * fused kernel where it has one and the inputs qualify, else composed.
 */
export function attention(inputs: readonly Tensor[], attrs: AttentionAttrs): Tensor {
  const mask = maskOf(inputs, attrs);
  if (mask === null || !inputs.every((x) => x instanceof Tensor)) return ATTENTION.apply(inputs, attrs);
  const [q, k] = inputs;
  return ATTENTION.apply([...inputs.slice(0, -1), asKernelMask(mask, q.shape, k.shape[1])], attrs);
}
