/**
 * Every loss at degenerate predictions (issue #17): 0 and 1, exactly the target, very large
 * errors, zero sample weights; value and gradient with respect to yPred. The oracles are Keras 3's
 * formulas (keras/src/losses/losses.py) written here in float64, with their derivatives by hand:
 * epsilon 1e-7, probabilities clipped to [ε, 1 - ε] (ε and 1 - ε as float32 holds them, as Keras
 * computes in float32), no gradient through a clipped value or the losing side of a maximum, and
 * a tie in maximum going to its first operand (TF's rules, which kiln's ops follow). Every case
 * runs on every available backend in float32, with fused kernels on and off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import type { Tensor } from '../../index.js';

const { losses } = kiln;

type Rows = number[][];
/** Per-sample values and the gradient of each with respect to yPred, row by row (one row per sample). */
interface Oracle {
  values: number[];
  grads: Rows;
}

// float32's ε and 1 - ε: the clip bounds and fuzz factor a float32 loss computes with
const EPS = Math.fround(1e-7);
const ONE_MINUS_EPS = Math.fround(1 - 1e-7);
const LN2 = Math.log(2);

const sum = (r: readonly number[]): number => r.reduce((a, b) => a + b, 0);
const clip = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);
/** Whether clip(x, lo, hi) passes x's gradient: at a bound it does (TF's clip_by_value). */
const passes = (x: number, lo: number, hi: number): number => (x >= lo && x <= hi ? 1 : 0);
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softmax = (r: readonly number[]): number[] => {
  const m = Math.max(...r);
  const e = r.map((x) => Math.exp(x - m));
  return e.map((x) => x / sum(e));
};

/** A loss that is a mean over the last axis of f(t, p), whose derivative in p is df. */
function elementwiseMean(f: (t: number, p: number) => number, df: (t: number, p: number) => number) {
  return (t: Rows, p: Rows): Oracle => ({
    values: t.map((r, i) => sum(r.map((a, j) => f(a, p[i][j]))) / r.length),
    grads: t.map((r, i) => r.map((a, j) => df(a, p[i][j]) / r.length)),
  });
}

/**
 * Categorical losses from probabilities: r = p / Σp, q = clip(r, ε, 1 - ε), value Σ_j h(t_j, q_j).
 * With g_j = ∂h/∂q_j (0 where the clip holds), ∂/∂p_k = (g_k - Σ_j g_j·r_j) / Σp.
 */
function fromProbabilities(h: (t: number, q: number) => number, dh: (t: number, q: number) => number) {
  return (t: Rows, p: Rows): Oracle => {
    const values: number[] = [];
    const grads: Rows = [];
    t.forEach((tr, i) => {
      const s = sum(p[i]);
      const r = p[i].map((x) => x / s);
      const q = r.map((x) => clip(x, EPS, ONE_MINUS_EPS));
      const g = tr.map((a, j) => passes(r[j], EPS, ONE_MINUS_EPS) * dh(a, q[j]));
      const gr = sum(g.map((x, j) => x * r[j]));
      values.push(sum(tr.map((a, j) => h(a, q[j]))));
      grads.push(g.map((x) => (x - gr) / s));
    });
    return { values, grads };
  };
}

/** Categorical crossentropy from logits: -Σ t·logSoftmax(x); ∂/∂x = softmax·Σt - t. */
function cceLogits(t: Rows, x: Rows): Oracle {
  return {
    values: t.map((r, i) => {
      const m = Math.max(...x[i]);
      const lse = m + Math.log(sum(x[i].map((v) => Math.exp(v - m))));
      return -sum(r.map((a, j) => (a === 0 ? 0 : a * (x[i][j] - lse))));
    }),
    grads: t.map((r, i) => softmax(x[i]).map((s, j) => s * sum(r) - r[j])),
  };
}

// ---- per-loss oracles (t: yTrue, p: yPred)

/** mean((t - p)²): ∂/∂p = 2(p - t)/n. */
const mse = elementwiseMean((t, p) => (t - p) ** 2, (t, p) => 2 * (p - t));
/** mean(|t - p|): ∂/∂p = sign(p - t)/n, 0 at p = t (sign(0) = 0). */
const mae = elementwiseMean((t, p) => Math.abs(t - p), (t, p) => Math.sign(p - t));
/** 100·mean(|t - p| / max(|t|, ε)). */
const mape = elementwiseMean(
  (t, p) => (100 * Math.abs(t - p)) / Math.max(Math.abs(t), EPS),
  (t, p) => (100 * Math.sign(p - t)) / Math.max(Math.abs(t), EPS),
);
/** mean((log(max(p, ε) + 1) - log(max(t, ε) + 1))²); no gradient where p < ε (max picks ε). */
const msleDiff = (t: number, p: number): number => Math.log(Math.max(p, EPS) + 1) - Math.log(Math.max(t, EPS) + 1);
const msle = elementwiseMean(
  (t, p) => msleDiff(t, p) ** 2,
  (t, p) => (p >= EPS ? (2 * msleDiff(t, p)) / (p + 1) : 0),
);
/** e = p - t: e²/2 where |e| ≤ 1 (∂ = e), else |e| - 1/2 (∂ = sign e); delta 1. */
const huber = elementwiseMean(
  (t, p) => (Math.abs(p - t) <= 1 ? (p - t) ** 2 / 2 : Math.abs(p - t) - 0.5),
  (t, p) => (Math.abs(p - t) <= 1 ? p - t : Math.sign(p - t)),
);
/** e + softplus(-2e) - log 2 = log cosh e; ∂ = 1 - 2σ(-2e) = tanh e. */
const logCosh = elementwiseMean((t, p) => p - t + softplus(-2 * (p - t)) - LN2, (t, p) => Math.tanh(p - t));

/**
 * -Σ t̂·p̂ with x̂ = x / max(‖x‖, ε). For ‖p‖ > ε: ∂/∂p = -(t̂ - (t̂·p̂)·p̂) / ‖p‖; below ε, p̂ = p/ε is
 * linear and ∂/∂p = -t̂/ε (finite: kiln keeps the max inside the root, loss 0 at a zero vector).
 */
function cosine(t: Rows, p: Rows): Oracle {
  const values: number[] = [];
  const grads: Rows = [];
  t.forEach((tr, i) => {
    const nt = Math.hypot(...tr);
    const np = Math.hypot(...p[i]);
    const th = tr.map((x) => x / Math.max(nt, EPS));
    const ph = p[i].map((x) => x / Math.max(np, EPS));
    const dot = sum(th.map((x, j) => x * ph[j]));
    values.push(-dot);
    grads.push(np > EPS ? th.map((x, j) => -(x - dot * ph[j]) / np) : th.map((x) => -x / EPS));
  });
  return { values, grads };
}

/** -(t log q + (1-t) log(1-q)), q = clip(p, ε, 1-ε). */
const bceTerm = (t: number, p: number): number => {
  const q = clip(p, EPS, ONE_MINUS_EPS);
  return -(t * Math.log(q) + (1 - t) * Math.log(1 - q));
};
const bceTermGrad = (t: number, p: number): number => {
  const q = clip(p, EPS, ONE_MINUS_EPS);
  return passes(p, EPS, ONE_MINUS_EPS) * (-t / q + (1 - t) / (1 - q));
};
const bce = elementwiseMean(bceTerm, bceTermGrad);
/** From logits x: softplus(x) - t·x (sigmoid_cross_entropy_with_logits); ∂ = σ(x) - t. */
const bceLogits = elementwiseMean((t, x) => softplus(x) - t * x, (t, x) => sigmoid(x) - t);

/**
 * (1 - pT)^γ·bce with pT = t·p + (1-t)(1-p) (p unclipped), γ = 2, times α·t + (1-α)(1-t) when
 * balancing; ∂ = γ(1 - pT)^(γ-1)·(1 - 2t)·bce + (1 - pT)^γ·bce'.
 */
function binaryFocal(balance: boolean) {
  const weight = (t: number): number => (balance ? 0.25 * t + 0.75 * (1 - t) : 1);
  const pT = (t: number, p: number): number => t * p + (1 - t) * (1 - p);
  return elementwiseMean(
    (t, p) => weight(t) * (1 - pT(t, p)) ** 2 * bceTerm(t, p),
    (t, p) => weight(t) * (2 * (1 - pT(t, p)) * (1 - 2 * t) * bceTerm(t, p) + (1 - pT(t, p)) ** 2 * bceTermGrad(t, p)),
  );
}

/** -Σ t·log q; ∂/∂q = -t/q. */
const cce = fromProbabilities((t, q) => -t * Math.log(q), (t, q) => -t / q);
/** Σ α(1-q)^γ·(-t log q), α = 0.25, γ = 2; ∂/∂q = α[γ(1-q)^(γ-1)·t log q - (1-q)^γ·t/q]. */
const categoricalFocal = fromProbabilities(
  (t, q) => 0.25 * (1 - q) ** 2 * -t * Math.log(q),
  (t, q) => 0.25 * (2 * (1 - q) * t * Math.log(q) - (1 - q) ** 2 * (t / q)),
);
const oneHot = (labels: number[], n: number): Rows => labels.map((l) => Array.from({ length: n }, (_, j) => (j === l ? 1 : 0)));

/** Σ t'·log(t'/p'), both clipped to [ε, 1]; ∂/∂p = -t'/p' where p's clip passes. */
const kld = (t: Rows, p: Rows): Oracle => ({
  values: t.map((r, i) => sum(r.map((a, j) => clip(a, EPS, 1) * Math.log(clip(a, EPS, 1) / clip(p[i][j], EPS, 1))))),
  grads: t.map((r, i) => r.map((a, j) => (passes(p[i][j], EPS, 1) * -clip(a, EPS, 1)) / clip(p[i][j], EPS, 1))),
});
/** mean(p - t·log(p + ε)); ∂ = 1 - t/(p + ε). */
const poisson = elementwiseMean((t, p) => p - t * Math.log(p + EPS), (t, p) => 1 - t / (p + EPS));

/** Labels all in {0, 1} become {-1, 1}, as Keras converts them. */
const hingeLabels = (t: Rows): Rows => (t.flat().every((v) => v === 0 || v === 1) ? t.map((r) => r.map((v) => 2 * v - 1)) : t);
/** m = 1 - t·p: mean(max(m, 0)), ∂ = -t where m ≥ 0 (a tie at m = 0 goes to m, maximum's first operand). */
const hinge = (t: Rows, p: Rows): Oracle =>
  elementwiseMean((a, b) => Math.max(1 - a * b, 0), (a, b) => (1 - a * b >= 0 ? -a : 0))(hingeLabels(t), p);
/** mean(max(m, 0)²), ∂ = -2t·max(m, 0). */
const squaredHinge = (t: Rows, p: Rows): Oracle =>
  elementwiseMean((a, b) => Math.max(1 - a * b, 0) ** 2, (a, b) => -2 * a * Math.max(1 - a * b, 0))(hingeLabels(t), p);
/**
 * max(neg - pos + 1, 0), pos = Σ t·p, neg = max((1-t)·p). ∂/∂p_k = -t_k + (1-t_k)·[k holds the
 * max]/ties where neg - pos + 1 ≥ 0 (a max's ties split evenly; maximum's tie goes to the margin).
 */
function categoricalHinge(t: Rows, p: Rows): Oracle {
  const values: number[] = [];
  const grads: Rows = [];
  t.forEach((tr, i) => {
    const z = tr.map((a, j) => (1 - a) * p[i][j]);
    const neg = Math.max(...z);
    const ties = z.filter((v) => v === neg).length;
    const margin = neg - sum(tr.map((a, j) => a * p[i][j])) + 1;
    values.push(Math.max(margin, 0));
    grads.push(tr.map((a, j) => (margin >= 0 ? -a + ((1 - a) * (z[j] === neg ? 1 : 0)) / ties : 0)));
  });
  return { values, grads };
}

/** Over all elements (axis null: one value): 1 - 2I/D, I = Σ t·p, D = Σt + Σp + ε; ∂/∂p_k = -2(t_k·D - I)/D². */
function dice(t: Rows, p: Rows): Oracle {
  const tf = t.flat();
  const pf = p.flat();
  const inter = sum(tf.map((a, j) => a * pf[j]));
  const d = sum(tf) + sum(pf) + EPS;
  const g = tf.map((a) => (-2 * (a * d - inter)) / d ** 2);
  return { values: [1 - (2 * inter) / d], grads: [g] };
}

/**
 * 1 - I/D over all elements, D = I + α·Σ(1-p)t + β·Σp(1-t) + ε, α = β = 0.5;
 * ∂D/∂p_k = t_k - α·t_k + β(1 - t_k), ∂/∂p_k = -(t_k·D - I·∂D/∂p_k)/D².
 */
function tversky(t: Rows, p: Rows): Oracle {
  const [alpha, beta] = [0.5, 0.5];
  const tf = t.flat();
  const pf = p.flat();
  const inter = sum(tf.map((a, j) => a * pf[j]));
  const fp = sum(tf.map((a, j) => (1 - pf[j]) * a));
  const fn = sum(tf.map((a, j) => pf[j] * (1 - a)));
  const d = inter + alpha * fp + beta * fn + EPS;
  const g = tf.map((a) => -(a * d - inter * (a - alpha * a + beta * (1 - a))) / d ** 2);
  return { values: [1 - inter / d], grads: [g] };
}

// ---------------------------------------------------------------------------------------------

interface LossCase {
  name: string;
  loss: () => kiln.losses.Loss;
  yTrue: Rows | number[];
  yPred: Rows;
  /** The oracle's per-sample values and gradients; sparse labels are given as one-hot rows. */
  oracle: Oracle;
}

const c = (name: string, loss: () => kiln.losses.Loss, yTrue: Rows, yPred: Rows, oracle: (t: Rows, p: Rows) => Oracle): LossCase =>
  ({ name, loss, yTrue, yPred, oracle: oracle(yTrue, yPred) });

const CASES: LossCase[] = [
  c('mse: prediction equal to the target', () => new losses.MeanSquaredError(), [[0, 1, -2]], [[0, 1, -2]], mse),
  c('mse: zero prediction', () => new losses.MeanSquaredError(), [[1, -2]], [[0, 0]], mse),
  c('mse: errors of ±1000', () => new losses.MeanSquaredError(), [[0, 1]], [[1000, -999]], mse),
  c('mae: prediction equal to the target', () => new losses.MeanAbsoluteError(), [[0, 1, -2]], [[0, 1, -2]], mae),
  c('mae: zero prediction', () => new losses.MeanAbsoluteError(), [[1, -2]], [[0, 0]], mae),
  c('mae: errors of ±1000', () => new losses.MeanAbsoluteError(), [[0, 1]], [[1000, -999]], mae),
  c('mape: zero target (divides by ε)', () => new losses.MeanAbsolutePercentageError(), [[0, 2]], [[1, 2]], mape),
  c('mape: zero prediction', () => new losses.MeanAbsolutePercentageError(), [[1, -2]], [[0, 0]], mape),
  c('mape: error of 1000', () => new losses.MeanAbsolutePercentageError(), [[1, 2]], [[1001, 2]], mape),
  c('msle: zero and negative predictions', () => new losses.MeanSquaredLogarithmicError(), [[1, 2]], [[0, -1]], msle),
  c('msle: prediction equal to the target', () => new losses.MeanSquaredLogarithmicError(), [[0, 3]], [[0, 3]], msle),
  c('msle: prediction 1e6 for target 0', () => new losses.MeanSquaredLogarithmicError(), [[0, 1]], [[1e6, 1]], msle),
  c('huber: prediction equal to the target', () => new losses.Huber(), [[0, 1]], [[0, 1]], huber),
  c('huber: error exactly delta', () => new losses.Huber(), [[0, 1]], [[1, 0]], huber),
  c('huber: errors of ±1000', () => new losses.Huber(), [[0, 1]], [[1000, -999]], huber),
  c('logCosh: prediction equal to the target', () => new losses.LogCosh(), [[0, 1]], [[0, 1]], logCosh),
  c('logCosh: errors of ±1000', () => new losses.LogCosh(), [[0, 1]], [[1000, -999]], logCosh),
  c('cosineSimilarity: parallel prediction', () => new losses.CosineSimilarity(), [[3, 4]], [[6, 8]], cosine),
  c('cosineSimilarity: zero prediction', () => new losses.CosineSimilarity(), [[3, 4]], [[0, 0]], cosine),
  c('cosineSimilarity: zero target', () => new losses.CosineSimilarity(), [[0, 0]], [[3, 4]], cosine),
  c('cosineSimilarity: opposite prediction of norm 1e6', () => new losses.CosineSimilarity(), [[3, 4]], [[-6e5, -8e5]], cosine),
  c('binaryCrossentropy: predictions 0 and 1 against the other label', () => new losses.BinaryCrossentropy(), [[1, 0]], [[0, 1]], bce),
  c('binaryCrossentropy: predictions equal to the labels', () => new losses.BinaryCrossentropy(), [[1, 0]], [[1, 0]], bce),
  c('binaryCrossentropy: logits ±800', () => new losses.BinaryCrossentropy({ fromLogits: true }), [[0, 1, 1]], [[800, -800, 800]], bceLogits),
  c('binaryFocalCrossentropy: predictions 0 and 1 against the other label', () => new losses.BinaryFocalCrossentropy(), [[1, 0]], [[0, 1]], binaryFocal(false)),
  c('binaryFocalCrossentropy: predictions equal to the labels', () => new losses.BinaryFocalCrossentropy(), [[1, 0]], [[1, 0]], binaryFocal(false)),
  c('binaryFocalCrossentropy, balanced: predictions 0 and 1 against the other label',
    () => new losses.BinaryFocalCrossentropy({ applyClassBalancing: true }), [[1, 0]], [[0, 1]], binaryFocal(true)),
  c('categoricalCrossentropy: one-hot prediction of the wrong class', () => new losses.CategoricalCrossentropy(), [[1, 0, 0]], [[0, 1, 0]], cce),
  c('categoricalCrossentropy: prediction equal to the one-hot target', () => new losses.CategoricalCrossentropy(), [[0, 1, 0]], [[0, 1, 0]], cce),
  c('categoricalCrossentropy: unnormalized prediction with a zero', () => new losses.CategoricalCrossentropy(), [[0, 1, 0]], [[0, 2, 2]], cce),
  c('categoricalCrossentropy: logits ±1000', () => new losses.CategoricalCrossentropy({ fromLogits: true }), [[0, 1], [1, 0]], [[1000, -1000], [1000, -1000]], cceLogits),
  c('categoricalFocalCrossentropy: one-hot prediction of the wrong class', () => new losses.CategoricalFocalCrossentropy(), [[1, 0, 0]], [[0, 1, 0]], categoricalFocal),
  c('categoricalFocalCrossentropy: prediction equal to the one-hot target', () => new losses.CategoricalFocalCrossentropy(), [[0, 1, 0]], [[0, 1, 0]], categoricalFocal),
  c('categoricalFocalCrossentropy: prediction with a zero', () => new losses.CategoricalFocalCrossentropy(), [[0, 1, 0]], [[0, 0.5, 0.5]], categoricalFocal),
  {
    name: 'sparseCategoricalCrossentropy: one-hot predictions, right and wrong', loss: () => new losses.SparseCategoricalCrossentropy(),
    yTrue: [1, 0], yPred: [[0, 1], [0, 1]], oracle: cce(oneHot([1, 0], 2), [[0, 1], [0, 1]]),
  },
  {
    name: 'sparseCategoricalCrossentropy: prediction with a zero', loss: () => new losses.SparseCategoricalCrossentropy(),
    yTrue: [1], yPred: [[0, 2, 2]], oracle: cce(oneHot([1], 3), [[0, 2, 2]]),
  },
  {
    name: 'sparseCategoricalCrossentropy: logits ±1000', loss: () => new losses.SparseCategoricalCrossentropy({ fromLogits: true }),
    yTrue: [1, 0], yPred: [[1000, -1000], [1000, -1000]], oracle: cceLogits(oneHot([1, 0], 2), [[1000, -1000], [1000, -1000]]),
  },
  c('klDivergence: predictions 0 and 1 against the other label', () => new losses.KLDivergence(), [[1, 0]], [[0, 1]], kld),
  c('klDivergence: prediction equal to the target', () => new losses.KLDivergence(), [[0.3, 0.7]], [[0.3, 0.7]], kld),
  c('klDivergence: one-hot prediction equal to the target', () => new losses.KLDivergence(), [[1, 0]], [[1, 0]], kld),
  c('poisson: zero prediction', () => new losses.Poisson(), [[1, 2]], [[0, 0.5]], poisson),
  c('poisson: zero prediction and target', () => new losses.Poisson(), [[0, 0]], [[0, 0]], poisson),
  c('poisson: prediction equal to the target', () => new losses.Poisson(), [[1, 3]], [[1, 3]], poisson),
  c('poisson: prediction 1000 for target 0', () => new losses.Poisson(), [[0, 1]], [[1000, 1]], poisson),
  c('hinge: predictions exactly at the margin', () => new losses.Hinge(), [[1, 0]], [[1, -1]], hinge),
  c('hinge: zero prediction', () => new losses.Hinge(), [[1, 0]], [[0, 0]], hinge),
  c('hinge: errors of ±1000', () => new losses.Hinge(), [[1, -1]], [[-1000, 1000]], hinge),
  c('squaredHinge: predictions exactly at the margin', () => new losses.SquaredHinge(), [[1, 0]], [[1, -1]], squaredHinge),
  c('squaredHinge: zero prediction', () => new losses.SquaredHinge(), [[1, 0]], [[0, 0]], squaredHinge),
  c('squaredHinge: errors of ±1000', () => new losses.SquaredHinge(), [[1, -1]], [[-1000, 1000]], squaredHinge),
  c('categoricalHinge: zero prediction (a three-way tie in the max)', () => new losses.CategoricalHinge(), [[1, 0, 0]], [[0, 0, 0]], categoricalHinge),
  c('categoricalHinge: prediction equal to the one-hot target', () => new losses.CategoricalHinge(), [[1, 0, 0]], [[1, 0, 0]], categoricalHinge),
  c('categoricalHinge: error of 1000', () => new losses.CategoricalHinge(), [[1, 0, 0]], [[-1000, 1000, 0]], categoricalHinge),
  c('dice: prediction equal to the target', () => new losses.Dice(), [[1, 0], [0, 1]], [[1, 0], [0, 1]], dice),
  c('dice: zero prediction and target', () => new losses.Dice(), [[0, 0], [0, 0]], [[0, 0], [0, 0]], dice),
  c('dice: zero prediction', () => new losses.Dice(), [[1, 1], [0, 1]], [[0, 0], [0, 0]], dice),
  c('tversky: prediction equal to the target', () => new losses.Tversky(), [[1, 0], [0, 1]], [[1, 0], [0, 1]], tversky),
  c('tversky: zero prediction and target', () => new losses.Tversky(), [[0, 0], [0, 0]], [[0, 0], [0, 0]], tversky),
  c('tversky: zero prediction', () => new losses.Tversky(), [[1, 1], [0, 1]], [[0, 0], [0, 0]], tversky),
];

// ---------------------------------------------------------------------------------------------

const RTOL = 1e-5;
const ATOL = 1e-6;

function mismatches(what: string, got: readonly number[], want: readonly number[]): string[] {
  if (got.length !== want.length) return [`${what}: got ${got.length} values, expected ${want.length}`];
  return want.flatMap((w, i) => {
    const g = got[i];
    return Number.isFinite(g) && Math.abs(g - w) <= ATOL + RTOL * Math.abs(w) ? [] : [`${what}[${i}]: got ${g}, expected ${w}`];
  });
}

/** The reduced loss and its gradient with respect to yPred, read back. */
function evaluate(k: LossCase, sampleWeight?: number[] | number): { value: number; grad: number[] } {
  return kiln.tidy(() => {
    const loss = k.loss();
    const p = kiln.tensor(k.yPred, [k.yPred.length, k.yPred[0].length], 'float32');
    const value = loss.apply(k.yTrue, p, sampleWeight).dataSync()[0];
    const grad = kiln.grad((x: Tensor) => loss.apply(k.yTrue, x, sampleWeight))(p) as Tensor;
    return { value, grad: Array.from(grad.dataSync()) };
  });
}

/**
 * sum_over_batch_size: Σ w_i·value_i / N over the N per-sample values (the scalar of dice and
 * tversky is one sample), and its gradient w_i·∂value_i/∂p / N.
 */
function checkCase(k: LossCase, weights: number[]): void {
  const n = k.oracle.values.length;
  const want = sum(k.oracle.values.map((v, i) => v * weights[i])) / n;
  const wantGrad = k.oracle.grads.flatMap((r, i) => r.map((g) => (g * weights[i]) / n));
  // dice and tversky reduce over every axis by default: their one value takes a scalar weight
  const loss = k.loss();
  const sampleWeight = loss instanceof losses.Dice || loss instanceof losses.Tversky ? weights[0] : weights;
  const { value, grad } = evaluate(k, sampleWeight);
  expect([...mismatches('value', [value], [want]), ...mismatches('gradient', grad, wantGrad)], k.name).toEqual([]);
}

const BACKENDS = kiln.listBackends();
const AVAILABLE = BACKENDS.filter((b) => b.available).map((b) => b.name);

for (const b of BACKENDS.filter((s) => !s.available)) {
  describe.skip(`${b.name} (unavailable: ${b.reason})`, () => {
    it('is skipped', () => {});
  });
}

describe.each(AVAILABLE)('losses at degenerate predictions on %s', (backend) => {
  const fusedAtStart = kiln.fusedKernelsEnabled();
  beforeAll(async () => {
    await kiln.setBackend(backend);
  });
  afterAll(() => kiln.setFusedKernels(fusedAtStart));

  describe.each([true, false])('fused kernels %s', (fused) => {
    beforeAll(() => kiln.setFusedKernels(fused));
    afterAll(() => kiln.setFusedKernels(fusedAtStart));

    for (const k of CASES) {
      it(k.name, () => checkCase(k, k.oracle.values.map(() => 1)));
      it(`${k.name}, zero sample weights`, () => checkCase(k, k.oracle.values.map(() => 0)));
    }

    // the two values the issue names, by hand rather than through the oracles above
    it('poisson([[1, 2]], [[0, 0.5]]) is 9.0022…, not Infinity', () => {
      // mean(0 - 1·log(0 + ε), 0.5 - 2·log(0.5 + ε)) = (16.1181 + 0.5 + 1.3863) / 2
      const want = (-Math.log(1e-7) + 0.5 - 2 * Math.log(0.5 + 1e-7)) / 2;
      expect(want).toBeCloseTo(9.0022, 4);
      expect(mismatches('value', Array.from(losses.poisson([[1, 2]], [[0, 0.5]]).dataSync()), [want])).toEqual([]);
    });

    it('logCosh at an error of 1000 is 999.30685…, finite', () => {
      // log cosh 1000 = 1000 + log((1 + e^-2000)/2) = 1000 - log 2
      expect(mismatches('value', Array.from(losses.logCosh([[0]], [[1000]]).dataSync()), [1000 - LN2])).toEqual([]);
      expect(mismatches('value', Array.from(losses.logCosh([[1000]], [[0]]).dataSync()), [1000 - LN2])).toEqual([]);
    });

    it("mean_with_sample_weight gives 0 for all-zero weights (Keras's divide_no_nan), with a zero gradient", () => {
      const k = c('poisson, zero weights', () => new losses.Poisson({ reduction: 'mean_with_sample_weight' }), [[1, 2]], [[0, 0.5]], poisson);
      const { value, grad } = evaluate(k, [0]);
      expect(mismatches('value', [value], [0])).toEqual([]);
      expect(mismatches('gradient', grad, [0, 0])).toEqual([]);
    });
  });
});
