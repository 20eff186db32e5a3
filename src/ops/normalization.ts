/**
 * Normalization ops (keras.ops.batch_normalization, layer_normalization, rms_normalization),
 * composed from moments and elementwise ops, so that every backend runs them and the tape
 * differentiates them. The operands are checked here, before anything runs, for eager and
 * symbolic tensors alike.
 */
import { EPSILON } from '../epsilon.js';
import { fail, fmtShape } from '../errors.js';
import { isFloat } from '../dtype.js';
import { normalizeAxes, normalizeAxis, type Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { add, multiply } from './binary.js';
import { rsqrt, square } from './unary.js';
import { cast } from './select.js';
import { checkKeepdims, droppedShape, mean, variance, type Axis } from './reduce.js';
import {
  channelMoments, composedMoments, foldBatchNormalization, layerNormFromMoments, layerNormLastAxis, normalizeChannels,
} from '../fused/normalization.js';
import { reshape } from './movement.js';

export interface BatchNormalizationOptions {
  /** Added after normalizing (Keras's beta), a vector of length x.shape[axis]. */
  offset?: TensorLike | null;
  /** Multiplied after normalizing (Keras's gamma), a vector of length x.shape[axis]. */
  scale?: TensorLike | null;
  /** Added to the variance so that a constant channel does not divide by 0 (default 1e-3). */
  epsilon?: number;
}

export interface LayerNormalizationOptions {
  /** Multiplies the normalized values: the normalized axes' shape, or x's rank. */
  gamma?: TensorLike | null;
  /** Added to the normalized values, shaped as gamma; not used with rmsScaling, as in Keras. */
  beta?: TensorLike | null;
  /** The axis or axes normalized over (default -1). */
  axis?: number | readonly number[];
  /** Added to the variance (default 1e-7, keras.config.epsilon()). */
  epsilon?: number;
  /**
   * Keras's deprecated form: x · rsqrt(variance + epsilon) · gamma, without centering. It divides
   * by the standard deviation, not the root mean square; rmsNormalization does the latter.
   */
  rmsScaling?: boolean;
}

export interface RmsNormalizationOptions {
  /** Multiplies the result (NumPy broadcasting). */
  scale?: TensorLike | null;
  /** The axis or axes normalized over (default -1). */
  axis?: number | readonly number[];
  /** Added to the mean square (default 1e-7, keras.config.epsilon()). */
  epsilon?: number;
}

/** Integer inputs normalize in float32, as Keras's mean and variance do. */
function floating(x: TensorLike, op: string): Tensor {
  const t = asTensor(x, op);
  return isFloat(t.dtype) ? t : cast(t, 'float32');
}

function checkEpsilon(op: string, epsilon: unknown): number {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) {
    fail(op, `epsilon must be a finite number >= 0, got ${JSON.stringify(epsilon)}`);
  }
  return epsilon;
}

/** An operand in x's dtype (a float32 weight meets a float64 input, say). */
function operand(op: string, v: TensorLike, dtype: Tensor['dtype']): Tensor {
  const t = asTensor(v, op, dtype);
  return t.dtype === dtype ? t : cast(t, dtype);
}

export interface MomentsOptions {
  /** Keep the reduced axes as size 1 (default false). */
  keepdims?: boolean;
  /** Keras syncs the statistics across replicas of a distributed run; kiln runs on one device, so it changes nothing. */
  synchronized?: boolean;
}

/**
 * The mean and population variance of `x` over `axes` (keras.ops.moments; null: all axes), the
 * mean computed once. The variance subtracts the mean before squaring (as jnp.var does), rather than taking
 * E[x²] − E[x]², which cancels badly and can come out below 0 for large, close values.
 * @example
 * const [m, v] = kiln.ops.moments(kiln.tensor([[1, 2], [3, 6]]), 0);   // [2, 4], [1, 4]
 */
export function moments(x: TensorLike, axes: Axis, options: MomentsOptions = {}): [Tensor, Tensor] {
  const { keepdims = false, synchronized = false } = options;
  const t = floating(x, 'moments');
  checkKeepdims('moments', keepdims);
  if (typeof synchronized !== 'boolean') fail('moments', `synchronized must be a boolean, got ${JSON.stringify(synchronized)}`);
  if (axes != null && typeof axes !== 'number' && !Array.isArray(axes)) {
    fail('moments', `axes must be an integer, a list of integers, or null for all axes, got ${JSON.stringify(axes)}`);
  }
  const reduced = normalizeAxes('moments', axes, t.rank);
  if (t.rank >= 2 && reduced.length === t.rank - 1 && !reduced.includes(t.rank - 1)) {
    // every axis but the channels: BatchNormalization's statistics, one kernel where the backend has it
    const [m, v] = channelMoments(t);
    const kept = t.shape.map((_, i) => (i === t.rank - 1 ? -1 : 1));
    return keepdims ? [reshape(m, kept), reshape(v, kept)] : [m, v];
  }
  const [m, v] = composedMoments(t, reduced, keepdims);
  return [keepdims ? m : reshape(m, droppedShape(m.shape, reduced)), v];
}

/**
 * `(x - mean) / sqrt(variance + epsilon) · scale + offset`, with `mean`, `variance` and the
 * optional `offset` and `scale` vectors along `axis` (keras.ops.batch_normalization). Computed
 * as Keras does: `x · inv + (offset - mean · inv)` with `inv = scale · rsqrt(variance + epsilon)`.
 * @example
 * const x = kiln.tensor([[1, 2], [3, 6]]);
 * kiln.ops.batchNormalization(x, [2, 4], [1, 4], -1, { epsilon: 0 });   // [[-1, -1], [1, 1]]
 */
export function batchNormalization(x: TensorLike, mean: TensorLike, variance: TensorLike, axis: number, options: BatchNormalizationOptions = {}): Tensor {
  const op = 'batchNormalization';
  const { offset = null, scale = null, epsilon = 1e-3 } = options;
  const t = floating(x, op);
  if (typeof axis !== 'number') fail(op, `axis must be an integer, got ${JSON.stringify(axis)}`);
  const a = normalizeAxis(op, axis, t.rank);
  checkEpsilon(op, epsilon);
  const channels = t.shape[a];
  const vector = (name: string, v: TensorLike): Tensor => {
    const p = operand(op, v, t.dtype);
    if (p.rank !== 1 || (channels !== null && p.shape[0] !== null && p.shape[0] !== channels)) {
      fail(op, `${name} must be a vector of length x.shape[${axis}] = ${channels} (x has shape ${fmtShape(t.shape)}), got shape ${fmtShape(p.shape)}`);
    }
    return p;
  };
  const [m, v] = [vector('mean', mean), vector('variance', variance)];
  const [beta, gamma] = [offset === null ? null : vector('offset', offset), scale === null ? null : vector('scale', scale)];
  if (a === t.rank - 1) return normalizeChannels(t, m, v, gamma, beta, epsilon);
  const folded = foldBatchNormalization(m, v, { offset: beta, scale: gamma, epsilon });
  // a vector along the last axis broadcasts as it is; along another it needs size-1 axes after it
  const along = (p: Tensor): Tensor => (a === t.rank - 1 ? p : reshape(p, t.shape.map((_, i) => (i === a ? p.shape[0] : 1))));
  return add(multiply(t, along(folded.inv)), along(folded.shift));
}

/**
 * A weight shaped as the normalized axes' sizes, reshaped to broadcast against x (size 1 on the
 * other axes); one of x's rank is used as it is. Keras reshapes these the same way.
 */
function overAxes(op: string, name: string, v: TensorLike, x: Tensor, axes: readonly number[]): Tensor {
  const p = operand(op, v, x.dtype);
  if (p.rank === x.rank) return p;
  const sizes = axes.map((a) => x.shape[a]);
  if (p.rank !== axes.length || p.shape.some((d, i) => d !== null && sizes[i] !== null && d !== sizes[i])) {
    fail(op, `${name} must have the normalized axes' shape ${fmtShape(sizes)} (axes ${JSON.stringify(axes)} of x's shape ${fmtShape(x.shape)}) or x's rank, got shape ${fmtShape(p.shape)}`);
  }
  if (axes.length === 1 && axes[0] === x.rank - 1) return p;
  const target: Dim[] = x.shape.map(() => 1);
  axes.forEach((a, i) => (target[a] = p.shape[i]));
  return reshape(p, target);
}

function axesOf(op: string, axis: unknown, rank: number): number[] {
  if (typeof axis !== 'number' && !Array.isArray(axis)) fail(op, `axis must be an integer or a list of integers, got ${JSON.stringify(axis)}`);
  return normalizeAxes(op, axis as number | number[], rank);
}

/**
 * Normalizes each slice of `x` over `axis` to mean 0 and variance 1, then scales by `gamma` and
 * shifts by `beta` (keras.ops.layer_normalization): `(x - mean) · rsqrt(variance + epsilon) ·
 * gamma + beta`, computed as `x · inv + (beta - mean · inv)` as Keras does.
 * @example
 * kiln.ops.layerNormalization(kiln.tensor([0, 1, 2, 3, 4]), { epsilon: 0 });   // [-√2, -√½, 0, √½, √2]
 */
export function layerNormalization(x: TensorLike, options: LayerNormalizationOptions = {}): Tensor {
  const op = 'layerNormalization';
  const { gamma = null, beta = null, axis = -1, epsilon = EPSILON, rmsScaling = false } = options;
  const t = floating(x, op);
  const axes = axesOf(op, axis, t.rank);
  checkEpsilon(op, epsilon);
  const g = gamma === null ? null : overAxes(op, 'gamma', gamma, t, axes);
  if (rmsScaling) {
    const y = multiply(t, rsqrt(add(variance(t, axes, true), epsilon)));
    return g ? multiply(y, g) : y;
  }
  const b = beta === null ? null : overAxes(op, 'beta', beta, t, axes);
  if (axes.length === 1 && axes[0] === t.rank - 1) return layerNormLastAxis(t, g, b, epsilon);
  const [m, v] = moments(t, axes, { keepdims: true });
  return layerNormFromMoments(t, m, v, g, b, epsilon);
}

/**
 * `x · rsqrt(mean(x²) + epsilon) · scale` over `axis` (keras.ops.rms_normalization, Zhang and
 * Sennrich 2019): no centering. A scalar is treated as a vector of one element, as in Keras.
 * @example
 * kiln.ops.rmsNormalization(kiln.tensor([3, 4]), { epsilon: 0 });   // [3, 4] / √12.5
 */
export function rmsNormalization(x: TensorLike, options: RmsNormalizationOptions = {}): Tensor {
  const op = 'rmsNormalization';
  const { scale = null, axis = -1, epsilon = EPSILON } = options;
  let t = floating(x, op);
  if (t.rank === 0) t = reshape(t, [1]);
  const axes = axesOf(op, axis, t.rank);
  checkEpsilon(op, epsilon);
  const y = multiply(t, rsqrt(add(mean(square(t), axes, true), epsilon)));
  return scale === null ? y : multiply(y, operand(op, scale, t.dtype));
}
