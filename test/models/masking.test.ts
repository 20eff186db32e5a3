/**
 * Masks through models, as Keras 3 carries them: Embedding(maskZero) → Dense → GlobalAveragePooling1D
 * in Sequential, Functional, nested and subclassed models, eager and symbolic, against loops
 * written here; a layer without mask support stops the mask; and fit, evaluate and the metrics
 * leave the masked steps out, against losses computed here over the unmasked steps only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const { Embedding, Dense, GlobalAveragePooling1D, Flatten, Masking, maskOf } = kiln.layers;
type Sym = kiln.SymbolicTensor;

const sym = (layer: kiln.Layer, x: Sym): Sym => layer.apply(x as never) as unknown as Sym;
const arr = (t: kiln.Tensor | kiln.Variable): number[] => Array.from((t instanceof kiln.Variable ? t.value : t).dataSync());
const ints = (rows: number[][]): kiln.Tensor => kiln.tensor(rows, [rows.length, rows[0].length], 'int32');

function expectClose(got: number[], want: number[], digits = 5): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i], digits));
}

/** Tokens with padding (0) at the end, in the middle, and a sample with a single token. */
const TOKENS = [[1, 2, 0, 0], [3, 0, 4, 0], [4, 4, 4, 1], [0, 0, 2, 0]];

/** Embedding row → Dense, by hand: [steps][units] of one sample. */
function denseSteps(tokens: number[], emb: number[], kernel: number[], bias: number[], d: number, u: number): number[][] {
  return tokens.map((tok) => bias.map((b, j) => {
    let s = b;
    for (let k = 0; k < d; k++) s += emb[tok * d + k] * kernel[k * u + j];
    return s;
  }));
}

/** GlobalAveragePooling1D by hand: the mean over the steps whose token is not 0 (all steps without a mask). */
function pooled(tokens: number[][], layers: { emb: kiln.Layer; dense: kiln.Layer }, masked = true): number[] {
  const [emb] = layers.emb.getWeights().map(arr);
  const [kernel, bias] = layers.dense.getWeights().map(arr);
  const d = layers.emb.getWeights()[0].shape[1];
  const u = bias.length;
  return tokens.flatMap((row) => {
    const steps = denseSteps(row, emb, kernel, bias, d, u);
    const kept = steps.filter((_, t) => !masked || row[t] !== 0);
    return bias.map((_, j) => kept.reduce((s, h) => s + h[j], 0) / kept.length);
  });
}

function trio(): { emb: kiln.Layer; dense: kiln.Layer; gap: kiln.Layer } {
  kiln.setSeed(11);
  return { emb: new Embedding(5, 3, { maskZero: true }), dense: new Dense(2), gap: new GlobalAveragePooling1D() };
}

describe('a mask from Embedding(maskZero) reaches GlobalAveragePooling1D through Dense', () => {
  it('in a Sequential model, with and without an Input, eagerly and in predict', async () => {
    for (const withInput of [true, false]) {
      const l = trio();
      const model = new kiln.Sequential([...(withInput ? [kiln.Input({ shape: [4], dtype: 'int32' })] : []), l.emb, l.dense, l.gap]);
      const y = arr(model.apply(ints(TOKENS)));
      const want = pooled(TOKENS, l);
      expectClose(y, want);
      expectClose(arr((await model.predict(ints(TOKENS), { batchSize: 3 })) as kiln.Tensor), want);
      // the mask matters: the plain mean over all steps differs
      expect(Math.abs(pooled(TOKENS, l, false)[0] - want[0])).toBeGreaterThan(1e-3);
    }
  });

  it('in a Functional model: symbolic tensors carry symbolic masks, eager outputs carry masks', () => {
    const l = trio();
    const x = kiln.Input({ shape: [4], dtype: 'int32' });
    const e = sym(l.emb, x);
    const h = sym(l.dense, e);
    const y = sym(l.gap, h);
    for (const t of [e, h]) expect([maskOf(t)!.dtype, [...maskOf(t)!.shape]]).toEqual(['bool', [null, 4]]);
    expect(maskOf(x)).toBeNull();
    expect(maskOf(y)).toBeNull();

    const model = new kiln.Model({ inputs: x, outputs: y });
    expectClose(arr(model.apply(ints(TOKENS))), pooled(TOKENS, l));
    const steps = new kiln.Model({ inputs: x, outputs: h });
    const out = steps.apply(ints(TOKENS));
    expect(maskOf(out)!.arraySync()).toEqual(TOKENS.map((r) => r.map((tok) => tok !== 0)));
  });

  it('through a nested model, into a subclassed model, and along eager layer calls', () => {
    const l = trio();
    // the nested model was built without a mask; the one its input carries goes through it
    const head = new kiln.Sequential([kiln.Input({ shape: [4, 3] }), l.dense]);
    const x = kiln.Input({ shape: [4], dtype: 'int32' });
    const inner = sym(head, sym(l.emb, x));
    expect([...maskOf(inner)!.shape]).toEqual([null, 4]);
    const nested = new kiln.Model({ inputs: x, outputs: sym(l.gap, inner) });
    const want = pooled(TOKENS, l);
    expectClose(arr(nested.apply(ints(TOKENS))), want);

    class Pooler extends kiln.Model {
      emb = l.emb;
      dense = l.dense;
      gap = l.gap;
      override call(t: kiln.Tensor): kiln.Tensor {
        return this.gap.apply(this.dense.apply(this.emb.apply(t)));
      }
    }
    expectClose(arr(new Pooler().apply(ints(TOKENS))), want);
    expectClose(arr(l.gap.apply(l.dense.apply(l.emb.apply(ints(TOKENS))))), want);
  });

  it('stops at a layer that does not support masking, as in Keras', () => {
    const x = kiln.Input({ shape: [4], dtype: 'int32' });
    const flat = sym(new Flatten(), sym(new Embedding(5, 3, { maskZero: true }), x));
    expect(maskOf(flat)).toBeNull();
    const model = new kiln.Model({ inputs: x, outputs: flat });
    expect(maskOf(model.apply(ints(TOKENS)))).toBeNull();
  });

  it('an explicit mask wins over the carried one, and one of another batch size is refused', () => {
    const l = trio();
    const h = l.dense.apply(l.emb.apply(ints(TOKENS)));
    const all = kiln.ones([4, 4], 'bool');
    expectClose(arr(l.gap.apply(h, { mask: all })), pooled(TOKENS, l, false));
    expect(() => l.gap.apply(h, { mask: kiln.ones([3, 4], 'bool') })).toThrow(
      `GlobalAveragePooling1D '${l.gap.name}': a mask must have its input's batch size: the input is [4,4,2], the mask [3,4]`,
    );
    expect(() => l.gap.apply(h, { mask: kiln.ones([4, 3], 'bool') })).toThrow(/expects a mask of shape \[batch, steps\] = \[4,4\] for inputs of shape \[4,4,2\], got \[4,3\]/);
  });

  it('survives save and load: maskZero is in the config', async () => {
    const l = trio();
    const model = new kiln.Sequential([kiln.Input({ shape: [4], dtype: 'int32' }), l.emb, l.dense, l.gap]);
    const dir = await mkdtemp(join(tmpdir(), 'kiln-mask-'));
    try {
      await model.save(join(dir, 'm.kiln'));
      const loaded = await kiln.loadModel(join(dir, 'm.kiln'));
      expectClose(arr(loaded.apply(ints(TOKENS)) as kiln.Tensor), pooled(TOKENS, l));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Per-step regression: Embedding(maskZero) → Dense(1), targets [n, steps, 1]. The model's
 * predictions are read back (stepErrors) and the losses computed here from them.
 */
function stepModel(): kiln.Model {
  kiln.setSeed(5);
  return new kiln.Sequential([kiln.Input({ shape: [4], dtype: 'int32' }), new Embedding(5, 3, { maskZero: true }), new Dense(1)]);
}

const TARGETS = kiln.tensor(TOKENS.map((r) => r.map((tok, t) => [tok * 0.5 - t * 0.25])));

/** Prediction − target per step, and whether the step counts, sample by sample. */
async function stepErrors(model: kiln.Model, rows = TOKENS): Promise<{ err: number[][]; kept: boolean[][] }> {
  const pred = arr((await model.predict(ints(rows))) as kiln.Tensor);
  const target = arr(TARGETS);
  return {
    err: rows.map((r, n) => r.map((_, t) => pred[n * 4 + t] - target[n * 4 + t])),
    kept: rows.map((r) => r.map((tok) => tok !== 0)),
  };
}

/** Σ w·f(err) over kept steps / divisor, samples `from`..`to`. */
function masked(e: { err: number[][]; kept: boolean[][] }, f: (v: number) => number, w: number[] | null, divisor: 'count' | 'weights', from = 0, to = e.err.length): number {
  let total = 0;
  let count = 0;
  let weights = 0;
  for (let n = from; n < to; n++) {
    e.err[n].forEach((v, t) => {
      if (!e.kept[n][t]) return;
      total += (w ? w[n] : 1) * f(v);
      count += 1;
      weights += w ? w[n] : 1;
    });
  }
  return total / (divisor === 'count' ? count : weights);
}

const sq = (v: number): number => v * v;

describe('losses and metrics leave the masked steps out', () => {
  it('evaluate in one batch: the loss and mae are means over the unmasked steps', async () => {
    const model = stepModel();
    model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
    const e = await stepErrors(model);
    const logs = await model.evaluate(ints(TOKENS), TARGETS, { batchSize: 4 });
    expect(logs.loss).toBeCloseTo(masked(e, sq, null, 'count'), 5);
    expect(logs.mae).toBeCloseTo(masked(e, Math.abs, null, 'count'), 5);
  });

  it('evaluate in two batches: the loss averages the batches by size, the metric pools every unmasked step', async () => {
    const model = stepModel();
    model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
    const e = await stepErrors(model);
    const logs = await model.evaluate(ints(TOKENS), TARGETS, { batchSize: 2 });
    expect(logs.loss).toBeCloseTo((2 * masked(e, sq, null, 'count', 0, 2) + 2 * masked(e, sq, null, 'count', 2, 4)) / 4, 5);
    expect(logs.mae).toBeCloseTo(masked(e, Math.abs, null, 'count'), 5);
  });

  it('with sample weights: the loss divides by the unmasked count, a weighted metric by the weights', async () => {
    const model = stepModel();
    model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'], weightedMetrics: ['mse'] });
    const e = await stepErrors(model);
    const w = [1, 0.5, 2, 3];
    const logs = await model.evaluate(ints(TOKENS), TARGETS, { batchSize: 4, sampleWeight: kiln.tensor(w) });
    expect(logs.loss).toBeCloseTo(masked(e, sq, w, 'count'), 5);
    expect(logs.mae).toBeCloseTo(masked(e, Math.abs, null, 'count'), 5);
    expect(logs.mse).toBeCloseTo(masked(e, sq, w, 'weights'), 5);
  });

  it('fit: the logged loss is the masked one, and the gradient comes from the unmasked steps only', async () => {
    const model = stepModel();
    const lr = 0.1;
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: lr }), loss: 'mse' });
    const e = await stepErrors(model);
    const [emb, , bias] = model.getWeights().map(arr);
    const history = await model.fit(ints(TOKENS), TARGETS, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
    expect(history.history.loss[0]).toBeCloseTo(masked(e, sq, null, 'count'), 5);
    // d loss / d bias = Σ 2·err over the kept steps / their count
    const [emb1, , bias1] = model.getWeights().map(arr);
    expect(bias1[0]).toBeCloseTo(bias[0] - lr * masked(e, (v) => 2 * v, null, 'count'), 6);
    // row 0 (padding) is looked up only at masked steps: it gets no gradient; row 1 does
    expect(emb1.slice(0, 3)).toEqual(emb.slice(0, 3));
    expect(emb1.slice(3, 6)).not.toEqual(emb.slice(3, 6));
  });

  it('Masking makes the mask from float inputs, and the loss honours it', async () => {
    kiln.setSeed(2);
    const model = new kiln.Sequential([kiln.Input({ shape: [3, 2] }), new Masking(), new Dense(1)]);
    model.compile({ optimizer: 'sgd', loss: 'mae' });
    const x = kiln.tensor([[[1, 2], [0, 0], [3, 0]], [[0, 0], [0, 0], [-1, 1]]]);
    const y = kiln.tensor([[[1], [100], [2]], [[100], [100], [-1]]]);
    const pred = arr((await model.predict(x)) as kiln.Tensor);
    // the steps of 100s are masked; the others: |pred − y|
    const want = (Math.abs(pred[0] - 1) + Math.abs(pred[2] - 2) + Math.abs(pred[5] + 1)) / 3;
    expect((await model.evaluate(x, y)).loss).toBeCloseTo(want, 5);
  });

  it('a mask that does not fit the losses is a clear error', () => {
    const loss = new kiln.losses.MeanSquaredError();
    const yTrue = kiln.zeros([2, 3, 1]);
    const yPred = kiln.ones([2, 3, 1]);
    expect(loss.apply(yTrue, yPred, null, kiln.tensor([[true, false, true], [true, true, true]], [2, 3], 'bool')).dataSync()[0]).toBeCloseTo(1, 6);
    expect(() => loss.apply(yTrue, yPred, null, kiln.ones([2, 4], 'bool'))).toThrow(
      'mean_squared_error: the mask on yPred has shape [2,4], which does not fit the per-sample losses of shape [2,3]: its axes must lead theirs',
    );
  });

  it('leaves no tensor behind: masks are freed with the step', async () => {
    const model = stepModel();
    model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
    const x = ints(TOKENS);
    await model.fit(x, TARGETS, { epochs: 2, batchSize: 2, verbose: 0 });
    const before = kiln.memory().numTensors;
    await model.fit(x, TARGETS, { epochs: 3, batchSize: 2, verbose: 0 });
    await model.evaluate(x, TARGETS, { batchSize: 3 });
    expect(kiln.memory().numTensors).toBe(before);
  });
});
