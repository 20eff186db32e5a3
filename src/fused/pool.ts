import type { PoolGeometry, PoolOp } from '../../backends/contract.js';
import { isFloat } from '../dtype.js';
import { ENGINE } from '../engine.js';
import { tensorFrom } from '../convert.js';
import type { Tensor } from '../tensor.js';
import { divide, equal } from '../ops/binary.js';
import { PAD, SLICE, stack } from '../ops/movement.js';
import { max, sum } from '../ops/reduce.js';
import { where } from '../ops/select.js';
import { defineFused } from './define.js';

/** A pooling of channels-last x [N, ...S, C], its geometry resolved by core against S. */
export interface PoolAttrs extends PoolGeometry {
  readonly op: PoolOp;
  /** The output's spatial sizes O; with padsBefore they fix the padding after each axis. */
  readonly outSpatial: readonly number[];
}

/** Every window offset (a position inside the window, per axis), row-major. */
function offsets(window: readonly number[]): number[][] {
  return window.reduce<number[][]>((acc, k) => acc.flatMap((o) => Array.from({ length: k }, (_, i) => [...o, i])), [[]]);
}

/** How many of each output position's window positions fall inside [0, S), as a [...O, 1] grid. */
function insideCounts(spatial: readonly number[], a: PoolAttrs): number[] {
  const perAxis = spatial.map((size, d) => Array.from({ length: a.outSpatial[d] }, (_, o) => {
    const start = o * a.strides[d] - a.padsBefore[d];
    return Math.min(size, start + a.window[d]) - Math.max(0, start);
  }));
  return perAxis.reduce<number[]>((acc, counts) => acc.flatMap((c) => counts.map((n) => c * n)), [1]);
}

/**
 * Pooling from primitives: x padded (with -Infinity for max, so padding never wins; with 0 for
 * an average, so it adds nothing), one strided slice per window offset stacked on a new last
 * axis, then a max, or a sum divided by each window's count of inside positions.
 */
function composedPool([x]: readonly Tensor[], a: PoolAttrs): Tensor {
  const spatial = x.shape.slice(1, -1) as number[];
  const after = spatial.map((s, d) => Math.max(0, (a.outSpatial[d] - 1) * a.strides[d] + a.window[d] - s - a.padsBefore[d]));
  const padded = after.some((p, d) => p > 0 || a.padsBefore[d] > 0);
  const pads = [[0, 0] as const, ...spatial.map((_, d) => [a.padsBefore[d], after[d]] as const), [0, 0] as const];
  const xp = padded ? ENGINE.run(PAD, [x], { pads, value: a.op === 'max' ? -Infinity : 0 }) : x;
  const windows = stack(offsets(a.window).map((k) => ENGINE.run(SLICE, [xp], {
    begin: [0, ...k, 0],
    size: [-1, ...a.outSpatial, -1],
    step: [1, ...a.strides, 1],
  })), -1);
  const counts = padded
    ? tensorFrom(insideCounts(spatial, a), [...a.outSpatial, 1], x.dtype)
    : a.window.reduce((p, k) => p * k, 1);
  if (a.op === 'avg') return divide(sum(windows, -1), counts);
  const y = max(windows, -1);
  if (!padded) return y;
  // A window whose inside is all -Infinity ties with its padding, and max's gradient would give
  // the padding a share. Ties among the inside positions alone are what the kernel counts: all of
  // them, each dy / count, which is the average's gradient (and its value, -Infinity, the same).
  return where(equal(y, -Infinity), divide(sum(windows, -1), counts), y);
}

const POOL = defineFused({
  kernel: 'pool',
  infer: ([x], a: PoolAttrs) => ({ shape: [x.shape[0], ...a.outSpatial, x.shape[x.shape.length - 1]], dtype: x.dtype }),
  compose: composedPool,
  applies: ([x]) => isFloat(x.dtype) && x.size > 0,
  run: (pool, [x], out, a) => pool(a.op, x, a, out),
  // one pass over the windows, instead of a scatter per window offset and axis
  backward: {
    kernel: 'poolGrad',
    infer: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
    run: (poolGrad, dy, y, [x], [dx], a) => poolGrad(a.op, dy, x, y, a, dx!),
  },
});

/**
 * Max or average pooling of float channels-last `x` with a geometry core has checked: the
 * backend's fused kernel where it has one, else composed.
 */
export function fusedPool(x: Tensor, attrs: PoolAttrs): Tensor {
  return POOL.apply([x], attrs);
}
