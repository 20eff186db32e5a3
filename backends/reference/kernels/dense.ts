import type { FusedActivation, TypedArray } from '../../contract.js';
import { ACTIVATE, activationGrad } from './activation.js';
import { matmul } from './matmul.js';

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
  const dz = activationGrad(dy, y, activation);
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
