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
