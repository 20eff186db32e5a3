import type { FusedActivation, TypedArray } from '../../contract.js';
import { matmul } from './matmul.js';

/** 1 / (1 + exp(-z)) from exp(-|z|), as ops.sigmoid computes it, so that nothing overflows. */
function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

const ACTIVATE: Record<FusedActivation, (z: number) => number> = {
  linear: (z) => z,
  // as ops.relu has it, so NaN stays NaN (C's fmax(z, 0) would give 0)
  relu: (z) => (z <= 0 ? 0 : z),
  sigmoid,
  tanh: Math.tanh,
};

/** dy · act'(y), from the activation's output y alone (linear passes dy as it is). */
const BACK: Record<Exclude<FusedActivation, 'linear'>, (dy: number, y: number) => number> = {
  // a select rather than dy times a mask: relu's composed gradient is where's, which gives 0
  // (not NaN) beside an infinite dy
  relu: (dy, y) => (y > 0 ? dy : 0),
  sigmoid: (dy, y) => dy * y * (1 - y),
  tanh: (dy, y) => dy * (1 - y * y),
};

/** out = act(x · w + bias), x [m, k], w [k, n], bias [n] or null, out [m, n]. */
export function dense(
  x: TypedArray, xShape: readonly number[], w: TypedArray, wShape: readonly number[],
  bias: TypedArray | null, activation: FusedActivation, out: TypedArray,
): void {
  const m = xShape[0];
  const n = wShape[1];
  // The product lands in out first, so float32 rounds it before the bias is added, as the
  // composed matmul-then-add does.
  matmul(x, xShape, w, wShape, false, false, out, [m, n]);
  const act = ACTIVATE[activation];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const o = i * n + j;
      out[o] = act(bias ? out[o] + bias[j] : out[o]);
    }
  }
}

/**
 * Dense's backward from its output y and y's gradient dy (both [m, n]): dz = dy · act'(y), then
 * dx = dz · wᵀ, dw = xᵀ · dz and dBias = dz summed over rows, each only when wanted.
 */
export function denseGrad(
  dy: TypedArray, y: TypedArray, x: TypedArray, xShape: readonly number[], w: TypedArray, wShape: readonly number[],
  activation: FusedActivation, dx: TypedArray | null, dw: TypedArray | null, dBias: TypedArray | null,
): void {
  const [m, k] = xShape;
  const n = wShape[1];
  // dz is held in dy's precision, as the composed gradient holds it
  let dz = dy;
  if (activation !== 'linear') {
    dz = dy.slice();
    const back = BACK[activation];
    for (let i = 0; i < dz.length; i++) dz[i] = back(dy[i], y[i]);
  }
  if (dx) matmul(dz, [m, n], w, [k, n], false, true, dx, [m, k]);
  if (dw) matmul(x, [m, k], dz, [m, n], true, false, dw, [k, n]);
  if (dBias) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let i = 0; i < m; i++) sum += dz[i * n + j];
      dBias[j] = sum;
    }
  }
}
