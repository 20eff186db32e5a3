import type { TypedArray } from '../../contract.js';

/** The largest of n values from `start`; NaN wins, as in the max reduction, so a NaN row stays NaN. */
function rowMax(x: TypedArray, start: number, n: number): number {
  let max = -Infinity;
  for (let j = start; j < start + n; j++) if (x[j] > max || x[j] !== x[j]) max = x[j];
  return max;
}

/** Σ exp(x - max) over n values from `start`. */
function expSum(x: TypedArray, start: number, n: number, max: number): number {
  let sum = 0;
  for (let j = start; j < start + n; j++) sum += Math.exp(x[j] - max);
  return sum;
}

/** Softmax (log-softmax when `log`) over the last axis, max-shifted so that large logits are exact. */
export function softmax(x: TypedArray, shape: readonly number[], log: boolean, out: TypedArray): void {
  const n = shape[shape.length - 1];
  for (let o = 0; o < x.length; o += n) {
    const max = rowMax(x, o, n);
    const sum = expSum(x, o, n, max);
    const logSum = Math.log(sum);
    for (let j = o; j < o + n; j++) out[j] = log ? x[j] - max - logSum : Math.exp(x[j] - max) / sum;
  }
}

/** Back through softmax from its output y: y·(dy - Σ dy·y); through log-softmax: dy - exp(y)·Σ dy. */
export function softmaxGrad(dy: TypedArray, y: TypedArray, shape: readonly number[], log: boolean, out: TypedArray): void {
  const n = shape[shape.length - 1];
  for (let o = 0; o < y.length; o += n) {
    let sum = 0;
    for (let j = o; j < o + n; j++) sum += log ? dy[j] : dy[j] * y[j];
    for (let j = o; j < o + n; j++) out[j] = log ? dy[j] - Math.exp(y[j]) * sum : y[j] * (dy[j] - sum);
  }
}

/** What crossentropy needs of one row of pred, beside its values. */
interface Row {
  /** Σp for probabilities, Σexp(x - max) for logits. */
  sum: number;
  /** The row's max, for logits. */
  max: number;
  /** The class of an int32 label; -1 for label rows; NaN for an out-of-range label. */
  label: number;
}

type Round = (v: number) => number;

/** Stores a value in the precision of `a`. */
export const roundFor = (a: TypedArray): Round => (a instanceof Float32Array ? Math.fround : (v) => v);

/**
 * A row's label and sums. An int32 label outside [0, n) makes the row NaN rather than read
 * another row's values: core checks labels, but a kernel must not crash on one that slips by.
 */
function rowOf(pred: TypedArray, labels: TypedArray, r: number, n: number, fromLogits: boolean, round: Round): Row {
  const o = r * n;
  let label = -1;
  if (labels instanceof Int32Array) label = labels[r] >= 0 && labels[r] < n ? labels[r] : NaN;
  if (fromLogits) {
    const max = rowMax(pred, o, n);
    return { sum: expSum(pred, o, n, max), max, label };
  }
  let sum = 0;
  for (let j = o; j < o + n; j++) sum += pred[j];
  // the composed sum is stored in pred's precision before it divides
  return { sum: round(sum), max: 0, label };
}

/** t_c: the one-hot of an int32 label, or the label row's value. */
function weight(labels: TypedArray, row: Row, r: number, n: number, c: number): number {
  return labels instanceof Int32Array ? (c === row.label ? 1 : 0) : labels[r * n + c];
}

/**
 * Per-row crossentropy of pred [rows, n] against int32 labels [rows] or label rows [rows, n], as
 * the composed loss computes it: -Σ t_c·log-probability_c, from logits by log-softmax, from
 * probabilities by log(minimum(maximum(q, ε), 1 - ε)) with q = p / Σp. q and the bounds are
 * rounded to pred's precision, as the composed divide and clip hold them: which side of a bound
 * q falls on decides the gradient.
 */
export function crossEntropy(
  pred: TypedArray, shape: readonly number[], labels: TypedArray, fromLogits: boolean, epsilon: number, out: TypedArray,
): void {
  const n = shape[shape.length - 1];
  const round = roundFor(pred);
  const lo = round(epsilon);
  const hi = round(1 - epsilon);
  for (let r = 0; r < out.length; r++) {
    const row = rowOf(pred, labels, r, n, fromLogits, round);
    if (Number.isNaN(row.label)) {
      out[r] = NaN;
      continue;
    }
    let loss = 0;
    for (let c = 0; c < n; c++) {
      const t = weight(labels, row, r, n, c);
      // a sparse label picks one class: the others add nothing, not even 0·-Infinity
      if (labels instanceof Int32Array && t === 0) continue;
      const p = pred[r * n + c];
      const logP = fromLogits
        ? p - row.max - Math.log(row.sum)
        : Math.log(Math.min(Math.max(round(p / row.sum), lo), hi));
      loss -= t * logP;
    }
    out[r] = loss;
  }
}

/**
 * crossEntropy's gradient with respect to pred, each row scaled by its dy. From logits it is
 * dy·(softmax·Σt - t). From probabilities it is the chain rule through the composition, with
 * kiln's tie rules: maximum(q, ε) passes the gradient to q when q >= ε, minimum(·, 1 - ε) when
 * its input is <= 1 - ε, so the clip passes it on [ε, 1 - ε], bounds included; then through
 * q = p / Σp, dp_j = g_j / Σp - Σ_c g_c·p_c / (Σp)².
 */
export function crossEntropyGrad(
  pred: TypedArray, shape: readonly number[], labels: TypedArray, fromLogits: boolean, epsilon: number,
  dy: TypedArray, out: TypedArray,
): void {
  const n = shape[shape.length - 1];
  const round = roundFor(pred);
  const lo = round(epsilon);
  const hi = round(1 - epsilon);
  const g = new Float64Array(n);
  for (let r = 0; r < dy.length; r++) {
    const o = r * n;
    const row = rowOf(pred, labels, r, n, fromLogits, round);
    if (Number.isNaN(row.label)) {
      out.fill(NaN, o, o + n);
      continue;
    }
    if (fromLogits) {
      let total = 0;
      for (let c = 0; c < n; c++) total += weight(labels, row, r, n, c);
      for (let c = 0; c < n; c++) {
        const softmax = Math.exp(pred[o + c] - row.max) / row.sum;
        out[o + c] = dy[r] * (softmax * total - weight(labels, row, r, n, c));
      }
      continue;
    }
    // g = the gradient with respect to q; the masks multiply, as maximum's and minimum's rules do
    let gp = 0;
    for (let c = 0; c < n; c++) {
      const q = round(pred[o + c] / row.sum);
      const passes = (q >= lo ? 1 : 0) * (Math.max(q, lo) <= hi ? 1 : 0);
      g[c] = ((-dy[r] * weight(labels, row, r, n, c)) / Math.min(Math.max(q, lo), hi)) * passes;
      gp += g[c] * pred[o + c];
    }
    for (let c = 0; c < n; c++) out[o + c] = g[c] / row.sum - gp / (row.sum * row.sum);
  }
}
