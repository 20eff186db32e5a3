/**
 * The result checks run before timing: a speed is reported only for a result that is right. Each
 * check recomputes a sample of the engine's output in float64 from the very inputs (and weights)
 * the engine used, and bounds the float32 error the classical way (Higham, Accuracy and Stability
 * of Numerical Algorithms, §3.1: a k-term dot product is off by at most γ_k·Σ|xᵢyᵢ|, γ_k ≈ k·u),
 * with a factor 2 of slack. The bound holds for any summation order, blocking or FMA, so it passes
 * every correct kernel and still sits orders of magnitude below what a misplaced block or bias
 * does. A sample, not the whole output: whole rows and columns (a wrong column or row block shows
 * in them) and scattered entries, so that a check costs milliseconds, not another product.
 */
import type { Computed } from './engines/engine.js';

/** float32's unit roundoff. */
export const U = 2 ** -24;

/** How every failed check's message begins (run.ts shows those rows as they come). */
export const CHECK_FAILED = 'result check failed';

/** A result outside its bound: the engine's figure for that case is replaced by this message. */
export class CheckFailed extends Error {}

/** A small seeded generator (mulberry32), so that a failing sample is the same on every run. */
export function sampler(seed: number): (below: number) => number {
  let s = seed >>> 0;
  return (below) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * below);
  };
}

const num = (v: number): string => (Number.isFinite(v) ? v.toPrecision(8) : String(v));

/** Tallies the sampled entries and remembers the first one outside its bound. */
export class Tally {
  checked = 0;
  wrong = 0;
  first = '';
  /** The largest |got − want| ÷ bound seen: how close a correct result came to failing. */
  worst = 0;

  entry(at: string, got: number, want: number, bound: number): void {
    this.checked++;
    this.worst = Math.max(this.worst, Math.abs(got - want) / bound);
    // written so that a NaN on either side fails
    if (Math.abs(got - want) <= bound) return;
    // no '|' in the message: it goes into a markdown table's notes
    if (this.wrong++ === 0) this.first = `at ${at}: got ${num(got)}, want ${num(want)} ± ${bound.toExponential(2)}`;
  }

  /** Throws CheckFailed naming the first wrong entry, if any; else says what was checked. */
  verdict(): string {
    if (this.wrong > 0) throw new CheckFailed(`${CHECK_FAILED} ${this.first}; ${this.wrong} of ${this.checked} sampled entries wrong`);
    return `${this.checked} sampled entries within the float32 bound (worst at ${(100 * this.worst).toPrecision(2)}% of its bound)`;
  }
}

/**
 * W1: C = A·B (n×n, row-major). Samples two whole rows and two whole columns (the last ones, where
 * block tails live, and one at random), the four corners and 256 random entries, each against the
 * float64 dot product with |got − want| ≤ 2·n·u·Σₚ|aᵢₚbₚⱼ|; then every row's sum, coarsely (below).
 * About 7n² multiply-adds: well under a second at n = 2048.
 */
export function checkGemm(n: number, { inputs: [a, b], output: c }: Computed): string {
  if (a?.length !== n * n || b?.length !== n * n || c.length !== n * n) {
    throw new CheckFailed(`${CHECK_FAILED}: expected n×n = ${n * n} values in A, B and C, got ${a?.length}, ${b?.length}, ${c.length}`);
  }
  const pick = sampler(n);
  const tally = new Tally();
  const gamma = 2 * n * U;
  const entry = (i: number, j: number, want: number, abs: number) => tally.entry(`(${i}, ${j})`, c[i * n + j], want, gamma * abs);

  const want = new Float64Array(n);
  const abs = new Float64Array(n);
  for (const i of [n - 1, pick(n)]) {
    // row i of C in one pass over B's rows, in float64
    want.fill(0);
    abs.fill(0);
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p];
      for (let j = 0, q = p * n; j < n; j++, q++) {
        want[j] += x * b[q];
        abs[j] += Math.abs(x * b[q]);
      }
    }
    for (let j = 0; j < n; j++) entry(i, j, want[j], abs[j]);
  }
  const column = new Float64Array(n);
  const dot = (i: number): [number, number] => {
    let s = 0;
    let t = 0;
    for (let p = 0; p < n; p++) {
      const v = a[i * n + p] * column[p];
      s += v;
      t += Math.abs(v);
    }
    return [s, t];
  };
  for (const j of [n - 1, pick(n)]) {
    for (let p = 0; p < n; p++) column[p] = b[p * n + j];
    for (let i = 0; i < n; i++) entry(i, j, ...dot(i));
  }
  const pairs: [number, number][] = [[0, 0], [0, n - 1], [n - 1, 0], [n - 1, n - 1]];
  for (let k = 0; k < 256; k++) pairs.push([pick(n), pick(n)]);
  for (const [i, j] of pairs) {
    for (let p = 0; p < n; p++) column[p] = b[p * n + j];
    entry(i, j, ...dot(i));
  }
  // every entry, coarsely (Freivalds): C·s against A·(B·s) for random signs s, each row within
  // the sum of its entries' bounds, 2·n·u·(|A|·|B|·1)ᵢ. Too coarse for one slightly wrong entry,
  // but a NaN, a garbage tail or a wrong block anywhere shows.
  const sign = Float64Array.from({ length: n }, () => (pick(2) ? 1 : -1));
  const bs = new Float64Array(n);
  const babs = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    for (let j = 0, q = p * n; j < n; j++, q++) {
      bs[p] += b[q] * sign[j];
      babs[p] += Math.abs(b[q]);
    }
  }
  for (let i = 0; i < n; i++) {
    let got = 0;
    let want = 0;
    let sizes = 0;
    for (let k = 0, q = i * n; k < n; k++, q++) {
      got += c[q] * sign[k];
      want += a[q] * bs[k];
      sizes += Math.abs(a[q]) * babs[k];
    }
    tally.entry(`row ${i} of C·s (s: random signs, all ${n} entries of the row)`, got, want, gamma * sizes);
  }
  return tally.verdict();
}

/** One Dense layer of a stack: kernel [inputs, units] row-major, bias [units]. */
export interface DenseWeights {
  kernel: Float32Array;
  bias: Float32Array;
  inputs: number;
  units: number;
}

/**
 * How many standard deviations of the modelled rounding error a W4 output may be off: a sum of
 * independent bounded errors passes λσ with probability under 2·e^{−λ²/2} (Hoeffding), 3e-14 here.
 */
export const LAMBDA = 8;

/**
 * W4 (MLP): a stack of Dense layers, ReLU between them and softmax last, as the bench's models
 * are built. `computed.weights` is Keras's getWeights order (kernel, bias per layer). Checks up
 * to `rows` rows (the first, the last, the rest at random) of the batch's [batch, classes]
 * output against a float64 forward pass.
 *
 * The worst-case bound W1 uses is useless through three layers: it lets each input's error add
 * up with the same sign through Σᵢ|wᵢⱼ| (~15 per layer here), so a softmax output may be off by
 * more than 100%, and a misplaced bias passes. The bound here is the probabilistic one (Higham
 * and Mary, SIAM J. Sci. Comput. 41(5), 2019): rounding errors are independent, zero-mean and at
 * most u relative, so a unit's pre-activation error has a variance of at most
 * Σᵢ wᵢⱼ²·σᵢ² (its inputs' errors, ReLU shrinks them) + (k+1)·u²·(|bⱼ| + Σᵢ|xᵢwᵢⱼ|)² (its own
 * k products and k partial sums, each partial sum taken at its largest possible size, whatever
 * the summation order). The logits may be off by λσ, and softmax turns a logit error ≤ Δ into a
 * relative error ≤ e^{2Δ} − 1, plus 64u for its own exp, sum and division.
 */
export function checkMlp(computed: Computed, rows = 16): string {
  const [x] = computed.inputs;
  const w = computed.weights ?? [];
  const layers: DenseWeights[] = [];
  for (let l = 0; l + 1 < w.length; l += 2) {
    const units = w[l + 1].length;
    layers.push({ kernel: w[l], bias: w[l + 1], inputs: w[l].length / units, units });
  }
  if (layers.length === 0 || w.length % 2 !== 0) throw new CheckFailed(`${CHECK_FAILED}: expected kernel and bias per Dense layer, got ${w.length} weights`);
  const features = layers[0].inputs;
  const classes = layers[layers.length - 1].units;
  const batch = x.length / features;
  if (!Number.isInteger(batch) || computed.output.length !== batch * classes) {
    throw new CheckFailed(`${CHECK_FAILED}: input of ${x.length} values for ${features} features, output of ${computed.output.length} for ${classes} classes`);
  }
  const sample = sampleRows(batch, rows);

  const tally = new Tally();
  for (const r of sample) {
    const [logits, variance] = denseStack(layers, Float64Array.from(x.subarray(r * features, (r + 1) * features)), new Float64Array(features));
    softmaxRow(tally, r, logits, variance, computed.output.subarray(r * classes, (r + 1) * classes));
  }
  return tally.verdict();
}

/** The rows of a batch to check: the first, the last and the rest at random, `rows` in all. */
export function sampleRows(batch: number, rows: number): Set<number> {
  const pick = sampler(batch);
  const sample = new Set([0, batch - 1]);
  while (sample.size < Math.min(rows, batch)) sample.add(pick(batch));
  return sample;
}

/**
 * Dense layers in float64, ReLU between them and none after the last, from `value` whose entries
 * carry rounding variances `variance`: the logits and their variances (the model in checkMlp's comment).
 */
export function denseStack(layers: DenseWeights[], value: Float64Array, variance: Float64Array): [Float64Array, Float64Array] {
  layers.forEach((layer, li) => {
    const last = li === layers.length - 1;
    const z = new Float64Array(layer.units);
    const v = new Float64Array(layer.units);
    for (let j = 0; j < layer.units; j++) {
      let s = layer.bias[j];
      let sizes = Math.abs(layer.bias[j]);
      let inherited = 0;
      for (let i = 0; i < layer.inputs; i++) {
        const k = layer.kernel[i * layer.units + j];
        s += value[i] * k;
        sizes += Math.abs(value[i] * k);
        inherited += k * k * variance[i];
      }
      z[j] = last ? s : Math.max(s, 0);
      v[j] = inherited + (layer.inputs + 1) * (U * sizes) ** 2;
    }
    value = z;
    variance = v;
  });
  return [value, variance];
}

/** Tallies row `r`'s softmax `got` against softmax(`logits`), within what the logits' variances allow. */
export function softmaxRow(tally: Tally, r: number, logits: Float64Array, variance: Float64Array, got: Float32Array): void {
  // softmax in float64; the shift by the row's max (or a log-sum-exp) rounds at u·|z| too
  const top = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - top));
  const total = exps.reduce((a, b) => a + b, 0);
  const delta = LAMBDA * Math.sqrt(Math.max(...variance)) + 2 * U * (2 * Math.max(...logits.map(Math.abs)) + Math.log(logits.length));
  const relative = Math.expm1(2 * delta) + 64 * U;
  for (let j = 0; j < logits.length; j++) {
    const p = exps[j] / total;
    tally.entry(`row ${r}, class ${j}`, got[j], p, relative * p);
  }
}

/**
 * Runs `check` on one more call of `runner`, outside any timed region. Returns what was checked
 * (for the row's `checked`), or the CheckFailed message that replaces the figure.
 */
export async function checked(computed: () => Promise<Computed>, check: (c: Computed) => string): Promise<{ checked: string } | { failed: string }> {
  const result = await computed();
  const t = performance.now();
  try {
    const what = check(result);
    // the check's own time (the float64 sample), not the extra call's
    return { checked: `${what}, checked in ${(performance.now() - t).toFixed(0)} ms` };
  } catch (err) {
    if (err instanceof CheckFailed) return { failed: err.message };
    throw err;
  }
}
