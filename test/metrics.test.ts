/**
 * kiln.metrics against hand-computed values (and the values in Keras 3's docstrings), over
 * several updateState calls with sample weights, resetState, the 'accuracy' resolution rules,
 * configs, and a leak check.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import * as metrics from '../metrics/index.js';
import type { Metric } from '../metrics/index.js';

type Nested = number | Nested[];

/** The result as plain numbers (the result tensor is freed). */
async function value(m: { result(): kiln.Tensor }): Promise<Nested> {
  const r = m.result();
  const v = (await r.array()) as Nested;
  r.dispose();
  return v;
}

async function expectClose(m: { result(): kiln.Tensor }, expected: Nested, digits = 5): Promise<void> {
  const got = await value(m);
  const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);
  expect(Array.isArray(got)).toBe(Array.isArray(expected));
  const [g, e] = [flat(got), flat(expected)];
  expect(g.length).toBe(e.length);
  g.forEach((v, i) => expect(v).toBeCloseTo(e[i], digits));
}

describe('Mean, Sum, MeanMetricWrapper', () => {
  it('Mean: weighted mean over calls; weights reduce per sample; reset', async () => {
    const m = new metrics.Mean();
    expect(m.name).toBe('mean');
    await expectClose(m, 0); // no data: 0/0 is 0, as divide_no_nan
    m.updateState([1, 3, 5, 7]);
    await expectClose(m, 4);
    m.updateState([2], [4]); // total 16 + 8, count 4 + 4
    await expectClose(m, 3);
    m.resetState();
    m.updateState([1, 3, 5, 7], [1, 1, 0, 0]);
    await expectClose(m, 2);
    m.resetState();
    m.updateState([[1, 2], [3, 4]]); // per-sample means 1.5, 3.5
    await expectClose(m, 2.5);
    m.resetState();
    m.updateState([1, 3], 2); // a scalar weight weighs the batch mean: total 2·2, count 2
    m.updateState([10], 0);
    await expectClose(m, 2);
    m.dispose();
  });

  it('Sum: weighted sums accumulate', async () => {
    const m = new metrics.Sum();
    m.updateState([1, 3, 5, 7]);
    await expectClose(m, 16);
    m.updateState([1, 3, 5, 7], [1, 1, 0, 0]);
    await expectClose(m, 20);
    m.resetState();
    await expectClose(m, 0);
    m.dispose();
  });

  it('MeanMetricWrapper: weighted mean of a per-sample function', async () => {
    const absErr = (t: kiln.Tensor, p: kiln.Tensor) => kiln.ops.mean(kiln.ops.abs(kiln.ops.subtract(t, p)), -1);
    const m = new metrics.MeanMetricWrapper(absErr, { name: 'l1' });
    expect(m.name).toBe('l1');
    m.updateState([[0, 1], [0, 0]], [[1, 1], [0, 0]]); // per sample 0.5, 0
    m.updateState([[2, 2]], [[0, 0]], [3]); // 2, weight 3
    await expectClose(m, (0.5 + 0 + 6) / 5);
    expect(m.getConfig()).toEqual({ name: 'l1', dtype: 'float32', fn: 'absErr' });
    m.dispose();
  });
});

describe('accuracy metrics', () => {
  it('Accuracy', async () => {
    const m = new metrics.Accuracy();
    m.updateState([[1], [2], [3], [4]], [[0], [2], [3], [4]]);
    await expectClose(m, 0.75);
    m.updateState([[1], [1]], [[1], [0]], [2, 1]); // total 3 + 2, count 4 + 3
    await expectClose(m, 5 / 7);
    m.resetState();
    m.updateState([[1], [2], [3], [4]], [[0], [2], [3], [4]], [1, 1, 0, 0]);
    await expectClose(m, 0.5);
    m.dispose();
  });

  it('BinaryAccuracy with its threshold', async () => {
    const m = new metrics.BinaryAccuracy();
    m.updateState([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]);
    await expectClose(m, 0.75);
    m.updateState([[1], [0]], [[0.4], [0.2]], [1, 3]); // right only on the second: total 3 + 3, count 4 + 4
    await expectClose(m, 6 / 8);
    m.resetState();
    m.updateState([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], [1, 0, 0, 1]);
    await expectClose(m, 0.5);
    const t = new metrics.BinaryAccuracy({ threshold: 0.7 });
    t.updateState([1, 1, 0, 0], [0.98, 1, 0, 0.6]);
    await expectClose(t, 1);
    expect(t.getConfig()).toEqual({ name: 'binary_accuracy', dtype: 'float32', threshold: 0.7 });
    expect(() => new metrics.BinaryAccuracy({ threshold: 1 })).toThrow(/threshold/);
    m.dispose();
    t.dispose();
  });

  it('CategoricalAccuracy and SparseCategoricalAccuracy', async () => {
    const yPred = [[0.1, 0.9, 0.8], [0.05, 0.95, 0]];
    const c = new metrics.CategoricalAccuracy();
    c.updateState([[0, 0, 1], [0, 1, 0]], yPred);
    await expectClose(c, 0.5);
    c.updateState([[1, 0, 0]], [[0.5, 0.2, 0.3]], [2]);
    await expectClose(c, 3 / 4);
    c.resetState();
    c.updateState([[0, 0, 1], [0, 1, 0]], yPred, [0.7, 0.3]);
    await expectClose(c, 0.3);

    const s = new metrics.SparseCategoricalAccuracy();
    s.updateState([[2], [1]], yPred);
    s.updateState([0, 2], [[0.5, 0.2, 0.3], [0.1, 0.1, 0.8]]); // rank-1 labels
    await expectClose(s, 3 / 4);
    s.resetState();
    s.updateState([[2], [1]], yPred, [0.7, 0.3]);
    await expectClose(s, 0.3);
    c.dispose();
    s.dispose();
  });

  it('TopKCategoricalAccuracy and SparseTopKCategoricalAccuracy', async () => {
    const yPred = [[0.1, 0.9, 0.8], [0.05, 0.95, 0]];
    const t = new metrics.TopKCategoricalAccuracy({ k: 1 });
    t.updateState([[0, 0, 1], [0, 1, 0]], yPred);
    await expectClose(t, 0.5);
    t.resetState();
    t.updateState([[0, 0, 1], [0, 1, 0]], yPred, [0.7, 0.3]);
    await expectClose(t, 0.3);
    expect(new metrics.TopKCategoricalAccuracy().getConfig().k).toBe(5);

    const s = new metrics.SparseTopKCategoricalAccuracy({ k: 2 });
    s.updateState([2, 1], yPred); // both in the top 2
    s.updateState([0], [[0.1, 0.9, 0.8]], [3]); // two scores above the label's
    await expectClose(s, 2 / 5);
    s.dispose();
    t.dispose();
  });

  it('inTopK: ties with the k-th score count as in; NaN scores and out-of-range targets never do', async () => {
    const preds = kiln.tensor([[0.5, 0.5, 0], [0.5, 0.5, 0], [0.5, 0.5, 0], [NaN, 0.2, 0.1], [0.2, NaN, 0.1], [0.2, 0.3, 0.1]]);
    const targets = kiln.tensor([0, 1, 2, 0, 0, 3], [6], 'int32');
    const r = metrics.inTopK(targets, preds, 1);
    expect(await r.array()).toEqual([true, true, false, false, true, false]);
    kiln.dispose([preds, targets, r]);
  });
});

describe('regression metrics', () => {
  const yTrue = [[0, 1], [0, 0]];
  const yPred = [[1, 1], [0, 0]];

  it('MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError', async () => {
    const mse = new metrics.MeanSquaredError();
    mse.updateState(yTrue, yPred);
    await expectClose(mse, 0.25);
    mse.updateState([[3, 3]], [[1, 1]], [2]); // 4 with weight 2: (0.5 + 0 + 8) / 4
    await expectClose(mse, 8.5 / 4);

    const mae = new metrics.MeanAbsoluteError();
    mae.updateState(yTrue, yPred, [1, 0]);
    await expectClose(mae, 0.5);
    mae.updateState([[1, 1]], [[2, 4]]); // 2: (0.5 + 2) / 2
    await expectClose(mae, 1.25);

    const mape = new metrics.MeanAbsolutePercentageError();
    mape.updateState(yTrue, yPred); // a zero label divides by ε = 1e-7
    expect(((await value(mape)) as number) / 2.5e8).toBeCloseTo(1, 5);
    mape.resetState();
    mape.updateState([[2, 4]], [[1, 5]]); // 100 · mean(0.5, 0.25)
    await expectClose(mape, 37.5, 4);
    kiln.dispose([mse, mae, mape].flatMap((m) => m.variables));
  });

  it('RootMeanSquaredError takes the root of the running mean', async () => {
    const m = new metrics.RootMeanSquaredError();
    m.updateState(yTrue, yPred);
    await expectClose(m, 0.5);
    m.resetState();
    m.updateState(yTrue, yPred, [1, 0]);
    await expectClose(m, Math.SQRT1_2);
    m.updateState([[3, 3]], [[1, 1]]); // squared errors 1, 0, 4, 4 over weights 1, 1, 1, 1 (the [1,0] row weighs 0)
    await expectClose(m, Math.sqrt(9 / 4));
    m.dispose();
  });

  it('R2Score: plain, split over calls, weighted, adjusted, per column', async () => {
    const m = new metrics.R2Score();
    m.updateState([[1], [4], [3]], [[2], [4], [4]]);
    await expectClose(m, 4 / 7);
    m.resetState();
    m.updateState([[1], [4]], [[2], [4]]);
    m.updateState([[3]], [[4]]);
    await expectClose(m, 4 / 7);
    m.resetState();
    // weights 1, 2, 1: weighted mean 3, SS_tot 42 - 12·3 = 6, SS_res 2
    m.updateState([[1], [4], [3]], [[2], [4], [4]], [1, 2, 1]);
    await expectClose(m, 1 - 2 / 6);

    const adjusted = new metrics.R2Score({ numRegressors: 1 });
    adjusted.updateState([[1], [4], [3]], [[2], [4], [4]]);
    await expectClose(adjusted, 1 - ((3 / 7) * 2) / 1);
    const tooMany = new metrics.R2Score({ numRegressors: 2 }); // n - p - 1 = 0: plain R²
    tooMany.updateState([[1], [4], [3]], [[2], [4], [4]]);
    await expectClose(tooMany, 4 / 7);

    const t = [[1, 0], [4, 2], [3, 4]];
    const p = [[2, 0], [4, 2], [4, 4]];
    const perColumn = new metrics.R2Score({ classAggregation: null });
    perColumn.updateState(t, p);
    await expectClose(perColumn, [4 / 7, 1]);
    const uniform = new metrics.R2Score();
    uniform.updateState(t, p);
    await expectClose(uniform, (4 / 7 + 1) / 2);
    const weighted = new metrics.R2Score({ classAggregation: 'variance_weighted_average' });
    weighted.updateState(t, p);
    await expectClose(weighted, ((14 / 3) * (4 / 7) + 8) / (14 / 3 + 8), 4);
    expect(uniform.getConfig()).toEqual({ name: 'r2_score', dtype: 'float32', classAggregation: 'uniform_average', numRegressors: 0 });
    for (const x of [m, adjusted, tooMany, perColumn, uniform, weighted]) x.dispose();
  });
});

describe('confusion metrics', () => {
  it('Precision and Recall: thresholds, weights, several calls', async () => {
    const p = new metrics.Precision();
    p.updateState([0, 1, 1, 1], [1, 0, 1, 1]);
    await expectClose(p, 2 / 3);
    p.updateState([1, 0], [0.7, 0.2]); // one more true positive
    await expectClose(p, 3 / 4);
    p.resetState();
    p.updateState([0, 1, 1, 1], [1, 0, 1, 1], [0, 0, 1, 0]);
    await expectClose(p, 1);

    const r = new metrics.Recall();
    r.updateState([0, 1, 1, 1], [1, 0, 1, 1]);
    await expectClose(r, 2 / 3);
    r.updateState([[1], [1]], [[0.9], [0.1]], [2, 1]); // tp 2 + 2, fn 1 + 1
    await expectClose(r, 4 / 6);

    const multi = new metrics.Precision({ thresholds: [0.5, 0.8] });
    multi.updateState([0, 1, 1, 1], [0.6, 0.1, 0.9, 0.7]);
    await expectClose(multi, [2 / 3, 1]);
    for (const m of [p, r, multi]) m.dispose();
  });

  it('Precision/Recall with topK and classId', async () => {
    const top2 = new metrics.Precision({ topK: 2 }); // ties go to the lower index, as in top_k
    top2.updateState([0, 0, 1, 1], [1, 1, 1, 1]);
    await expectClose(top2, 0);
    const top4 = new metrics.Precision({ topK: 4 });
    top4.updateState([0, 0, 1, 1], [1, 1, 1, 1]);
    await expectClose(top4, 0.5);

    const yTrue = [[0, 1], [1, 0], [0, 1]];
    const yPred = [[0.2, 0.8], [0.6, 0.4], [0.7, 0.3]];
    const p = new metrics.Precision({ classId: 1 });
    const r = new metrics.Recall({ classId: 1 });
    p.updateState(yTrue, yPred);
    r.updateState(yTrue, yPred);
    await expectClose(p, 1);
    await expectClose(r, 0.5);
    r.updateState(yTrue, yPred, [0, 1, 1]); // only the missed one counts again: tp 1, fn 2
    await expectClose(r, 1 / 3);
    expect(p.getConfig()).toMatchObject({ thresholds: null, topK: null, classId: 1 });
    for (const m of [top2, top4, p, r]) m.dispose();
  });

  it('AUC: ROC and PR, summation methods, weights, logits', async () => {
    const yTrue = [0, 0, 1, 1];
    const yPred = [0, 0.5, 0.3, 0.9];
    const roc = new metrics.AUC({ numThresholds: 3 });
    expect(roc.thresholds).toEqual([-1e-7, 0.5, 1 + 1e-7]);
    roc.updateState(yTrue.slice(0, 2), yPred.slice(0, 2));
    roc.updateState(yTrue.slice(2), yPred.slice(2));
    await expectClose(roc, 0.75);
    roc.resetState();
    roc.updateState(yTrue, yPred, [1, 0, 0, 1]);
    await expectClose(roc, 1);

    const fine = new metrics.AUC(); // 200 thresholds: distinct buckets give the exact ROC AUC
    fine.updateState(yTrue, [0.1, 0.4, 0.35, 0.8]);
    await expectClose(fine, 0.75);

    // tp [2,1,0], fp [2,0,0], fn [0,1,2]: Davis & Goadrich gives (1 + 2/3·ln 4)/3/2 + 1/2
    const pr = new metrics.AUC({ numThresholds: 3, curve: 'PR' });
    pr.updateState(yTrue, yPred);
    await expectClose(pr, (1 + (2 / 3) * Math.log(4)) / 6 + 0.5);
    const prMin = new metrics.AUC({ numThresholds: 3, curve: 'PR', summationMethod: 'minoring' });
    const prMaj = new metrics.AUC({ numThresholds: 3, curve: 'PR', summationMethod: 'majoring' });
    const rocMin = new metrics.AUC({ numThresholds: 3, summationMethod: 'minoring' });
    for (const m of [prMin, prMaj, rocMin]) m.updateState(yTrue, yPred);
    await expectClose(prMin, 0.25);
    await expectClose(prMaj, 1);
    await expectClose(rocMin, 0.5);

    const logits = new metrics.AUC({ numThresholds: 3, fromLogits: true });
    logits.updateState(yTrue, [-10, 0, Math.log(0.3 / 0.7), Math.log(9)]);
    await expectClose(logits, 0.75);
    for (const m of [roc, fine, pr, prMin, prMaj, rocMin, logits]) m.dispose();
  });

  it('AUC multiLabel averages per-label AUCs (weighted by labelWeights)', async () => {
    const yTrue = [[0, 1], [0, 0], [1, 1], [1, 0]];
    const yPred = [[0, 0.9], [0.5, 0.2], [0.3, 0.8], [0.9, 0.1]];
    const m = new metrics.AUC({ numThresholds: 3, multiLabel: true });
    m.updateState(yTrue, yPred); // label AUCs 0.75 and 1
    await expectClose(m, 0.875);
    const w = new metrics.AUC({ numThresholds: 3, multiLabel: true, numLabels: 2, labelWeights: [1, 3] });
    w.updateState(yTrue.slice(0, 2), yPred.slice(0, 2));
    w.updateState(yTrue.slice(2), yPred.slice(2));
    await expectClose(w, (0.75 + 3) / 4);
    expect(() => w.updateState([[1, 0, 1]], [[1, 0, 1]])).toThrow(/2 labels/);
    const flat = new metrics.AUC({ numThresholds: 3 });
    flat.updateState(yTrue, yPred); // flattened: one curve over all 8 pairs
    expect(flat.variables[0].shape).toEqual([3]);
    for (const x of [m, w, flat]) x.dispose();
  });

  it('F1Score and FBetaScore: averages, argmax mode, weights, several calls', async () => {
    const yTrue = [[1, 1, 1], [1, 0, 0], [1, 1, 0]];
    const yPred = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0]];
    const f1 = new metrics.F1Score({ threshold: 0.5 });
    f1.updateState(yTrue.slice(0, 1), yPred.slice(0, 1));
    f1.updateState(yTrue.slice(1), yPred.slice(1));
    await expectClose(f1, [0.5, 0.8, 2 / 3]);
    f1.resetState();
    f1.updateState(yTrue, yPred, [1, 0, 1]);
    await expectClose(f1, [2 / 3, 1, 1]);

    const scores = [0.5, 0.8, 2 / 3];
    const micro = new metrics.F1Score({ threshold: 0.5, average: 'micro' });
    const macro = new metrics.F1Score({ threshold: 0.5, average: 'macro' });
    const weighted = new metrics.F1Score({ threshold: 0.5, average: 'weighted' });
    for (const m of [micro, macro, weighted]) m.updateState(yTrue, yPred);
    await expectClose(micro, 2 / 3);
    await expectClose(macro, (0.5 + 0.8 + 2 / 3) / 3);
    await expectClose(weighted, (scores[0] * 3 + scores[1] * 2 + scores[2]) / 6);

    const argmax = new metrics.F1Score(); // row 2 ties classes 1 and 2: both positive
    argmax.updateState(yTrue, yPred);
    await expectClose(argmax, [0, 0.5, 2 / 3]);

    const fbeta = new metrics.FBetaScore({ beta: 2, threshold: 0.5 });
    fbeta.updateState(yTrue, yPred);
    await expectClose(fbeta, [0.3846154, 0.90909094, 0.8333334]);
    expect(f1.getConfig()).toEqual({ name: 'f1_score', dtype: 'float32', average: null, threshold: 0.5 });
    for (const m of [f1, micro, macro, weighted, argmax, fbeta]) m.dispose();
  });
});

describe('getMetric and serializeMetric', () => {
  const kind = (id: string, ctx: metrics.MetricContext) => {
    const m = metrics.getMetric(id, ctx);
    m.dispose();
    return [m.className, m.name];
  };

  it("resolves 'accuracy' and 'acc' the Keras way, keeping the given name", () => {
    expect(kind('accuracy', { loss: 'binary_crossentropy' })).toEqual(['BinaryAccuracy', 'accuracy']);
    expect(kind('acc', { loss: 'sparse_categorical_crossentropy', yPredShape: [null, 1] })).toEqual(['SparseCategoricalAccuracy', 'acc']);
    expect(kind('accuracy', { loss: 'mse', yTrueShape: [null, 1], yPredShape: [null, 1] })).toEqual(['BinaryAccuracy', 'accuracy']);
    expect(kind('accuracy', { yTrueShape: [null], yPredShape: [null, 10] })).toEqual(['SparseCategoricalAccuracy', 'accuracy']);
    expect(kind('accuracy', { yTrueShape: [null, 1], yPredShape: [null, 10] })).toEqual(['SparseCategoricalAccuracy', 'accuracy']);
    expect(kind('accuracy', { yTrueShape: [null, 10], yPredShape: [null, 10] })).toEqual(['CategoricalAccuracy', 'accuracy']);
    expect(kind('Accuracy', { loss: 'categorical_crossentropy' })).toEqual(['CategoricalAccuracy', 'Accuracy']);
    class BinaryCrossentropy {
      static readonly className = 'BinaryCrossentropy';
    }
    function sparseCategoricalCrossentropy() {}
    expect(kind('accuracy', { loss: new BinaryCrossentropy() })).toEqual(['BinaryAccuracy', 'accuracy']);
    expect(kind('accuracy', { loss: sparseCategoricalCrossentropy })).toEqual(['SparseCategoricalAccuracy', 'accuracy']);
    expect(() => metrics.getMetric('accuracy')).toThrow(/shape of yPred/);
  });

  it('resolves Keras string ids, class names, instances, classes and functions', () => {
    const ids: [string, string][] = [
      ['binary_accuracy', 'BinaryAccuracy'], ['categorical_accuracy', 'CategoricalAccuracy'],
      ['sparse_categorical_accuracy', 'SparseCategoricalAccuracy'], ['top_k_categorical_accuracy', 'TopKCategoricalAccuracy'],
      ['sparse_top_k_categorical_accuracy', 'SparseTopKCategoricalAccuracy'], ['mse', 'MeanSquaredError'],
      ['mean_squared_error', 'MeanSquaredError'], ['mae', 'MeanAbsoluteError'], ['mape', 'MeanAbsolutePercentageError'],
      ['root_mean_squared_error', 'RootMeanSquaredError'], ['precision', 'Precision'], ['recall', 'Recall'],
      ['auc', 'AUC'], ['f1_score', 'F1Score'], ['r2_score', 'R2Score'], ['AUC', 'AUC'], ['MeanSquaredError', 'MeanSquaredError'],
    ];
    for (const [id, cls] of ids) expect(kind(id, {})).toEqual([cls, id]);
    expect(() => metrics.getMetric('nope')).toThrow(/unknown metric 'nope'; known ids: accuracy, acc, .*mean_squared_error/);

    const auc = new metrics.AUC({ name: 'my_auc' });
    expect(metrics.getMetric(auc)).toBe(auc);
    auc.dispose();
    const fromClass = metrics.getMetric(metrics.Recall);
    expect(fromClass.className).toBe('Recall');
    fromClass.dispose();
    function hits(t: kiln.Tensor, p: kiln.Tensor) {
      return kiln.ops.cast(kiln.ops.equal(t, p), 'float32');
    }
    const wrapped = metrics.getMetric(hits);
    expect([wrapped.className, wrapped.name]).toEqual(['MeanMetricWrapper', 'hits']);
    wrapped.dispose();
  });

  it('serializes to plain JSON that getMetric rebuilds', async () => {
    const cases: Metric[] = [
      new metrics.BinaryAccuracy({ threshold: 0.7, name: 'ba' }),
      new metrics.AUC({ thresholds: [0.3, 0.6], curve: 'PR', name: 'pr' }),
      new metrics.Precision({ thresholds: [0.2, 0.4], classId: 1 }),
      new metrics.MeanMetricWrapper(metrics.meanAbsoluteError, { name: 'l1' }),
      new metrics.Mean({ name: 'loss' }),
    ];
    for (const m of cases) {
      const saved = JSON.parse(JSON.stringify(metrics.serializeMetric(m)));
      const back = metrics.getMetric(saved);
      expect(metrics.serializeMetric(back)).toEqual(saved);
      expect(back.className).toBe(m.className);
      back.dispose();
      m.dispose();
    }
    const pr = metrics.getMetric({ className: 'AUC', config: { name: 'x', dtype: 'float32', thresholds: [0.5] } }) as metrics.AUC;
    expect(pr.thresholds).toEqual([-1e-7, 0.5, 1 + 1e-7]);
    pr.dispose();
    expect(() => metrics.getMetric({ className: 'MeanMetricWrapper', config: { name: 'x', dtype: 'float32', fn: 'custom' } })).toThrow(/not a kiln metric function/);
  });
});

describe('memory', () => {
  it('updateState, result and resetState leave no tensors behind', async () => {
    const ms: Metric[] = [
      new metrics.Accuracy(), new metrics.SparseTopKCategoricalAccuracy({ k: 2 }), new metrics.R2Score(),
      new metrics.Precision({ topK: 1 }), new metrics.AUC({ multiLabel: true }), new metrics.AUC({ curve: 'PR' }),
      new metrics.F1Score({ average: 'weighted' }), new metrics.RootMeanSquaredError(),
    ];
    const yTrue = kiln.tensor([[0, 1, 0], [1, 0, 0]]);
    const yPred = kiln.tensor([[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]]);
    const sw = kiln.tensor([1, 2]);
    const step = async () => {
      for (const m of ms) {
        if (m instanceof metrics.SparseTopKCategoricalAccuracy) m.updateState([1, 0], yPred, sw);
        else m.updateState(yTrue, yPred, sw);
        await value(m);
      }
    };
    await step(); // builds the lazily-shaped state
    const before = kiln.memory().numTensors;
    for (let i = 0; i < 5; i++) await step();
    for (const m of ms) m.resetState();
    expect(kiln.memory().numTensors).toBe(before);
    kiln.dispose([yTrue, yPred, sw]);
    const held = ms.reduce((n, m) => n + m.variables.length, 0);
    for (const m of ms) m.dispose();
    expect(kiln.memory().numTensors).toBe(before - 3 - held);
  });
});
