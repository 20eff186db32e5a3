/** Float64 definitions the expected values are computed from, where JavaScript's Math has none. */

/** erf to float64 precision: 2/√π · e^(-x²) · Σ (2x²)^n x / (2n+1)!!, all terms positive. */
export function erf64(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) > 6) return Math.sign(x);
  let term = x;
  let total = x;
  for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(total); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    total += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * total;
}

/** Round half to even, as NumPy does. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Python's % (NumPy's mod): the remainder takes the divisor's sign. */
export function pyMod(a: number, b: number): number {
  const m = a % b;
  return m !== 0 && b < 0 !== m < 0 ? m + b : m;
}

/** C's pow (NumPy's power): 1 to any power is 1, anything to the power 0 is 1, NaN included. */
export function cPow(a: number, b: number): number {
  return a === 1 || b === 0 ? 1 : Math.pow(a, b);
}
