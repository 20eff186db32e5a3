import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import * as losses from '../losses/index.js';

type Rows = number[][];

/** Values of a tensor against expected ones (nested arrays or a number), shape included. */
function expectClose(t: kiln.Tensor, expected: number | number[] | Rows | number[][][], rtol = 1e-5, atol = 1e-6): void {
  const shape: number[] = [];
  for (let e: unknown = expected; Array.isArray(e); e = e[0]) shape.push(e.length);
  expect([...t.shape]).toEqual(shape);
  const want = [expected].flat(Infinity) as number[];
  const got = Array.from(t.dataSync());
  got.forEach((g, i) => {
    if (Math.abs(g - want[i]) > atol + rtol * Math.abs(want[i])) {
      throw new Error(`element ${i}: got ${g}, expected ${want[i]} (all: ${JSON.stringify(got)} vs ${JSON.stringify(want)})`);
    }
  });
}

// float64 references, written from Keras's formulas
const EPS = 1e-7;
// 1 - ε as float32 holds it: the clip bound the losses use on float32 tensors
const ONE_MINUS_EPS = Math.fround(1 - EPS);
const clip = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);
const mean = (r: number[]): number => r.reduce((a, b) => a + b, 0) / r.length;
const sum = (r: number[]): number => r.reduce((a, b) => a + b, 0);
/** Per-row mean of f over paired elements. */
const rowMean = (t: Rows, p: Rows, f: (a: number, b: number) => number): number[] => t.map((r, i) => mean(r.map((a, j) => f(a, p[i][j]))));
const rowSum = (t: Rows, p: Rows, f: (a: number, b: number) => number): number[] => t.map((r, i) => sum(r.map((a, j) => f(a, p[i][j]))));
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const logSoftmax = (r: number[]): number[] => {
  const m = Math.max(...r);
  const lse = m + Math.log(sum(r.map((x) => Math.exp(x - m))));
  return r.map((x) => x - lse);
};
const bceTerm = (t: number, p: number): number => {
  const q = clip(p, EPS, ONE_MINUS_EPS);
  return -(t * Math.log(q) + (1 - t) * Math.log(1 - q));
};

const T: Rows = [[0, 1, 0.5], [1, 0, 2]];
const P: Rows = [[0.2, 0.7, 0.5], [0.9, 0.4, 1.5]];
const Y1: Rows = [[0, 1, 0], [0, 0, 1]];
const PROBS: Rows = [[0.05, 0.9, 0.05], [0.1, 0.6, 0.3]];
const LOGITS: Rows = [[2, -1, 0.5], [-3, 4, 1]];

describe('Loss: reductions and sample weights', () => {
  // per-sample MSE of these is [1, 0.25]
  const t = [[0, 0], [0, 0]];
  const p = [[1, 1], [0.5, 0.5]];

  it('reduces as Keras does', () => {
    expectClose(new losses.MeanSquaredError().apply(t, p), 0.625);
    expectClose(new losses.MeanSquaredError({ reduction: 'mean' }).apply(t, p), 0.625);
    expectClose(new losses.MeanSquaredError({ reduction: 'sum' }).apply(t, p), 1.25);
    expectClose(new losses.MeanSquaredError({ reduction: 'none' }).apply(t, p), [1, 0.25]);
    expectClose(new losses.MeanSquaredError({ reduction: null }).apply(t, p), [1, 0.25]);
    expectClose(new losses.MeanSquaredError({ reduction: 'mean_with_sample_weight' }).apply(t, p), 0.625);
  });

  it('weighs per-sample values, then reduces (sum_over_batch_size divides by the element count)', () => {
    const w = [0.2, 0.6];
    expectClose(new losses.MeanSquaredError().apply(t, p, w), (0.2 + 0.15) / 2);
    expectClose(new losses.MeanSquaredError({ reduction: 'sum' }).apply(t, p, w), 0.35);
    expectClose(new losses.MeanSquaredError({ reduction: 'none' }).apply(t, p, w), [0.2, 0.15]);
    expectClose(new losses.MeanSquaredError({ reduction: 'mean_with_sample_weight' }).apply(t, p, w), 0.35 / 0.8);
    expectClose(new losses.MeanSquaredError().apply(t, p, [[0.2], [0.6]]), 0.175);
    expectClose(new losses.MeanSquaredError().apply(t, p, 2), 1.25);
  });

  it('weighs whole samples of per-timestep losses and divides by every element', () => {
    // [2, 3, 1] inputs give [2, 3] losses: sample weights [2] scale each sample's row
    const yt = [[[0], [0], [0]], [[0], [0], [0]]];
    const yp = [[[1], [2], [3]], [[1], [1], [1]]];
    expectClose(new losses.MeanSquaredError({ reduction: 'none' }).apply(yt, yp, [1, 0.5]), [[1, 4, 9], [0.5, 0.5, 0.5]]);
    expectClose(new losses.MeanSquaredError().apply(yt, yp, [1, 0.5]), 15.5 / 6);
    expectClose(new losses.MeanSquaredError().apply(yt, yp, [[1, 0, 0], [0, 0, 2]]), 3 / 6);
  });

  it('rejects sample weights that do not fit, and unknown reductions', () => {
    expect(() => new losses.MeanSquaredError().apply(t, p, [1, 2, 3])).toThrow(
      'mean_squared_error: sampleWeight of shape [3] does not fit the per-sample losses of shape [2]');
    expect(() => new losses.MeanSquaredError({ reduction: 'avg' as never })).toThrow(
      "mean_squared_error: unknown reduction \"avg\"; expected one of 'sum_over_batch_size', 'sum', 'mean'");
  });

  it('gives 0 for an empty batch', () => {
    expectClose(new losses.MeanSquaredError().apply(kiln.zeros([0, 2]), kiln.zeros([0, 2])), 0);
  });

  it('checks shapes, naming the loss and both shapes, and matches a trailing 1', () => {
    expect(() => new losses.MeanAbsoluteError().apply([[1, 2, 3]], [[1, 2]])).toThrow(
      'mean_absolute_error: yTrue and yPred must have the same shape (up to a trailing 1), got yTrue [1,3] and yPred [1,2]');
    expect(() => new losses.Hinge({ name: 'my_hinge' }).apply([1, 2], [[1, 2]])).toThrow('my_hinge: yTrue and yPred');
    expect(() => losses.binaryCrossentropy([[1]], [[1], [0]])).toThrow('binaryCrossentropy: yTrue and yPred must have the same shape');
    // [N] labels against [N, 1] predictions (and the reverse) compare per sample
    expectClose(losses.meanSquaredError([1, 2], [[0], [0]]), [1, 4]);
    expectClose(losses.meanSquaredError([[1], [2]], [0, 0]), [1, 4]);
  });

  it('needs a float yPred', () => {
    expect(() => new losses.MeanSquaredError().apply([1], kiln.tensor([1], [1], 'int32'))).toThrow(
      'mean_squared_error: yPred must be float32 or float64, got int32 [1]');
  });

  it('computes in float64 when yPred is float64', () => {
    const out = losses.meanSquaredError([[0.1, 0.2]], kiln.tensor([[0.3, 0.1]], undefined, 'float64'));
    expect(out.dtype).toBe('float64');
    expectClose(out, [((0.1 - 0.3) ** 2 + (0.2 - 0.1) ** 2) / 2], 1e-12, 0);
  });

  it('leaves no tensors behind', () => {
    const yt = kiln.tensor(Y1);
    const yp = kiln.tensor(PROBS);
    const loss = new losses.CategoricalFocalCrossentropy({ labelSmoothing: 0.1 });
    loss.apply(yt, yp, [1, 2]).dispose();
    // the label check waiting for the next read (docs/indices.md) is made once and folds after
    losses.sparseCategoricalCrossentropy([1, 2], yp).dispose();
    const before = kiln.memory().numTensors;
    loss.apply(yt, yp, [1, 2]).dispose();
    losses.sparseCategoricalCrossentropy([1, 2], yp).dispose();
    losses.sparseCategoricalCrossentropy([0, 1], yp).dispose();
    expect(kiln.memory().numTensors).toBe(before);
  });

  it('lets subclasses define call, named after the class', () => {
    class MeanCubedError extends losses.Loss {
      override call(yTrue: kiln.Tensor, yPred: kiln.Tensor): kiln.Tensor {
        return kiln.ops.mean(kiln.ops.power(kiln.ops.abs(kiln.ops.subtract(yTrue, yPred)), 3), -1);
      }
    }
    const loss = new MeanCubedError();
    expect(loss.name).toBe('mean_cubed_error');
    expectClose(loss.apply([[0, 1]], [[2, 1]]), 4);
    expect(MeanCubedError.fromConfig(loss.getConfig()).getConfig()).toEqual({ name: 'mean_cubed_error', reduction: 'sum_over_batch_size' });
  });
});

describe('regression losses', () => {
  it('mean squared, absolute, percentage and squared-log errors', () => {
    expectClose(losses.meanSquaredError(T, P), rowMean(T, P, (a, b) => (a - b) ** 2));
    expectClose(losses.meanAbsoluteError(T, P), rowMean(T, P, (a, b) => Math.abs(a - b)));
    // a zero label divides by ε
    expectClose(losses.meanAbsolutePercentageError(T, P), rowMean(T, P, (a, b) => 100 * Math.abs((a - b) / Math.max(Math.abs(a), EPS))), 1e-5);
    const tn = [[-1, 0, 2]];
    const pn = [[0.5, -2, 3]];
    const l = (x: number): number => Math.log(Math.max(x, EPS) + 1);
    expectClose(losses.meanSquaredLogarithmicError(tn, pn), rowMean(tn, pn, (a, b) => (l(b) - l(a)) ** 2));
  });

  it('huber: quadratic up to delta, linear beyond', () => {
    const h = (d: number) => (a: number, b: number): number => {
      const e = Math.abs(b - a);
      return e <= d ? 0.5 * e * e : d * e - 0.5 * d * d;
    };
    const tt = [[0, 0, 0, 0]];
    const pp = [[0.3, -0.9, 2, -4]];
    expectClose(losses.huber(tt, pp), rowMean(tt, pp, h(1)));
    expectClose(losses.huber(tt, pp, 0.5), rowMean(tt, pp, h(0.5)));
    expectClose(new losses.Huber({ delta: 2 }).apply(tt, pp), rowMean(tt, pp, h(2))[0]);
    expect(new losses.Huber().name).toBe('huber_loss');
    expect(() => new losses.Huber({ delta: -1 })).toThrow('huber_loss: delta must be a number in [0, Infinity], got number -1');
  });

  it('log-cosh, finite for large errors', () => {
    const tt = [[0, 0, 0], [1, 0, 0]];
    const pp = [[0.5, -2, 100], [1, 0, -300]];
    const lc = (a: number, b: number): number => {
      const x = Math.abs(b - a);
      return x + Math.log1p(Math.exp(-2 * x)) - Math.LN2;
    };
    expectClose(losses.logCosh(tt, pp), rowMean(tt, pp, lc));
    expectClose(losses.logCosh([[0, 1], [0, 0]], [[1, 1], [0, 0]]), [0.21689, 0], 1e-4);
  });

  // [2, 2, 3]: the last axis (3) differs from axis 1 (2), so a loss averaged over the wrong axis
  // has the wrong shape and values
  it('every regression loss reduces the last axis of a rank-3 input', () => {
    const t3 = [[[0, 1, 2], [3, -1, 0.5]], [[1, 1, 1], [-2, 0, 4]]];
    const p3 = [[[0.5, 1, 3], [1, -1, 2]], [[0, 2, 1], [-1, 1, 2.5]]];
    const perRow = (f: (a: number, b: number) => number): Rows => t3.map((m, i) => m.map((r, j) => mean(r.map((a, k) => f(a, p3[i][j][k])))));
    const l = (x: number): number => Math.log(Math.max(x, EPS) + 1);
    const lc = (a: number, b: number): number => Math.abs(b - a) + Math.log1p(Math.exp(-2 * Math.abs(b - a))) - Math.LN2;
    const hub = (a: number, b: number): number => (Math.abs(b - a) <= 1 ? 0.5 * (b - a) ** 2 : Math.abs(b - a) - 0.5);
    expectClose(losses.meanSquaredError(t3, p3), perRow((a, b) => (a - b) ** 2));
    expectClose(losses.meanAbsoluteError(t3, p3), perRow((a, b) => Math.abs(a - b)));
    expectClose(losses.meanAbsolutePercentageError(t3, p3), perRow((a, b) => 100 * Math.abs((a - b) / Math.max(Math.abs(a), EPS))), 1e-5);
    expectClose(losses.meanSquaredLogarithmicError(t3, p3), perRow((a, b) => (l(b) - l(a)) ** 2));
    expectClose(losses.huber(t3, p3), perRow(hub));
    expectClose(losses.logCosh(t3, p3), perRow(lc));
    const cos = (a: number[], b: number[]): number => -sum(a.map((x, i) => x * b[i])) / Math.hypot(...a) / Math.hypot(...b);
    expectClose(losses.cosineSimilarity(t3, p3), t3.map((m, i) => m.map((r, j) => cos(r, p3[i][j]))));
    expectClose(new losses.CosineSimilarity({ reduction: 'none' }).apply(t3, p3), t3.map((m, i) => m.map((r, j) => cos(r, p3[i][j]))));
    // along axis 1 instead: the two rows of each sample against each other, per column
    const byColumn = t3.map((m, i) => [0, 1, 2].map((k) => cos(m.map((r) => r[k]), p3[i].map((r) => r[k]))));
    const axis1 = new losses.CosineSimilarity({ axis: 1, reduction: 'none' });
    expectClose(axis1.apply(t3, p3), byColumn);
    expect(axis1.getConfig()).toEqual({ name: 'cosine_similarity', reduction: 'none', axis: 1 });
    expectClose(losses.CosineSimilarity.fromConfig(axis1.getConfig()).apply(t3, p3), byColumn);
    expect(() => losses.huber(t3, p3, -1)).toThrow('huber: delta must be a number in [0, Infinity], got number -1');
  });

  it('each regression loss has Keras 3\'s name, and its errors name the function or the loss', () => {
    const classes: [new () => kiln.losses.Loss, string][] = [
      [losses.MeanSquaredError, 'mean_squared_error'], [losses.MeanAbsoluteError, 'mean_absolute_error'],
      [losses.MeanAbsolutePercentageError, 'mean_absolute_percentage_error'],
      [losses.MeanSquaredLogarithmicError, 'mean_squared_logarithmic_error'], [losses.Huber, 'huber_loss'],
      [losses.LogCosh, 'log_cosh'], [losses.CosineSimilarity, 'cosine_similarity'],
    ];
    for (const [Cls, name] of classes) {
      const loss = new Cls();
      expect(loss.name).toBe(name);
      expect(() => loss.apply([[1, 2]], [[1, 2, 3]]), name).toThrow(`${name}: yTrue and yPred must have the same shape`);
    }
    const functions: [(t: number[][], p: number[][]) => kiln.Tensor, string][] = [
      [losses.meanSquaredError, 'meanSquaredError'], [losses.meanAbsoluteError, 'meanAbsoluteError'],
      [losses.meanAbsolutePercentageError, 'meanAbsolutePercentageError'],
      [losses.meanSquaredLogarithmicError, 'meanSquaredLogarithmicError'], [(t, p) => losses.huber(t, p), 'huber'],
      [losses.logCosh, 'logCosh'], [(t, p) => losses.cosineSimilarity(t, p), 'cosineSimilarity'],
    ];
    for (const [f, name] of functions) expect(() => f([[1, 2]], [[1, 2, 3]]), name).toThrow(`${name}: yTrue and yPred must have the same shape`);
  });

  it('cosine similarity, along an axis, 0 for a zero vector', () => {
    expectClose(losses.cosineSimilarity([[0, 1], [1, 1], [1, 1], [0, 0]], [[1, 0], [1, 1], [-1, -1], [1, 2]]), [0, -1, 1, 0]);
    const tt = [[1, 2], [3, 4]];
    const pp = [[2, 1], [0, 5]];
    const col = (m: Rows, j: number): number[] => m.map((r) => r[j]);
    const cos = (a: number[], b: number[]): number => -sum(a.map((x, i) => x * b[i])) / Math.hypot(...a) / Math.hypot(...b);
    expectClose(losses.cosineSimilarity(tt, pp, 0), [cos(col(tt, 0), col(pp, 0)), cos(col(tt, 1), col(pp, 1))]);
    expectClose(new losses.CosineSimilarity({ axis: 0, reduction: 'sum' }).apply(tt, pp), cos(col(tt, 0), col(pp, 0)) + cos(col(tt, 1), col(pp, 1)));
  });
});

describe('binary crossentropy', () => {
  const bt = [[0, 1], [0, 0]];
  it('matches Keras on probabilities, clipping them to [ε, 1-ε]', () => {
    expectClose(losses.binaryCrossentropy(bt, [[0.6, 0.4], [0.4, 0.6]]), [0.9163, 0.7136], 1e-3);
    const pp = [[0, 1], [1, 0.3]];
    expectClose(losses.binaryCrossentropy(bt, pp), rowMean(bt, pp, bceTerm), 1e-4);
  });

  it('from logits: the Keras example, and finite for huge logits', () => {
    const lt = [[0, 1], [0, 0]];
    const lp = [[-18.6, 0.51], [2.94, -12.8]];
    expectClose(new losses.BinaryCrossentropy({ fromLogits: true }).apply(lt, lp), 0.8654, 1e-4);
    expectClose(new losses.BinaryCrossentropy({ fromLogits: true }).apply(lt, lp, [0.8, 0.2]), 0.2436, 1e-3);
    expectClose(new losses.BinaryCrossentropy({ fromLogits: true, reduction: 'sum' }).apply(lt, lp), 1.7309, 1e-4);
    expectClose(new losses.BinaryCrossentropy({ fromLogits: true, reduction: 'none' }).apply(lt, lp), [0.2352, 1.4958], 1e-3);
    const big = [[200, -200], [-200, 200]];
    expectClose(losses.binaryCrossentropy([[1, 0], [1, 0]], big, { fromLogits: true }), [0, 200]);
  });

  it('label smoothing squeezes labels toward 0.5; axis picks the averaged axis', () => {
    const s = 0.2;
    const pp = [[0.3, 0.8], [0.6, 0.1]];
    const smooth = bt.map((r) => r.map((x) => x * (1 - s) + 0.5 * s));
    expectClose(losses.binaryCrossentropy(bt, pp, { labelSmoothing: s }), rowMean(smooth, pp, bceTerm));
    const lg = [[0.3, -2], [1.5, 0.1]];
    const ref = rowMean(smooth, lg, (a, x) => softplus(x) - a * x);
    expectClose(new losses.BinaryCrossentropy({ fromLogits: true, labelSmoothing: s, reduction: 'none' }).apply(bt, lg), ref);
    const byColumn = [0, 1].map((j) => mean([0, 1].map((i) => bceTerm(bt[i][j], pp[i][j]))));
    expectClose(losses.binaryCrossentropy(bt, pp, { axis: 0 }), byColumn);
    expect(() => losses.binaryCrossentropy(bt, pp, { labelSmoothing: 2 })).toThrow('binaryCrossentropy: labelSmoothing must be a number in [0, 1], got number 2');
  });

  it('focal: the Keras examples, and the formula with class balancing and smoothing', () => {
    expectClose(losses.binaryFocalCrossentropy(bt, [[0.6, 0.4], [0.4, 0.6]]), [0.330, 0.206], 2e-3);
    const yt = [0, 1, 0, 0];
    const lp = [-18.6, 0.51, 2.94, -12.8];
    expectClose(new losses.BinaryFocalCrossentropy({ gamma: 2, fromLogits: true }).apply(yt, lp), 0.691, 1e-3);
    expectClose(new losses.BinaryFocalCrossentropy({ applyClassBalancing: true, gamma: 2, fromLogits: true }).apply(yt, lp), 0.51, 2e-3);
    expectClose(new losses.BinaryFocalCrossentropy({ gamma: 3, fromLogits: true }).apply([[0, 1], [0, 0]], [[-18.6, 0.51], [2.94, -12.8]], [0.8, 0.2]), 0.133, 3e-3);
    const o = { alpha: 0.4, gamma: 1.5, labelSmoothing: 0.1 };
    const pp = [[0.3, 0.8], [0.6, 0.1]];
    const focal = (a0: number, p: number): number => {
      const a = a0 * 0.9 + 0.05;
      const pt = a * p + (1 - a) * (1 - p);
      return (a * o.alpha + (1 - a) * (1 - o.alpha)) * (1 - pt) ** o.gamma * bceTerm(a, p);
    };
    expectClose(losses.binaryFocalCrossentropy(bt, pp, { ...o, applyClassBalancing: true }), rowMean(bt, pp, focal));
  });
});

describe('categorical crossentropy', () => {
  const cceRef = (t: Rows, p: Rows): number[] => t.map((r, i) => {
    const s = sum(p[i]);
    return -sum(r.map((a, j) => a * Math.log(clip(p[i][j] / s, EPS, ONE_MINUS_EPS))));
  });

  it('on probabilities (renormalized per row, clipped) and on logits', () => {
    expectClose(losses.categoricalCrossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]), [0.0513, 2.3026], 1e-3);
    const unnormalized = [[1, 2, 1], [0, 3, 1]];
    expectClose(losses.categoricalCrossentropy(Y1, unnormalized), cceRef(Y1, unnormalized));
    const ref = LOGITS.map((r, i) => -sum(logSoftmax(r).map((l, j) => l * Y1[i][j])));
    expectClose(losses.categoricalCrossentropy(Y1, LOGITS, { fromLogits: true }), ref);
    expectClose(losses.categoricalCrossentropy([[1, 0]], [[1000, -1000]], { fromLogits: true }), [0]);
    expectClose(losses.categoricalCrossentropy([[0, 1]], [[1000, -1000]], { fromLogits: true }), [2000]);
  });

  it('label smoothing spreads smoothing / numClasses; axis picks the class axis', () => {
    const s = 0.3;
    const smooth = Y1.map((r) => r.map((x) => x * (1 - s) + s / 3));
    expectClose(new losses.CategoricalCrossentropy({ labelSmoothing: s, reduction: 'none' }).apply(Y1, PROBS), cceRef(smooth, PROBS));
    const tr = (m: Rows): Rows => m[0].map((_, j) => m.map((r) => r[j]));
    expectClose(losses.categoricalCrossentropy(tr(Y1), tr(PROBS), { axis: 0 }), cceRef(Y1, PROBS));
    expect(() => losses.categoricalCrossentropy(Y1, PROBS, { axis: 2 })).toThrow('categoricalCrossentropy: axis 2 is out of range for a tensor of rank 2');
    expect(() => losses.categoricalCrossentropy(1, 0.5)).toThrow('categoricalCrossentropy: yPred must have a class axis, got a scalar');
  });

  it('focal: the Keras examples and the formula from logits', () => {
    expectClose(losses.categoricalFocalCrossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]]), [2.634e-4, 0.67591], 1e-3);
    const k = new losses.CategoricalFocalCrossentropy();
    const kt = [[0, 1, 0], [0, 0, 1]];
    const kp = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]];
    expectClose(k.apply(kt, kp), 0.23315276, 1e-5);
    expectClose(k.apply(kt, kp, [0.3, 0.7]), 0.1632, 1e-3);
    const o = { alpha: 0.5, gamma: 1 };
    const ref = LOGITS.map((r, i) => sum(logSoftmax(r).map((l, j) => o.alpha * (1 - Math.exp(l)) ** o.gamma * -Y1[i][j] * l)));
    expectClose(losses.categoricalFocalCrossentropy(Y1, LOGITS, { ...o, fromLogits: true }), ref);
  });
});

describe('sparse categorical crossentropy', () => {
  const kp = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]];

  it('matches Keras, with [N] or [N, 1] labels, float or int32', () => {
    expectClose(losses.sparseCategoricalCrossentropy([1, 2], kp), [0.0513, 2.3026], 1e-3);
    expectClose(new losses.SparseCategoricalCrossentropy().apply([1, 2], kp), 1.177, 1e-3);
    expectClose(new losses.SparseCategoricalCrossentropy().apply([[1], [2]], kp, [0.3, 0.7]), 0.814, 1e-3);
    expectClose(new losses.SparseCategoricalCrossentropy({ reduction: 'sum' }).apply(kiln.tensor([1, 2], [2], 'int32'), kp), 2.354, 1e-3);
  });

  it('from logits, and along another class axis', () => {
    const ref = LOGITS.map((r, i) => -logSoftmax(r)[[2, 1][i]]);
    expectClose(losses.sparseCategoricalCrossentropy([2, 1], LOGITS, { fromLogits: true }), ref);
    // [N, C, T] predictions with the classes on axis 1, labels [N, T]
    const p3 = [[[2, -3], [-1, 4], [0.5, 1]]];
    expectClose(losses.sparseCategoricalCrossentropy([[2, 1]], p3, { fromLogits: true, axis: 1 }), [ref]);
  });

  it('ignoreClass: ignored rows give 0 and the average runs over the others', () => {
    const p = [[0.05, 0.95, 0], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1]];
    const per = [-Math.log(0.95), 0, -Math.log(0.1)];
    const loss = new losses.SparseCategoricalCrossentropy({ ignoreClass: -1 });
    expectClose(losses.sparseCategoricalCrossentropy([1, -1, 2], p, { ignoreClass: -1 }), per, 1e-5);
    expectClose(loss.apply([1, -1, 2], p), (per[0] + per[2]) / 2, 1e-5);
    expectClose(loss.apply([1, -1, 2], p, [1, 5, 3]), (per[0] + 3 * per[2]) / 2, 1e-5);
    expectClose(new losses.SparseCategoricalCrossentropy({ ignoreClass: 255, reduction: 'sum' }).apply([1, 255, 2], p), per[0] + per[2], 1e-5);
    expectClose(loss.apply([-1, -1, -1], p), 0);
  });

  it('rejects labels out of range, naming the loss, the label and the range, at the next read', async () => {
    // checked on the device, so the error comes with the next read on every backend (docs/indices.md)
    const rejects = (t: kiln.Tensor, message: string) => expect(t.data()).rejects.toThrow(message).finally(() => t.dispose());
    await rejects(new losses.SparseCategoricalCrossentropy().apply([1, 3], kp),
      'sparse_categorical_crossentropy: label 3 at position 1 is out of range: labels must be integers in [0, 3)');
    await rejects(losses.sparseCategoricalCrossentropy([-1, 0], kp), 'sparseCategoricalCrossentropy: label -1 at position 0');
    await rejects(losses.sparseCategoricalCrossentropy([0.5, 0], kp), 'label 0.5 at position 0 is out of range');
    await rejects(losses.sparseCategoricalCrossentropy([NaN, 0], kp), 'label NaN at position 0 is out of range');
    await rejects(losses.sparseCategoricalCrossentropy([0, 2, 7], [...kp, kp[0]], { ignoreClass: 255 }), 'label 7 at position 2 is out of range: labels must be integers in [0, 3) (or the ignored class 255)');
    // the ignored class and labels in range pass; the loss meanwhile used clamped labels, never NaN
    const ok = losses.sparseCategoricalCrossentropy([255, 2], kp, { ignoreClass: 255 });
    expect(Array.from(await ok.data()).every(Number.isFinite)).toBe(true);
    ok.dispose();
  });

  it('checks the label shape against yPred', () => {
    expect(() => losses.sparseCategoricalCrossentropy([1, 2, 0], kp)).toThrow(
      'sparseCategoricalCrossentropy: yTrue must hold one class index per row of yPred: for yPred [2,3] (class axis 1) expected yTrue [2], got [3]');
    expect(() => losses.sparseCategoricalCrossentropy([1, 2], kp, { ignoreClass: 1.5 })).toThrow('ignoreClass must be an integer or null');
  });
});

describe('KL divergence and Poisson', () => {
  it('follow Keras, clipping to [ε, 1] for KL', () => {
    const t = [[0, 0.3, 0.7], [0.5, 0.5, 0]];
    const p = [[0.2, 0.2, 0.6], [0.9, 0, 0.1]];
    const kl = (a: number, b: number): number => clip(a, EPS, 1) * Math.log(clip(a, EPS, 1) / clip(b, EPS, 1));
    expectClose(losses.klDivergence(t, p), rowSum(t, p, kl), 1e-5);
    expectClose(new losses.KLDivergence().apply(t, p), mean(rowSum(t, p, kl)), 1e-5);
    expectClose(losses.poisson(T, P), rowMean(T, P, (a, b) => b - a * Math.log(b + EPS)));
  });
});

describe('hinge losses', () => {
  const hingeRef = (t: Rows, p: Rows, sq: boolean): number[] => rowMean(t, p, (a, b) => Math.max(1 - a * b, 0) ** (sq ? 2 : 1));

  it('convert {0, 1} labels to {-1, 1}, and leave other labels alone', () => {
    const p = [[0.3, -0.8], [1.5, 0.2]];
    const pm = [[-1, 1], [1, -1]];
    expectClose(losses.hinge([[0, 1], [1, 0]], p), hingeRef(pm, p, false));
    expectClose(losses.hinge(pm, p), hingeRef(pm, p, false));
    expectClose(losses.squaredHinge([[0, 1], [1, 0]], p), hingeRef(pm, p, true));
    // one label outside {0, 1}: nothing is converted
    const mixed = [[0, 1], [1, 2]];
    expectClose(losses.hinge(mixed, p), hingeRef(mixed, p, false));
    expectClose(new losses.SquaredHinge({ reduction: 'sum' }).apply(pm, p), sum(hingeRef(pm, p, true)));
  });

  it('categorical hinge: max(neg - pos + 1, 0)', () => {
    const ref = Y1.map((r, i) => Math.max(Math.max(...r.map((a, j) => (1 - a) * PROBS[i][j])) - sum(r.map((a, j) => a * PROBS[i][j])) + 1, 0));
    expectClose(losses.categoricalHinge(Y1, PROBS), ref);
    expectClose(losses.categoricalHinge([[1, 0]], [[3, 0.5]]), [0]);
  });
});

describe('segmentation losses', () => {
  const t = [[[[1], [1]], [[0], [0]]], [[[1], [1]], [[0], [0]]]];
  const p = [[[[0], [1]], [[0], [1]]], [[[0.4], [0]], [[0], [0.9]]]];

  it('dice: the Keras example, over all axes or per sample', () => {
    expectClose(losses.dice(t, p, [1, 2, 3]), [0.5, 0.757575], 1e-5);
    expectClose(losses.dice(t, p), 0.6164384, 1e-5);
    expectClose(new losses.Dice({ axis: [1, 2, 3], reduction: 'none' }).apply(t, p), [0.5, 0.757575], 1e-5);
    expectClose(new losses.Dice({ axis: [1, 2, 3] }).apply(t, p), (0.5 + 0.7575757) / 2, 1e-5);
    expectClose(new losses.Dice().apply(t, p), 0.6164384, 1e-5);
  });

  it("tversky: Keras's formula, equal to dice at alpha = beta = 0.5", () => {
    expectClose(losses.tversky(t, p, { axis: [1, 2, 3] }), [0.5, 0.757575], 1e-5);
    const flat = (m: number[][][][], i: number): number[] => m[i].flat(2);
    const ref = (i: number, alpha: number, beta: number): number => {
      const [ft, fp] = [flat(t, i), flat(p, i)];
      const tp = sum(ft.map((a, j) => a * fp[j]));
      const kerasFp = sum(ft.map((a, j) => (1 - fp[j]) * a));
      const kerasFn = sum(ft.map((a, j) => fp[j] * (1 - a)));
      return 1 - tp / (tp + alpha * kerasFp + beta * kerasFn + EPS);
    };
    const loss = new losses.Tversky({ alpha: 0.3, beta: 0.7, axis: [1, 2, 3], reduction: 'none' });
    expectClose(loss.apply(t, p), [ref(0, 0.3, 0.7), ref(1, 0.3, 0.7)], 1e-5);
  });
});

describe('getLoss and serialization', () => {
  const idsByClass: Record<string, string> = {
    MeanSquaredError: 'mse mean_squared_error meanSquaredError', MeanAbsoluteError: 'mae mean_absolute_error',
    MeanAbsolutePercentageError: 'mape', MeanSquaredLogarithmicError: 'msle', Huber: 'huber', LogCosh: 'log_cosh',
    BinaryCrossentropy: 'binary_crossentropy BinaryCrossentropy', BinaryFocalCrossentropy: 'binary_focal_crossentropy',
    CategoricalCrossentropy: 'categorical_crossentropy', CategoricalFocalCrossentropy: 'categorical_focal_crossentropy',
    SparseCategoricalCrossentropy: 'sparse_categorical_crossentropy sparseCategoricalCrossentropy',
    KLDivergence: 'kl_divergence kld klDivergence', Poisson: 'poisson', Hinge: 'hinge', SquaredHinge: 'squared_hinge',
    CategoricalHinge: 'categorical_hinge', CosineSimilarity: 'cosine_similarity', Dice: 'dice', Tversky: 'tversky',
  };
  const ids = Object.entries(idsByClass).flatMap(([cls, names]) => names.split(' ').map((id) => [id, cls]));

  it.each(ids)('%s resolves to %s', (id, cls) => {
    expect(losses.getLoss(id).constructor.name).toBe(cls);
  });

  it('lists the known ids for an unknown one', () => {
    expect(() => losses.getLoss('mean_cubed_error')).toThrow("getLoss: unknown loss 'mean_cubed_error'; known ids: mse, mean_squared_error");
    expect(() => losses.getLoss(42)).toThrow('getLoss: expected a loss id string, a Loss, a function or a {className, config} object, got number 42');
  });

  it('passes Loss instances through, instantiates classes and wraps functions', () => {
    const l = new losses.Huber({ delta: 0.5 });
    expect(losses.getLoss(l)).toBe(l);
    expect(losses.getLoss(losses.Poisson)).toBeInstanceOf(losses.Poisson);
    const wrapped = losses.getLoss(losses.meanAbsoluteError);
    expect(wrapped.name).toBe('mean_absolute_error');
    expectClose(wrapped.apply([1, 2], [[0], [0]]), 1.5);
    const custom = losses.getLoss((yTrue: kiln.Tensor, yPred: kiln.Tensor) => kiln.ops.sum(kiln.ops.subtract(yPred, yTrue), -1));
    expectClose(custom.apply([[1, 2]], [[3, 5]]), 5);
  });

  it('round-trips every loss through serializeLoss and getLoss', () => {
    const all = [
      new losses.MeanSquaredError({ reduction: 'sum' }), new losses.MeanAbsoluteError(), new losses.MeanAbsolutePercentageError(),
      new losses.MeanSquaredLogarithmicError(), new losses.Huber({ delta: 0.3 }), new losses.LogCosh(),
      new losses.CosineSimilarity({ axis: 0 }),
      new losses.BinaryCrossentropy({ fromLogits: true, labelSmoothing: 0.1, axis: 0, name: 'b' }),
      new losses.BinaryFocalCrossentropy({ applyClassBalancing: true, alpha: 0.3, gamma: 1 }),
      new losses.CategoricalCrossentropy({ labelSmoothing: 0.2 }), new losses.CategoricalFocalCrossentropy({ alpha: 0.5 }),
      new losses.SparseCategoricalCrossentropy({ fromLogits: true, ignoreClass: 255 }), new losses.KLDivergence(), new losses.Poisson(),
      new losses.Hinge(), new losses.SquaredHinge(), new losses.CategoricalHinge({ reduction: 'none' }),
      new losses.Dice({ axis: [1, 2] }), new losses.Tversky({ alpha: 0.2, beta: 0.8, axis: 1 }),
      losses.getLoss(losses.categoricalHinge),
    ];
    for (const loss of all) {
      const saved = JSON.parse(JSON.stringify(losses.serializeLoss(loss)));
      const back = losses.getLoss(saved);
      expect(back.constructor).toBe(loss.constructor);
      expect(losses.serializeLoss(back)).toEqual(saved);
    }
    expect(losses.serializeLoss(new losses.Huber({ delta: 0.3 }))).toEqual({ className: 'Huber', config: { name: 'huber_loss', reduction: 'sum_over_batch_size', delta: 0.3 } });
    expect(losses.serializeLoss(losses.getLoss(losses.categoricalHinge)).config.fn).toBe('categorical_hinge');
  });

  it('rebuilds custom classes given to it, and refuses to serialize custom functions', () => {
    class Zero extends losses.Loss {
      override call(yTrue: kiln.Tensor): kiln.Tensor {
        return kiln.ops.multiply(kiln.ops.sum(yTrue, -1), 0);
      }
    }
    const saved = losses.serializeLoss(new Zero({ reduction: 'sum' }));
    expect(saved).toEqual({ className: 'Zero', config: { name: 'zero', reduction: 'sum' } });
    expect(losses.getLoss(saved, { Zero })).toBeInstanceOf(Zero);
    expect(() => losses.getLoss(saved)).toThrow("getLoss: unknown loss class 'Zero'");
    const fn = (a: kiln.Tensor, b: kiln.Tensor): kiln.Tensor => kiln.ops.subtract(a, b);
    expect(() => losses.serializeLoss(losses.getLoss(fn))).toThrow("serializeLoss: cannot serialize the custom loss function 'fn'");
  });
});

describe('gradients', () => {
  it('categorical crossentropy from logits: (softmax - y) / N', () => {
    const x = kiln.tensor(LOGITS);
    const { grads } = kiln.valueAndGrad(() => new losses.CategoricalCrossentropy({ fromLogits: true }).apply(Y1, x), [x]);
    const ref = LOGITS.map((r, i) => logSoftmax(r).map((l, j) => (Math.exp(l) - Y1[i][j]) / 2));
    expectClose(grads[0]!, ref);
  });

  it('stay finite where Keras guards: ignored classes, zero vectors, huge logits', () => {
    // d/dp of -log(p1 / (p0 + p1)) at [0.2, 0.8] is [1, -0.25] (rows are renormalized); the average
    // runs over the one counted row, and the ignored row gets no gradient
    const p = kiln.tensor([[0.2, 0.8], [0.5, 0.5]]);
    const sparse = kiln.valueAndGrad(() => new losses.SparseCategoricalCrossentropy({ ignoreClass: -1 }).apply([1, -1], p), [p]);
    expectClose(sparse.grads[0]!, [[1, -0.25], [0, 0]]);
    const v = kiln.tensor([[0, 0], [1, 0]]);
    const cos = kiln.valueAndGrad(() => new losses.CosineSimilarity().apply([[1, 0], [0, 1]], v), [v]);
    expect(Array.from(cos.grads[0]!.dataSync()).every(Number.isFinite)).toBe(true);
    const z = kiln.tensor([[300, -300]]);
    const bce = kiln.valueAndGrad(() => new losses.BinaryCrossentropy({ fromLogits: true }).apply([[0, 1]], z), [z]);
    expectClose(bce.grads[0]!, [[0.5, -0.5]]);
  });
});

describe('rank-3 inputs: each loss reduces the last axis (3), not axis 1 (2)', () => {
  const t3 = [[[0, 1, 0], [1, 0, 0]], [[0, 0, 1], [0, 1, 0]]];
  const p3 = [[[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]];
  const perRow = (f: (t: number[], p: number[]) => number): Rows => t3.map((m, i) => m.map((r, j) => f(r, p3[i][j])));
  const pm = (x: number): number => 2 * x - 1;

  it('hinge, squared hinge, categorical hinge', () => {
    expectClose(losses.hinge(t3, p3), perRow((t, p) => mean(t.map((a, k) => Math.max(1 - pm(a) * p[k], 0)))));
    expectClose(losses.squaredHinge(t3, p3), perRow((t, p) => mean(t.map((a, k) => Math.max(1 - pm(a) * p[k], 0) ** 2))));
    expectClose(losses.categoricalHinge(t3, p3), perRow((t, p) => Math.max(Math.max(...t.map((a, k) => (1 - a) * p[k])) - sum(t.map((a, k) => a * p[k])) + 1, 0)));
  });

  it('KL divergence and Poisson', () => {
    expectClose(losses.klDivergence(t3, p3), perRow((t, p) => sum(t.map((a, k) => clip(a, EPS, 1) * Math.log(clip(a, EPS, 1) / clip(p[k], EPS, 1))))));
    expectClose(losses.poisson(t3, p3), perRow((t, p) => mean(t.map((a, k) => p[k] - a * Math.log(p[k] + EPS)))));
  });

  it('the crossentropies, sparse labels as [N, T] or [N, T, 1]', () => {
    const q = (p: number[], k: number): number => clip(p[k] / sum(p), EPS, ONE_MINUS_EPS);
    expectClose(losses.binaryCrossentropy(t3, p3), perRow((t, p) => mean(t.map((a, k) => bceTerm(a, p[k])))));
    expectClose(losses.categoricalCrossentropy(t3, p3), perRow((t, p) => -sum(t.map((a, k) => a * Math.log(q(p, k))))));
    expectClose(losses.categoricalFocalCrossentropy(t3, p3), perRow((t, p) => sum(t.map((a, k) => 0.25 * (1 - q(p, k)) ** 2 * -a * Math.log(q(p, k))))));
    const labels = t3.map((m) => m.map((r) => r.indexOf(1)));
    const sparse = perRow((t, p) => -Math.log(q(p, t.indexOf(1))));
    expectClose(losses.sparseCategoricalCrossentropy(labels, p3), sparse);
    expectClose(losses.sparseCategoricalCrossentropy(labels.map((m) => m.map((l) => [l])), p3), sparse);
    expect(() => losses.sparseCategoricalCrossentropy(t3, p3)).toThrow(
      'sparseCategoricalCrossentropy: yTrue must hold one class index per row of yPred: for yPred [2,2,3] (class axis 2) expected yTrue [2,2], got [2,2,3]');
  });

  it('a trailing 1 on either side is matched, at rank 3 too', () => {
    const yt = [[[1], [2], [0]], [[0], [1], [1]]];
    const yp = [[0, 0, 0], [1, 1, 3]];
    const want = [(1 + 4 + 0) / 3, (1 + 0 + 4) / 3];
    expectClose(losses.meanSquaredError(yt, yp), want);
    expectClose(losses.meanSquaredError(yp, yt), want);
    expect(() => losses.meanSquaredError(yp, [[[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]])).toThrow(
      'meanSquaredError: yTrue and yPred must have the same shape (up to a trailing 1), got yTrue [2,3] and yPred [2,3,4]');
  });
});

describe('masks and sample weights against per-timestep losses', () => {
  // MSE over a last axis of 1: per-sample losses of shape [2, 3], [[1, 4, 9], [16, 25, 36]]
  const yt = [[[0], [0], [0]], [[0], [0], [0]]];
  const yp = [[[1], [2], [3]], [[4], [5], [6]]];
  const mse = (reduction: kiln.losses.Reduction) => new losses.MeanSquaredError({ reduction });
  const bool = (values: number[], shape: number[]) => kiln.tensor(values, shape, 'bool');

  it('a mask of samples [2] leads the losses: its false samples count for nothing, the average runs over the rest', () => {
    const mask = bool([1, 0], [2]);
    expectClose(mse('sum_over_batch_size').apply(yt, yp, null, mask), 14 / 3);
    expectClose(mse('mean').apply(yt, yp, null, mask), 14 / 3);
    expectClose(mse('sum').apply(yt, yp, null, mask), 14);
    expectClose(mse('none').apply(yt, yp, null, mask), [[1, 4, 9], [0, 0, 0]]);
    // weights times the scaled mask: sample 0 weighs 0.5 · 2
    expectClose(mse('sum_over_batch_size').apply(yt, yp, [0.5, 2], mask), (0.5 * 2 * 14) / 6);
  });

  it('a mask of steps with a trailing 1 [2, 3, 1] drops it', () => {
    const mask = bool([1, 0, 1, 0, 0, 1], [2, 3, 1]);
    expectClose(mse('sum_over_batch_size').apply(yt, yp, null, mask), (1 + 9 + 36) / 3);
    expectClose(mse('sum').apply(yt, yp, null, mask), 46);
  });

  it('a mask whose axes do not lead the losses\' is an error naming both shapes', () => {
    for (const shape of [[], [3], [2, 1], [2, 3, 2]]) {
      const mask = kiln.ones(shape, 'bool');
      expect(() => mse('sum').apply(yt, yp, null, mask)).toThrow(
        `mean_squared_error: the mask on yPred has shape [${shape}], which does not fit the per-sample losses of shape [2,3]: its axes must lead theirs`);
    }
    expect(() => mse('sum').apply(yt, yp, [1, 2, 3], bool([1, 0], [2]))).toThrow(
      'mean_squared_error: sampleWeight of shape [3,1] does not fit the mask of shape [2,1]');
  });

  it('per-step weights [3] broadcast along the last axis of [2, 3] losses; weights of higher rank do not fit', () => {
    expectClose(mse('none').apply(yt, yp, [1, 0, 2]), [[1, 0, 18], [16, 0, 72]]);
    expectClose(mse('sum_over_batch_size').apply(yt, yp, [1, 0, 2]), 107 / 6);
    // [2, 3] weights against [2, 2, 3] losses: the first axes agree, the shape does not lead, so it
    // broadcasts along the last two axes (one weight per step and feature, for every sample)
    const y4 = [[[[1], [2], [3]], [[4], [5], [6]]], [[[1], [1], [1]], [[2], [2], [2]]]];
    const zero4 = y4.map((a) => a.map((b) => b.map(() => [0])));
    expectClose(mse('none').apply(zero4, y4, [[1, 0, 2], [0, 1, 0]]), [[[1, 0, 18], [0, 25, 0]], [[1, 0, 2], [0, 4, 0]]]);
    expect(() => mse('sum').apply([[0, 0], [0, 0]], [[1, 1], [1, 1]], [[[1]]])).toThrow(
      'mean_squared_error: sampleWeight of shape [1,1,1] does not fit the per-sample losses of shape [2]');
  });

  it('a loss that is one scalar (dice over all axes) is weighed and returned as it is, as Keras does', () => {
    const t = [[1, 1], [0, 0]];
    const p = [[0, 1], [0, 1]];
    // 1 - 2·1 / (2 + 2 + ε)
    const value = 1 - 2 / (4 + EPS);
    expectClose(new losses.Dice({ reduction: 'mean_with_sample_weight' }).apply(t, p, 2), 2 * value);
    expectClose(new losses.Dice({ reduction: 'sum_over_batch_size' }).apply(t, p, 3), 3 * value);
  });

  it('sparse crossentropy: a mask and ignoreClass each leave rows out', () => {
    const p = [[0.05, 0.95, 0], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1]];
    const loss = new losses.SparseCategoricalCrossentropy({ ignoreClass: -1 });
    // row 1 is ignored, row 2 masked: the average is row 0's alone
    expectClose(loss.apply([1, -1, 2], p, null, bool([1, 1, 0], [3])), -Math.log(0.95));
    expectClose(loss.call(kiln.tensor([1, -1, 2]), kiln.tensor(p)), [-Math.log(0.95), 0, -Math.log(0.1)]);
  });
});

describe('degenerate predictions in float64', () => {
  it('categorical focal clips a probability within ε of 1 to 1 - ε before (1 - p)^γ', () => {
    // p/Σp = 1 - 2e-8 for the true class: clipped to 1 - 1e-7, so the loss is 0.25·(1e-7)²·-log(1 - 1e-7)
    const p = kiln.tensor([[2e-8, 1 - 2e-8]], [1, 2], 'float64');
    const q = 1 - 1e-7;
    const want = 0.25 * (1 - q) ** 2 * -Math.log(q);
    expectClose(losses.categoricalFocalCrossentropy([[0, 1]], p), [want], 1e-9, 0);
  });

  it('sparse crossentropy names the label out of range and the range, with or without an ignored class', async () => {
    const p = [[0.5, 0.5], [0.5, 0.5]];
    // the label check runs on the device; its error comes with the next read (docs/indices.md)
    const read = async (t: kiln.Tensor) => {
      try {
        await t.data();
      } finally {
        t.dispose();
      }
    };
    await expect(read(losses.sparseCategoricalCrossentropy([0, 2], p))).rejects.toThrow(
      new RegExp('^sparseCategoricalCrossentropy: label 2 at position 1 is out of range: labels must be integers in \\[0, 2\\)$'));
    await expect(read(losses.sparseCategoricalCrossentropy([-3, 0], p, { ignoreClass: -1 }))).rejects.toThrow(
      new RegExp('^sparseCategoricalCrossentropy: label -3 at position 0 is out of range: labels must be integers in \\[0, 2\\) \\(or the ignored class -1\\)$'));
  });
});
