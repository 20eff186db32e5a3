import type { FusedActivation } from '../../contract.js';

/**
 * The activations the fused kernels apply, as WGSL functions of the pre-activation z, written as
 * the composed ops compute them: relu as ops.relu's select (NaN stays NaN), sigmoid from
 * e^{-|z|} as ops.sigmoid, so that nothing overflows.
 */
export function activate(activation: FusedActivation): string {
  switch (activation) {
    case 'linear': return 'fn act(z: f32) -> f32 { return z; }';
    case 'relu': return 'fn act(z: f32) -> f32 { return select(z, 0.0, z <= 0.0); }';
    case 'tanh': return 'fn act(z: f32) -> f32 { return m_tanh(z); }';
    case 'sigmoid': return `fn act(z: f32) -> f32 {
  let pos = z >= 0.0;
  let e = m_exp(select(z, -z, pos));
  let d = e + 1.0;
  return select(f_div(e, d), f_div(1.0, d), pos);
}`;
  }
}

/**
 * dy · act'(y) from the activation's output y, as the composed gradients compute it: relu's is
 * a select (0 beside an infinite dy, not NaN), sigmoid's dy·y(1 - y), tanh's dy(1 - y²).
 */
export function activateBack(activation: FusedActivation): string {
  switch (activation) {
    case 'linear': return 'dy';
    case 'relu': return 'select(dy, 0.0, y <= 0.0)';
    case 'sigmoid': return 'dy * y * (1.0 - y)';
    case 'tanh': return 'dy * (1.0 - y * y)';
  }
}
