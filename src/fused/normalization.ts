import { isFloat } from '../dtype.js';
import type { Spec } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { add, multiply, subtract } from '../ops/binary.js';
import { reshape, slice, stack } from '../ops/movement.js';
import { mean } from '../ops/reduce.js';
import { neg, rsqrt, square } from '../ops/unary.js';
import { asRows, defineFused } from './define.js';

/** Every axis but the last, which holds the channels. */
const leadingAxes = (rank: number): number[] => Array.from({ length: rank - 1 }, (_, i) => i);

/** Whether x [..., C] and the per-channel vectors qualify for the kernels: floats of one dtype, C known, something to reduce. */
function channelsLast(x: Tensor, vectors: readonly Tensor[]): boolean {
  const C = x.shape[x.rank - 1];
  return isFloat(x.dtype) && x.rank >= 2 && x.size > 0 && C !== null &&
    vectors.every((v) => v.dtype === x.dtype && v.rank === 1 && v.shape[0] === C);
}

/**
 * The mean (size-1 axes kept) and biased variance of x over `axes`, the variance taken around the
 * mean rather than as E[x²] − E[x]², which cancels badly and can come out below 0.
 */
export function composedMoments(x: Tensor, axes: readonly number[], keepdims: boolean): [Tensor, Tensor] {
  const m = mean(x, axes, true);
  return [m, mean(square(subtract(x, m)), axes, keepdims)];
}

/**
 * Per-channel mean and biased variance as one [2, C] tensor, so that one kernel call (and one
 * backward call) serves both; the variance is taken around the mean, as the composition does.
 */
const MOMENTS = defineFused({
  kernel: 'moments',
  infer: ([x]: readonly Spec[]): Spec => ({ shape: [2, x.shape[x.shape.length - 1]], dtype: x.dtype }),
  compose: ([x]: readonly Tensor[]) => {
    const [m, v] = composedMoments(x, leadingAxes(x.rank), false);
    return stack([reshape(m, [-1]), v]);
  },
  applies: ([x]) => channelsLast(x, []),
  run: (moments, [x], out) => moments(x, out),
  backward: {
    kernel: 'momentsGrad',
    infer: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
    run: (momentsGrad, dy, y, [x], [dx]) => momentsGrad(dy, y, x, dx!),
  },
});

/**
 * The mean and biased variance of x [..., C] over every axis but the last (the statistics
 * BatchNormalization takes in training, channels last), each of shape [C].
 */
export function channelMoments(x: Tensor): [Tensor, Tensor] {
  const both = MOMENTS.apply([x], {});
  const C = both.shape[1] as number;
  return [reshape(slice(both, [0, 0], [1, C]), [C]), reshape(slice(both, [1, 0], [1, C]), [C])];
}

export interface FoldOptions {
  offset?: Tensor | null;
  scale?: Tensor | null;
  epsilon?: number;
}

/**
 * Batch normalization as one multiply and one add, `x · inv + shift`: `inv = scale ·
 * rsqrt(variance + epsilon)` and `shift = offset - mean · inv`, in Keras's order of operations.
 * batchNormalization applies these; the ONNX exporter writes them as constants, so the exported
 * inference form computes what kiln does, operation for operation.
 */
export function foldBatchNormalization(mean: Tensor, variance: Tensor, { offset = null, scale = null, epsilon = 1e-3 }: FoldOptions): { inv: Tensor; shift: Tensor } {
  let inv = rsqrt(add(variance, epsilon));
  if (scale !== null) inv = multiply(inv, scale);
  let shift = multiply(neg(mean), inv);
  if (offset !== null) shift = add(shift, offset);
  return { inv, shift };
}

interface BatchNormAttrs {
  epsilon: number;
  /** Whether the inputs after x, mean and variance hold gamma, then beta. */
  scale: boolean;
  offset: boolean;
}

/** gamma and beta among the inputs [x, mean, variance, gamma?, beta?]. */
function affineOf<T>(inputs: readonly T[], { scale, offset }: BatchNormAttrs): { gamma: T | null; beta: T | null } {
  return { gamma: scale ? inputs[3] : null, beta: offset ? inputs[scale ? 4 : 3] : null };
}

const BATCH_NORM = defineFused({
  kernel: 'batchNorm',
  infer: ([x]: readonly Spec[]): Spec => ({ shape: x.shape, dtype: x.dtype }),
  compose: (inputs: readonly Tensor[], attrs: BatchNormAttrs) => {
    const { gamma, beta } = affineOf(inputs, attrs);
    const { inv, shift } = foldBatchNormalization(inputs[1], inputs[2], { scale: gamma, offset: beta, epsilon: attrs.epsilon });
    return add(multiply(inputs[0], inv), shift);
  },
  applies: ([x, ...vectors]) => channelsLast(x, vectors),
  run: (batchNorm, inputs, out, attrs) => {
    const { gamma, beta } = affineOf(inputs, attrs);
    batchNorm(inputs[0], inputs[1], inputs[2], gamma, beta, attrs.epsilon, out);
  },
  // one pass for the per-channel sums and one for dx, where the composition's gradient walks
  // every broadcast back
  backward: {
    kernel: 'batchNormGrad',
    infer: (inputs) => inputs.map((s) => ({ shape: s.shape, dtype: s.dtype })),
    run: (batchNormGrad, dy, _y, inputs, grads, attrs) => {
      const { gamma } = affineOf(inputs, attrs);
      const { gamma: dGamma, beta: dBeta } = affineOf(grads, attrs);
      batchNormGrad(dy, inputs[0], inputs[1], inputs[2], gamma, attrs.epsilon, grads[0], grads[1], grads[2], dGamma, dBeta);
    },
  },
});

/**
 * x [..., C] normalized along its last axis with the given statistics and optional gamma and
 * beta (all [C], x's dtype): `x · inv + shift` as foldBatchNormalization defines them.
 */
export function normalizeChannels(
  x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number,
): Tensor {
  const inputs = [x, mean, variance, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  return BATCH_NORM.apply(inputs, { epsilon, scale: gamma !== null, offset: beta !== null });
}

/**
 * Layer normalization as Keras computes it, from the mean and variance over the normalized axes
 * (size-1 axes kept): `inv = rsqrt(variance + epsilon) · gamma`, `shift = beta - mean · inv`,
 * `x · inv + shift`; gamma and beta (or null) already broadcast against x.
 */
export function layerNormFromMoments(
  x: Tensor, m: Tensor, v: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number,
): Tensor {
  let inv = rsqrt(add(v, epsilon));
  if (gamma) inv = multiply(inv, gamma);
  let shift = multiply(neg(m), inv);
  if (beta) shift = add(shift, beta);
  return add(multiply(x, inv), shift);
}

/** gamma and beta among the inputs [x, gamma?, beta?]. */
function layerAffineOf<T>(inputs: readonly T[], { scale, offset }: BatchNormAttrs): { gamma: T | null; beta: T | null } {
  return { gamma: scale ? inputs[1] : null, beta: offset ? inputs[scale ? 2 : 1] : null };
}

/** Whether x [..., C] (any rank from 1) and the vectors [C] qualify for the layer kernels. */
function lastAxisRows(x: Tensor, vectors: readonly Tensor[]): boolean {
  const C = x.shape[x.rank - 1];
  return isFloat(x.dtype) && x.rank >= 1 && x.size > 0 && C !== null &&
    vectors.every((v) => v.dtype === x.dtype && v.rank === 1 && v.shape[0] === C);
}

const LAYER_NORM = defineFused({
  kernel: 'layerNorm',
  infer: ([x]: readonly Spec[]): Spec => ({ shape: x.shape, dtype: x.dtype }),
  compose: (inputs: readonly Tensor[], attrs: BatchNormAttrs) => {
    const { gamma, beta } = layerAffineOf(inputs, attrs);
    const [m, v] = composedMoments(inputs[0], [inputs[0].rank - 1], true);
    return layerNormFromMoments(inputs[0], m, v, gamma, beta, attrs.epsilon);
  },
  applies: ([x, ...vectors]) => lastAxisRows(x, vectors),
  run: (layerNorm, inputs, out, attrs) => {
    const { gamma, beta } = layerAffineOf(inputs, attrs);
    layerNorm(asRows(inputs[0]), gamma, beta, attrs.epsilon, asRows(out));
  },
  // one pass per row where the composition's gradient walks back through every broadcast of the
  // statistics (a dozen kernels)
  backward: {
    kernel: 'layerNormGrad',
    infer: (inputs) => inputs.map((s) => ({ shape: s.shape, dtype: s.dtype })),
    run: (layerNormGrad, dy, _y, inputs, grads, attrs) => {
      const { gamma } = layerAffineOf(inputs, attrs);
      const { gamma: dGamma, beta: dBeta } = layerAffineOf(grads, attrs);
      layerNormGrad(asRows(dy), asRows(inputs[0]), gamma, attrs.epsilon, grads[0] && asRows(grads[0]), dGamma, dBeta);
    },
  },
});

/**
 * x [..., C] normalized over its last axis, with optional gamma and beta (each [C] in x's dtype,
 * or broadcasting against x, which composes): layerNormFromMoments' function, one kernel where the
 * backend has it.
 */
export function layerNormLastAxis(x: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number): Tensor {
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  return LAYER_NORM.apply(inputs, { epsilon, scale: gamma !== null, offset: beta !== null });
}
