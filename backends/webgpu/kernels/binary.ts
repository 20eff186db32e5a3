import type { BinaryOp, DType, TensorInfo } from '../../contract.js';
import { elementwise } from './elementwise.js';
import type { GpuContext } from './wgsl.js';

/**
 * float32 rows, each a WGSL expression of `a` and `b` (functions in FLOAT_FUNCTIONS). Comparisons
 * write bool as u32; IEEE comparisons with NaN are false, as reference's are.
 */
const FLOAT: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'f_div(a, b)',
  pow: 'f_pow(a, b)',
  maximum: 'f_max(a, b)',
  minimum: 'f_min(a, b)',
  mod: 'f_mod(a, b)',
  floorDiv: 'f_floor_div(a, b)',
  equal: 'u32(a == b)',
  less: 'u32(a < b)',
  lessEqual: 'u32(a <= b)',
};

/** int32 rows: WGSL's i32 add, sub and mul wrap modulo 2^32, as reference's int32 stores do. */
const INT: Record<BinaryOp, string> = {
  ...FLOAT,
  // core gives integer division float32 outputs; this row is reference's: true division, truncated
  div: 'select(a / b, 0, b == 0)',
  pow: 'i_pow(a, b)',
  maximum: 'max(a, b)',
  minimum: 'min(a, b)',
  mod: 'i_mod(a, b)',
  floorDiv: 'i_floor_div(a, b)',
};

/**
 * bool (u32 0 or 1): minimum and maximum are AND and OR, comparisons compare 0 and 1. Core counts
 * bool as int32 in arithmetic (it casts first), so the arithmetic rows only keep the table whole.
 */
const BOOL: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'select(a / b, 0u, b == 0u)',
  pow: 'u32(i_pow(i32(a), i32(b)))',
  maximum: 'max(a, b)',
  minimum: 'min(a, b)',
  mod: 'u32(i_mod(i32(a), i32(b)))',
  floorDiv: 'u32(i_floor_div(i32(a), i32(b)))',
  equal: 'u32(a == b)',
  less: 'u32(a < b)',
  lessEqual: 'u32(a <= b)',
};

/** The float32 rows' functions, shared with the fused kernels that compose the same ops. */
export const FLOAT_FUNCTIONS = `
// x / ±0 written out: an implementation may assume no infinity arises and fold it otherwise.
// (Float tests here are == and <, never !=: a compiler may emit != as an ordered comparison,
// false for NaN.)
fn f_div(a: f32, b: f32) -> f32 {
  if (!(b == 0.0)) { return a / b; }
  if (a == 0.0 || m_isnan(a)) { return m_nan(); }
  return bitcast<f32>(((bitcast<u32>(a) ^ bitcast<u32>(b)) & 0x80000000u) | 0x7f800000u);
}
// NaN wins, as with Math.max; between ±0 the larger is +0 (AND of the bits), for min -0 (OR)
fn f_max(a: f32, b: f32) -> f32 {
  if (m_isnan(a)) { return a; }
  if (m_isnan(b)) { return b; }
  if (a == b) { return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b)); }
  return select(b, a, a > b);
}
fn f_min(a: f32, b: f32) -> f32 {
  if (m_isnan(a)) { return a; }
  if (m_isnan(b)) { return b; }
  if (a == b) { return bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b)); }
  return select(b, a, a < b);
}
// C's pow, as NumPy uses: x^0 = 1 and 1^y = 1 even for NaN, (-1)^±inf = 1, a negative base
// only to an integer power. Small integer powers multiply (at most 5 roundings); the others are
// e^(b·log|a|), whose error grows with |b·log|a|| <= 89 for a finite result.
fn f_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (m_isnan(a) || m_isnan(b)) { return m_nan(); }
  let mag = m_abs(a);
  if (m_isinf(b)) {
    if (mag == 1.0) { return 1.0; }
    return select(0.0, m_inf(), (mag > 1.0) == (b > 0.0));
  }
  let integer = floor(b) == b;
  if (a < 0.0 && !integer) { return m_nan(); }
  let odd = integer && m_abs(b) < 16777216.0 && (i32(m_abs(b)) & 1) == 1;
  var r: f32;
  if (mag == 0.0) {
    r = select(0.0, m_inf(), b < 0.0);
  } else if (integer && m_abs(b) <= 32.0) {
    var e = u32(m_abs(b));
    var base = mag;
    r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    if (b < 0.0) { r = f_div(1.0, r); }
  } else {
    r = m_exp(b * m_log(mag));
  }
  let negative = odd && (bitcast<u32>(a) & 0x80000000u) != 0u;
  return select(r, -r, negative);
}
// fmod, exact while |a / b| < 2^24: the truncated quotient, corrected by one where a / b rounded
// across an integer
fn f_fmod(a: f32, b: f32) -> f32 {
  if (m_isinf(b) && !m_isinf(a) && !m_isnan(a)) { return a; }
  var r = a - trunc(a / b) * b;
  let mb = m_abs(b);
  if (a >= 0.0 && r < 0.0) { r = r + mb; }
  if (a < 0.0 && r > 0.0) { r = r - mb; }
  if (m_abs(r) >= mb) { r = select(r + mb, r - mb, a >= 0.0); }
  return r;
}
// Python's %: the remainder takes the divisor's sign
fn f_mod(a: f32, b: f32) -> f32 {
  let r = f_fmod(a, b);
  if (r == 0.0) { return select(0.0, -0.0, b < 0.0); }
  if ((r < 0.0) != (b < 0.0)) { return r + b; }
  return r;
}
// NumPy's floor_divide: (a - fmod(a, b)) / b is within rounding of an integer, which
// floor(a / b) is not
fn f_floor_div(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return f_div(a, b); }
  let m = f_fmod(a, b);
  var d = (a - m) / b;
  if (!(m == 0.0) && (m < 0.0) != (b < 0.0)) { d = d - 1.0; }
  if (d == 0.0) { return select(0.0, -0.0, (bitcast<u32>(a) ^ bitcast<u32>(b)) >= 0x80000000u); }
  let fl = floor(d);
  return select(fl, fl + 1.0, d - fl > 0.5);
}`;

const INT_FUNCTIONS = `
// wrapping power by squaring; a negative power is the real one truncated toward zero
fn i_pow(a: i32, b: i32) -> i32 {
  if (b < 0) {
    if (a == 1) { return 1; }
    if (a == -1) { return select(-1, 1, (b & 1) == 0); }
    return 0;
  }
  var r = 1;
  var base = a;
  var e = b;
  loop {
    if (e == 0) { break; }
    if ((e & 1) == 1) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return r;
}
// Python's % and //; integer division by zero gives 0, as NumPy's does (WGSL's i32 % and /
// truncate, and give 0 and a for b = 0)
fn i_mod(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  let r = a % b;
  return select(r, r + b, r != 0 && (r < 0) != (b < 0));
}
fn i_floor_div(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  let q = a / b;
  return select(q, q - 1, a % b != 0 && (a < 0) != (b < 0));
}`;

export function binary(ctx: GpuContext, op: BinaryOp, a: TensorInfo, b: TensorInfo, out: TensorInfo): void {
  const [table, prelude] = a.dtype === 'float32' ? [FLOAT, FLOAT_FUNCTIONS] : a.dtype === 'int32' ? [INT, INT_FUNCTIONS] : [BOOL, INT_FUNCTIONS];
  elementwise(ctx, `binary:${op}`, table[op], [a, b], out, prelude);
}

/** out = cond ? a : b (bound as a, b, c: the condition first). */
export function where(ctx: GpuContext, cond: TensorInfo, a: TensorInfo, b: TensorInfo, out: TensorInfo): void {
  elementwise(ctx, 'where', 'select(c, b, a != 0u)', [cond, a, b], out);
}

const CAST_FUNCTIONS = `
// float to int32 as a typed-array store: truncate toward zero, NaN and ±inf to 0, and wrap
// modulo 2^32 past the range (where a float32 is already an integer, so the wrap is exact)
fn c_f2i(x: f32) -> i32 {
  if (m_isnan(x) || m_isinf(x)) { return 0; }
  let t = trunc(x);
  if (m_abs(t) < 2147483648.0) { return i32(t); }
  return bitcast<i32>(u32(t - 4294967296.0 * floor(t / 4294967296.0)));
}`;

function castExpr(from: DType, to: DType): string {
  if (from === to) return 'a';
  switch (`${from}>${to}`) {
    case 'float32>int32': return 'c_f2i(a)';
    // NaN != 0, so NaN casts to true, as in NumPy: the bits, not a comparison that may be folded
    case 'float32>bool': return 'u32((bitcast<u32>(a) & 0x7fffffffu) != 0u)';
    case 'int32>bool': return 'u32(a != 0)';
    default: return `${to === 'float32' ? 'f32' : to === 'int32' ? 'i32' : 'u32'}(a)`;
  }
}

/** Converts x to out.dtype: float to int truncates toward zero (NaN to 0), anything to bool is != 0. */
export function cast(ctx: GpuContext, x: TensorInfo, out: TensorInfo): void {
  elementwise(ctx, 'cast', castExpr(x.dtype, out.dtype), [x], out, x.dtype === 'float32' ? CAST_FUNCTIONS : '');
}
