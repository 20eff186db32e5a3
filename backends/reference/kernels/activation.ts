import type { FusedActivation, TypedArray } from '../../contract.js';

/** 1 / (1 + exp(-z)) from exp(-|z|), as ops.sigmoid computes it, so that nothing overflows. */
function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** The activations a fused kernel applies to its output (dense, conv). */
export const ACTIVATE: Record<FusedActivation, (z: number) => number> = {
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

/**
 * dz = dy · act'(y) elementwise, held in dy's precision as the composed gradient holds it; for
 * linear, dy itself.
 */
export function activationGrad(dy: TypedArray, y: TypedArray, activation: FusedActivation): TypedArray {
  if (activation === 'linear') return dy;
  const dz = dy.slice();
  const back = BACK[activation];
  for (let i = 0; i < dz.length; i++) dz[i] = back(dy[i], y[i]);
  return dz;
}
