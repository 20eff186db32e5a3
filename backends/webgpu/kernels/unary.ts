import type { TensorInfo, UnaryOp } from '../../contract.js';
import { elementwise } from './elementwise.js';
import type { GpuContext } from './wgsl.js';

/**
 * One WGSL expression of `a` per op, on float32 (the m_ functions are in math.ts). Core sends
 * integers only to neg and abs (the others compute ints in float32, and rounding is the identity
 * on them).
 */
const FLOAT: Record<UnaryOp, string> = {
  neg: '-a',
  abs: 'm_abs(a)',
  // a negative argument is NaN by the IEEE rule, which an implementation need not keep
  sqrt: 'select(sqrt(a), m_nan(), a < 0.0)',
  exp: 'm_exp(a)',
  expm1: 'm_expm1(a)',
  log: 'm_log(a)',
  log1p: 'm_log1p(a)',
  sin: 'm_sincos(a).x',
  cos: 'm_sincos(a).y',
  tanh: 'm_tanh(a)',
  erf: 'm_erf(a)',
  floor: 'floor(a)',
  // half to even, from floor: x - floor(x) is exact, so the tie test is too
  round: 'round_half_even(a)',
};

/** int32: negation and abs wrap (-(-2^31) is -2^31), as WGSL's i32 arithmetic does. */
const INT: Partial<Record<UnaryOp, string>> = { neg: '-a', abs: 'abs(a)', floor: 'a', round: 'a' };

const ROUND = `
fn round_half_even(x: f32) -> f32 {
  let f = floor(x);
  let d = x - f;
  if (d > 0.5 || (d == 0.5 && f - 2.0 * floor(f * 0.5) == 1.0)) { return f + 1.0; }
  return f;
}`;

export function unary(ctx: GpuContext, op: UnaryOp, x: TensorInfo, out: TensorInfo): void {
  if (x.dtype === 'float32') {
    elementwise(ctx, `unary:${op}`, FLOAT[op], [x], out, op === 'round' ? ROUND : '');
  } else {
    elementwise(ctx, `unary:${op}`, INT[op] ?? 'a', [x], out);
  }
}
