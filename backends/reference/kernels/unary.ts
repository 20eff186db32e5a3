import type { TypedArray, UnaryOp } from '../../contract.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * Math.round sends halves toward +Infinity; NumPy and Keras send them to the even neighbour.
 * `r - x === 0.5` is exact for every |x| < 2^52, and larger doubles are already integers.
 */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * exp(-x²) to about an ulp: x*x rounds, and near x = 6 that rounding error alone is 4e-15 of
 * the result. z = fround(x) has 24 significant bits, so z*z is exact, and the rest of the
 * exponent, (x - z)(x + z), is small enough that its rounding does not show.
 */
function expNegSquare(x: number): number {
  const z = Math.fround(x);
  return Math.exp(-z * z) * Math.exp(-(x - z) * (x + z));
}

/** Maclaurin coefficients of erf(x) / (x · 2/√π) in x²: (-1)^n / (n! (2n + 1)). */
const ERF_SMALL: readonly number[] = (() => {
  const coefficients: number[] = [];
  let factorial = 1;
  // 18 terms: for x² < 1 the first one left out is below 1e-17 of the sum.
  for (let n = 0; n < 18; n++) {
    if (n > 0) factorial *= n;
    coefficients.push((n % 2 === 0 ? 1 : -1) / (factorial * (2 * n + 1)));
  }
  return coefficients;
})();

/**
 * erf within a few ulp (at most 6.4e-16 off, checked against mpmath), by ranges of |x|, each with
 * a form that cancels little there:
 * - below 1, the Maclaurin series: alternating, but its terms fall fast;
 * - from 1 to 2, erf(x) = 2/√π · x · e^{-x²} · Σ (2x²)^n / (1·3·…·(2n+1)), all terms positive;
 * - from 2 to 6, 1 - erfc(x), with erfc from its continued fraction
 *   e^{-x²}/√π / (x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …)))), evaluated from the tail up;
 * - from 6 on, erfc(x) < 2^-54, so erf(x) rounds to 1.
 * Each series or fraction is cut off deeper than the worst end of its range needs.
 */
function erf(x: number): number {
  const ax = Math.abs(x);
  // NaN takes the first branch, whose arithmetic passes it through.
  if (Number.isNaN(x) || ax < 1) {
    const t = x * x;
    let sum = 0;
    for (let n = ERF_SMALL.length - 1; n >= 0; n--) sum = sum * t + ERF_SMALL[n];
    return TWO_OVER_SQRT_PI * x * sum;
  }
  let r: number;
  if (ax < 2) {
    const c = 2 * ax * ax;
    let sum = 1;
    for (let n = 34; n >= 1; n--) sum = 1 + (sum * c) / (2 * n + 1);
    r = TWO_OVER_SQRT_PI * ax * expNegSquare(ax) * sum;
  } else if (ax < 6) {
    let fraction = ax;
    for (let n = 60; n >= 1; n--) fraction = ax + n / 2 / fraction;
    r = 1 - expNegSquare(ax) / (Math.sqrt(Math.PI) * fraction);
  } else {
    r = 1;
  }
  return x < 0 ? -r : r;
}

/** One row per op. Values are computed in double; storing into `out` rounds or truncates. */
const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sqrt: Math.sqrt,
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log1p: Math.log1p,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  erf,
  floor: Math.floor,
  round: roundHalfEven,
};

/** out[i] = op(x[i]). On int32, -(-2^31) wraps to -2^31 on store, as in NumPy. */
export function unary(op: UnaryOp, x: TypedArray, out: TypedArray): void {
  const f = UNARY[op];
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
}
