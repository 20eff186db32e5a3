import type { TypedArray } from '../../contract.js';
import { roundFor } from './softmax.js';

/** Σ over rows of f(r, c) for each channel c of a [rows, C] layout. */
function channelSums(rows: number, C: number, f: (i: number, c: number) => number): number[] {
  const sums = new Array<number>(C).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) sums[c] += f(r * C + c, c);
  }
  return sums;
}

/** Mean and biased variance per channel (last axis) of x, into out [2, C]: the variance is taken around the stored mean. */
export function moments(x: TypedArray, shape: readonly number[], out: TypedArray): void {
  const C = shape[shape.length - 1];
  const rows = x.length / C;
  const sums = channelSums(rows, C, (i) => x[i]);
  for (let c = 0; c < C; c++) out[c] = sums[c] / rows;
  const squares = channelSums(rows, C, (i, c) => (x[i] - out[c]) ** 2);
  for (let c = 0; c < C; c++) out[C + c] = squares[c] / rows;
}

/** dx = dMean / rows + dVariance · 2 (x - mean) / rows, from dy = [dMean; dVariance] and y = [mean; variance]. */
export function momentsGrad(dy: TypedArray, y: TypedArray, x: TypedArray, shape: readonly number[], dx: TypedArray): void {
  const C = shape[shape.length - 1];
  const rows = x.length / C;
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    dx[i] = dy[c] / rows + (dy[C + c] * 2 * (x[i] - y[c])) / rows;
  }
}

/** inv = rsqrt(variance + epsilon) · gamma and shift = beta - mean · inv, each rounded to x's dtype. */
function fold(x: TypedArray, mean: TypedArray, variance: TypedArray, gamma: TypedArray | null, beta: TypedArray | null, epsilon: number) {
  const round = roundFor(x);
  const inv = Array.from(variance, (v, c) => {
    const r = round(1 / Math.sqrt(round(v + epsilon)));
    return gamma ? round(r * gamma[c]) : r;
  });
  const shift = inv.map((s, c) => {
    const t = round(-mean[c] * s);
    return beta ? round(t + beta[c]) : t;
  });
  return { inv, shift };
}

/** out = x · inv + shift along the last axis. */
export function batchNorm(
  x: TypedArray, shape: readonly number[], mean: TypedArray, variance: TypedArray, gamma: TypedArray | null, beta: TypedArray | null,
  epsilon: number, out: TypedArray,
): void {
  const C = shape[shape.length - 1];
  const round = roundFor(x);
  const { inv, shift } = fold(x, mean, variance, gamma, beta, epsilon);
  for (let i = 0; i < x.length; i++) out[i] = round(x[i] * inv[i % C]) + shift[i % C];
}

/** batchNorm's gradients (see the contract); a null output is not wanted. */
export function batchNormGrad(
  dy: TypedArray, x: TypedArray, shape: readonly number[], mean: TypedArray, variance: TypedArray, gamma: TypedArray | null,
  epsilon: number, dx: TypedArray | null, dMean: TypedArray | null, dVariance: TypedArray | null, dGamma: TypedArray | null,
  dBeta: TypedArray | null,
): void {
  const C = shape[shape.length - 1];
  const rows = x.length / C;
  const r = Array.from(variance, (v) => 1 / Math.sqrt(v + epsilon));
  const g = (c: number) => (gamma ? gamma[c] : 1);
  const sumDy = channelSums(rows, C, (i) => dy[i]);
  const sumDyCentred = channelSums(rows, C, (i, c) => dy[i] * (x[i] - mean[c]));
  for (let c = 0; c < C; c++) {
    if (dMean) dMean[c] = -sumDy[c] * r[c] * g(c);
    if (dVariance) dVariance[c] = -0.5 * sumDyCentred[c] * g(c) * r[c] ** 3;
    if (dGamma) dGamma[c] = sumDyCentred[c] * r[c];
    if (dBeta) dBeta[c] = sumDy[c];
  }
  if (dx) for (let i = 0; i < x.length; i++) dx[i] = dy[i] * r[i % C] * g(i % C);
}

/** A row's mean and variance as layerNorm takes them: the sums in double, every step rounded to the dtype. */
function rowMoments(x: TypedArray, o: number, C: number, round: (v: number) => number): { mean: number; variance: number } {
  let s = 0;
  for (let c = 0; c < C; c++) s += x[o + c];
  const mean = round(round(s) / C);
  let s2 = 0;
  for (let c = 0; c < C; c++) {
    const d = round(x[o + c] - mean);
    s2 += round(d * d);
  }
  return { mean, variance: round(round(s2) / C) };
}

/** Layer normalization over the last axis of x [rows, C] (see the contract). */
export function layerNorm(
  x: TypedArray, shape: readonly number[], gamma: TypedArray | null, beta: TypedArray | null, epsilon: number, out: TypedArray,
): void {
  const C = shape[shape.length - 1];
  const round = roundFor(x);
  for (let o = 0; o < x.length; o += C) {
    const { mean, variance } = rowMoments(x, o, C, round);
    const r = round(1 / round(Math.sqrt(round(variance + round(epsilon)))));
    for (let c = 0; c < C; c++) {
      const inv = gamma ? round(r * gamma[c]) : r;
      const shift = round(-mean * inv);
      out[o + c] = round(round(x[o + c] * inv) + (beta ? round(shift + beta[c]) : shift));
    }
  }
}

/** layerNorm's gradients (see the contract); a null output is not wanted. */
export function layerNormGrad(
  dy: TypedArray, x: TypedArray, shape: readonly number[], gamma: TypedArray | null, epsilon: number,
  dx: TypedArray | null, dGamma: TypedArray | null, dBeta: TypedArray | null,
): void {
  const C = shape[shape.length - 1];
  const round = roundFor(x);
  const sumDyXHat = new Array<number>(C).fill(0);
  const sumDy = new Array<number>(C).fill(0);
  for (let o = 0; o < x.length; o += C) {
    const { mean, variance } = rowMoments(x, o, C, round);
    const rstd = 1 / Math.sqrt(variance + round(epsilon));
    const xHat = (c: number) => (x[o + c] - mean) * rstd;
    const g = (c: number) => dy[o + c] * (gamma ? gamma[c] : 1);
    let meanG = 0;
    let meanGXHat = 0;
    for (let c = 0; c < C; c++) {
      meanG += g(c) / C;
      meanGXHat += (g(c) * xHat(c)) / C;
      sumDyXHat[c] += dy[o + c] * xHat(c);
      sumDy[c] += dy[o + c];
    }
    if (dx) for (let c = 0; c < C; c++) dx[o + c] = rstd * (g(c) - meanG - xHat(c) * meanGXHat);
  }
  for (let c = 0; c < C; c++) {
    if (dGamma) dGamma[c] = sumDyXHat[c];
    if (dBeta) dBeta[c] = sumDy[c];
  }
}
