import { fail, fmtShape } from '../errors.js';
import { isFloat } from '../dtype.js';
import type { Dim, Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { fusedPool } from '../fused/pool.js';
import { cast } from './select.js';
import {
  fromChannelsLast, padsFor, resolveOptions, spatialInts, toChannelsLast, unknownSpatial, type DataFormat, type SpatialInts,
} from './conv-options.js';

export type PoolPadding = 'valid' | 'same';

export interface PoolOptions {
  /** The step between windows: one integer for every spatial axis or one per axis; null (the default) is poolSize. */
  strides?: SpatialInts | null;
  /**
   * 'valid' (the default): windows only where they fit. 'same': ceil(size / stride) windows per
   * axis, padded as TensorFlow does (the odd one after); padding is never a max and is left out
   * of an average's count.
   */
  padding?: PoolPadding;
  /** 'channelsLast' (the default): [batch, ...spatial, channels]; 'channelsFirst': [batch, channels, ...spatial]. */
  dataFormat?: DataFormat;
}

/** A pooling's options, checked against inputs of `shape`. */
interface Resolved {
  window: number[];
  strides: number[];
  padding: PoolPadding;
  channelsFirst: boolean;
}

function resolve(op: string, shape: Shape, poolSize: SpatialInts, options: PoolOptions): Resolved {
  if (options === null || typeof options !== 'object') fail(op, `options must be an object, got ${JSON.stringify(options)}`);
  const d = shape.length - 2;
  if (d < 1 || d > 3) fail(op, `expected inputs of rank 3, 4 or 5 (batch, 1 to 3 spatial axes, channels), got shape ${fmtShape(shape)}`);
  const window = spatialInts(op, 'poolSize', poolSize, d, 1);
  const { strides, padding, channelsFirst } = resolveOptions(op, { ...options, strides: options.strides ?? window }, d);
  return { window, strides, padding: padding as PoolPadding, channelsFirst };
}

/**
 * Keras's output size along one axis: 'valid' floor((S - K) / s) + 1, refusing a window larger
 * than the input; 'same' ceil(S / s). Unknown sizes stay unknown.
 */
function outSize(op: string, shape: Shape, d: number, size: Dim, r: Resolved): Dim {
  const [k, s] = [r.window[d], r.strides[d]];
  if (size === null) return null;
  if (r.padding === 'same') return Math.ceil(size / s);
  if (size < k) {
    fail(op, `the window (${k}) is larger than spatial axis ${d} (${size}) of inputs of shape ${fmtShape(shape)} with padding 'valid': use padding 'same' or a smaller poolSize`);
  }
  return Math.floor((size - k) / s) + 1;
}

function spatialOf(shape: Shape, channelsFirst: boolean): Shape {
  return channelsFirst ? shape.slice(2) : shape.slice(1, -1);
}

/**
 * The shape maxPool and averagePool give for inputs of `shape` (errors under the name `op`), and
 * what pooling layers report for symbolic inputs: unknown sizes stay null.
 */
export function poolOutputShape(op: string, shape: Shape, poolSize: SpatialInts, options: PoolOptions = {}): Dim[] {
  const r = resolve(op, shape, poolSize, options);
  const out = spatialOf(shape, r.channelsFirst).map((size, d) => outSize(op, shape, d, size, r));
  return r.channelsFirst ? [shape[0], shape[1], ...out] : [shape[0], ...out, shape[shape.length - 1]];
}

function pool(op: 'maxPool' | 'averagePool', inputs: TensorLike, poolSize: SpatialInts, options: PoolOptions): Tensor {
  const t = asTensor(inputs, op);
  const r = resolve(op, t.shape, poolSize, options);
  // integers pool in float32, as they average and as the fused kernels take them
  const x = toChannelsLast(isFloat(t.dtype) ? t : cast(t, 'float32'), r.channelsFirst);
  const spatial = spatialOf(x.shape, false);
  // the padding depends on the sizes, so without them there is nothing to compose: the shape is recorded
  if (spatial.includes(null)) return unknownSpatial(op, [t], poolOutputShape(op, t.shape, poolSize, options), x.dtype);
  const sizes = spatial as number[];
  const y = fusedPool(x, {
    op: op === 'maxPool' ? 'max' : 'avg',
    window: r.window,
    strides: r.strides,
    padsBefore: sizes.map((size, d) => padsFor(r.padding, size, r.window[d], r.strides[d], 1)[0]),
    outSpatial: sizes.map((size, d) => outSize(op, t.shape, d, size, r)!),
  });
  return fromChannelsLast(y, r.channelsFirst);
}

/**
 * The max over each window of the spatial axes, per channel (keras.ops.max_pool). `poolSize` and
 * `strides` are one integer for every spatial axis or one per axis. Padding ('same') is never
 * the max; a NaN in a window makes its max NaN, as ops.max does, and its gradient goes in equal
 * shares to the positions that tie for the max.
 * @example
 * const x = kiln.tensor([1, 3, 2, 5, 4], [1, 5, 1]);
 * kiln.ops.maxPool(x, 2);                           // [[[3], [5]]]
 * kiln.ops.maxPool(x, 2, { padding: 'same' });      // [[[3], [5], [4]]]
 */
export function maxPool(inputs: TensorLike, poolSize: SpatialInts, options: PoolOptions = {}): Tensor {
  return pool('maxPool', inputs, poolSize, options);
}

/**
 * The mean over each window of the spatial axes, per channel (keras.ops.average_pool). With
 * padding 'same', a window at the edge averages the input positions it covers, not the padding.
 * @example
 * const x = kiln.tensor([1, 3, 2, 5, 4], [1, 5, 1]);
 * kiln.ops.averagePool(x, 2);                       // [[[2], [3.5]]]
 * kiln.ops.averagePool(x, 2, { padding: 'same' });  // [[[2], [3.5], [4]]]
 */
export function averagePool(inputs: TensorLike, poolSize: SpatialInts, options: PoolOptions = {}): Tensor {
  return pool('averagePool', inputs, poolSize, options);
}
