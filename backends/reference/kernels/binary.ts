import type { BinaryOp, DType, TypedArray } from '../../contract.js';
import { broadcastStrides, forEachRow, rowLength, rowStride } from './broadcast.js';

type BinaryFn = (a: number, b: number) => number;

/** C's pow, which NumPy uses, gives 1 for 1 ** anything and (-1) ** ±Infinity; JavaScript gives NaN. */
function floatPow(a: number, b: number): number {
  if (a === 1 || (a === -1 && Math.abs(b) === Infinity)) return 1;
  return Math.pow(a, b);
}

/** Python's remainder: fmod (JavaScript's %), moved by one divisor when the signs differ. */
function floatMod(a: number, b: number): number {
  const r = a % b;
  if (r === 0) return b < 0 ? -0 : 0;
  return (r < 0) !== (b < 0) ? r + b : r;
}

/**
 * NumPy's floor_divide for floats: (a - fmod(a, b)) / b is within rounding of an integer, which
 * Math.floor(a / b) is not (floor(1 / 0.1) would be 10, where 1 = 9 * 0.1 + 0.0999…).
 */
function floatFloorDiv(a: number, b: number): number {
  if (b === 0) return a / b;
  const mod = a % b;
  let div = (a - mod) / b;
  if (mod !== 0 && (mod < 0) !== (b < 0)) div -= 1;
  if (div === 0) {
    const q = a / b;
    return q < 0 || Object.is(q, -0) ? -0 : 0;
  }
  const floor = Math.floor(div);
  return div - floor > 0.5 ? floor + 1 : floor;
}

/** Wrapping integer power by squaring: a double power would lose low bits before the wrap. */
function intPow(base: number, exp: number): number {
  // NumPy refuses negative integer powers; this is the real power truncated toward zero.
  if (exp < 0) return base === 1 ? 1 : base === -1 ? (exp % 2 === 0 ? 1 : -1) : 0;
  let result = 1;
  for (; exp > 0; exp = Math.floor(exp / 2)) {
    if (exp % 2 === 1) result = Math.imul(result, base);
    base = Math.imul(base, base);
  }
  return result;
}

function intMod(a: number, b: number): number {
  if (b === 0) return 0;
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}

/** Integer quotients are exact enough in double (|a|, |b| < 2^31) for floor to be right. */
function intFloorDiv(a: number, b: number): number {
  return b === 0 ? 0 : Math.floor(a / b);
}

/** One row per op, computed in double; storing into `out` rounds (float32) or wraps (int32). */
const FLOAT_OPS: Record<BinaryOp, BinaryFn> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: floatPow,
  maximum: Math.max,
  minimum: Math.min,
  mod: floatMod,
  floorDiv: floatFloorDiv,
  equal: (a, b) => (a === b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  lessEqual: (a, b) => (a <= b ? 1 : 0),
};

/**
 * Where integer results differ from the float rows. int32 add and sub are exact in double
 * before the wrap, but a product can pass 2^53, so mul wraps with Math.imul. Integer division
 * by zero gives 0, as NumPy does (with a warning). div stays true division, truncated on store.
 */
const INT_OPS: Record<BinaryOp, BinaryFn> = {
  ...FLOAT_OPS,
  mul: Math.imul,
  pow: intPow,
  mod: intMod,
  floorDiv: intFloorDiv,
};

function isFloat(x: TypedArray): boolean {
  return x instanceof Float32Array || x instanceof Float64Array;
}

/** out = op(a, b), with a and b broadcast to outShape. Comparisons write 1 or 0 into a bool out. */
export function binary(
  op: BinaryOp,
  a: TypedArray, aShape: readonly number[],
  b: TypedArray, bShape: readonly number[],
  out: TypedArray, outShape: readonly number[],
): void {
  const f = (isFloat(a) ? FLOAT_OPS : INT_OPS)[op];
  const n = out.length;
  // An input as large as out, broadcasting to it, has out's layout: only size-1 dims differ.
  if (a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
  } else if (a.length === 1 && b.length === n) {
    const s = a[0];
    for (let i = 0; i < n; i++) out[i] = f(s, b[i]);
  } else if (b.length === 1 && a.length === n) {
    const s = b[0];
    for (let i = 0; i < n; i++) out[i] = f(a[i], s);
  } else {
    const aStrides = broadcastStrides(aShape, outShape);
    const bStrides = broadcastStrides(bShape, outShape);
    const length = rowLength(outShape);
    const aStep = rowStride(aStrides);
    const bStep = rowStride(bStrides);
    forEachRow(outShape, [aStrides, bStrides], (start, offsets) => {
      const ai = offsets[0];
      const bi = offsets[1];
      for (let j = 0; j < length; j++) out[start + j] = f(a[ai + j * aStep], b[bi + j * bStep]);
    });
  }
}

/** out = cond ? a : b, all three broadcast to outShape. */
export function where(
  cond: TypedArray, condShape: readonly number[],
  a: TypedArray, aShape: readonly number[],
  b: TypedArray, bShape: readonly number[],
  out: TypedArray, outShape: readonly number[],
): void {
  const n = out.length;
  if (cond.length === n && a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = cond[i] ? a[i] : b[i];
    return;
  }
  const strides = [condShape, aShape, bShape].map((shape) => broadcastStrides(shape, outShape));
  const [cStep, aStep, bStep] = strides.map(rowStride);
  const length = rowLength(outShape);
  forEachRow(outShape, strides, (start, offsets) => {
    const ci = offsets[0];
    const ai = offsets[1];
    const bi = offsets[2];
    for (let j = 0; j < length; j++) {
      out[start + j] = cond[ci + j * cStep] ? a[ai + j * aStep] : b[bi + j * bStep];
    }
  });
}

/**
 * Converts x into out's dtype. Typed-array stores already do the numeric cases: to int32 they
 * truncate toward zero (NaN to 0, out-of-range values wrap modulo 2^32), and ints and bools are
 * exact in float. Only bool needs `!= 0`, which a Uint8Array store would not do (it wraps).
 */
export function cast(x: TypedArray, out: TypedArray, outDtype: DType): void {
  if (outDtype === 'bool') {
    // NaN != 0, so NaN casts to true, as in NumPy.
    for (let i = 0; i < x.length; i++) out[i] = x[i] !== 0 ? 1 : 0;
  } else {
    out.set(x);
  }
}
