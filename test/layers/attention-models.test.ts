/**
 * The attention layers in models: padding masks from Embedding(maskZero) (the output keeps the
 * query's mask), a symbolic attentionMask as a Functional model's input, save and load in a
 * .kiln file, and gradients of the einsum path (the harness checks the default path).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { AdditiveAttention, Attention, EinsumDense, Embedding, GroupedQueryAttention, Input, MultiHeadAttention, maskOf, type Layer } from '../../layers/index.js';
import { headAttentionLoop, type Flat, type HeadWeights } from './attention-oracle.js';

const flat = (t: kiln.Tensor): Flat => ({ data: Array.from(t.dataSync(), Number), shape: [...t.shape] });
const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync(), Number);

function expectClose(got: number[], want: number[], tol = 1e-4): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i] - w), `element ${i}: got ${got[i]}, want ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w))));
}

function randomize(layer: Layer, seed: number): Flat[] {
  layer.getWeightVariables().forEach((v, i) => v.assign(kiln.random.normal([...v.shape], { seed: seed + i, dtype: v.dtype })));
  return layer.getWeights().map(flat);
}

const weightsOf = (w: Flat[], heads: number, keyDim: number): HeadWeights => ({
  wq: w[0], bq: w[1], wk: w[2], bk: w[3], wv: w[4], bv: w[5], wo: w[6], bo: w[7], heads, kvHeads: heads, keyDim, valueDim: keyDim,
});

describe('attention with padding masks', () => {
  const tokens = kiln.tensor([[3, 1, 0, 0], [2, 4, 5, 0]], [2, 4], 'int32');
  const kept = [[true, true, false, false], [true, true, true, false]];

  it('Embedding(maskZero) → self-attention: padded keys get no weight, the output keeps the query mask', async () => {
    const emb = new Embedding(6, 4, { maskZero: true });
    const mha = new MultiHeadAttention(2, 3);
    const x = emb.apply(tokens);
    mha.apply([x, x]);
    const w = weightsOf(randomize(mha, 1), 2, 3);
    const want = headAttentionLoop(flat(x), flat(x), flat(x), w, (b, t, s) => kept[b][t] && kept[b][s]);
    const y = mha.apply([x, x]);
    expectClose(values(y), want.out.data);
    expect(values(maskOf(y))).toEqual(kept.flat().map(Number));
    const [, scores] = mha.apply([x, x], { returnAttentionScores: true });
    expect(maskOf(scores)).toBeNull();
    // the same in a Functional model
    const input = Input({ shape: [4], dtype: 'int32' });
    const e = emb.apply(input);
    const model = new kiln.Model({ inputs: input, outputs: mha.apply([e, e]) });
    expectClose(values(await model.predict(tokens)), want.out.data);
  });

  it('Attention: padded query steps give 0, padded keys no weight, all masks false gives zeros', () => {
    const emb = new Embedding(6, 4, { maskZero: true });
    const x = emb.apply(tokens);
    const y = new Attention().apply([x, x]);
    const rows = values(y);
    kept.flat().forEach((k, i) => { if (!k) expect(rows.slice(4 * i, 4 * i + 4)).toEqual([0, 0, 0, 0]); });
    expect(values(maskOf(y))).toEqual(kept.flat().map(Number));
    const none = kiln.tensor([[false, false, false, false], [false, false, false, false]], undefined, 'bool');
    expect(values(new Attention().apply([x, x], { masks: [none, none] }))).toEqual(new Array<number>(32).fill(0));
  });
});

describe('attention in Functional models', () => {
  it('a symbolic attentionMask is an input of the model', async () => {
    const x = Input({ shape: [3, 4] });
    const mask = Input({ shape: [3, 3], dtype: 'bool' });
    const mha = new MultiHeadAttention(2, 2);
    const model = new kiln.Model({ inputs: [x, mask], outputs: mha.apply([x, x], { attentionMask: mask }) });
    const xv = kiln.random.normal([2, 3, 4], { seed: 3 });
    const allow = [[[true, false, true], [true, true, false], [false, false, true]], [[true, true, true], [false, true, true], [true, false, false]]];
    const w = weightsOf(randomize(mha, 10), 2, 2);
    const want = headAttentionLoop(flat(xv), flat(xv), flat(xv), w, (b, t, s) => allow[b][t][s]);
    expectClose(values(await model.predict([xv, kiln.tensor(allow, undefined, 'bool')])), want.out.data);
  });

  it('steps unknown when the model is built: one model runs two lengths, causal and with the scores', async () => {
    const x = Input({ shape: [null, 4] });
    const mha = new MultiHeadAttention(2, 2);
    const [y, scores] = mha.apply([x, x], { useCausalMask: true, returnAttentionScores: true });
    expect([...scores.shape]).toEqual([null, 2, null, null]);
    const model = new kiln.Model({ inputs: x, outputs: [y, scores, mha.apply([x, x], { useCausalMask: true })] });
    const w = weightsOf(randomize(mha, 50), 2, 2);
    for (const steps of [3, 7]) {
      const xv = kiln.random.normal([2, steps, 4], { seed: steps });
      const want = headAttentionLoop(flat(xv), flat(xv), flat(xv), w, (_b, t, s) => s <= t);
      const [out, probs, viaOp] = (await model.predict(xv)) as kiln.Tensor[];
      expectClose(values(out), want.out.data);
      expectClose(values(probs), want.probs.data);
      expectClose(values(viaOp), want.out.data);
    }
  });

  it('returnAttentionScores gives the model two outputs, which survive a save and load', async () => {
    const x = Input({ shape: [3, 4] });
    const mha = new MultiHeadAttention(2, 2);
    const [y, scores] = mha.apply([x, x], { returnAttentionScores: true, useCausalMask: true });
    expect([...scores.shape]).toEqual([null, 2, 3, 3]);
    const model = new kiln.Model({ inputs: x, outputs: [y, scores] });
    const xv = kiln.random.normal([2, 3, 4], { seed: 4 });
    const w = weightsOf(randomize(mha, 40), 2, 2);
    const want = headAttentionLoop(flat(xv), flat(xv), flat(xv), w, (_b, t, s) => s <= t);
    const [out, probs] = (await model.predict(xv)) as kiln.Tensor[];
    expectClose(values(out), want.out.data);
    expectClose(values(probs), want.probs.data);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-attention-'));
    try {
      await model.save(join(dir, 'scores.kiln'));
      const [out2, probs2] = (await (await kiln.loadModel(join(dir, 'scores.kiln'))).predict(xv)) as kiln.Tensor[];
      expect(values(out2)).toEqual(values(out));
      expect(values(probs2)).toEqual(values(probs));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every attention layer saves and loads in a .kiln model, the causal option and the attentionMask input with it', async () => {
    const x = Input({ shape: [5, 8] });
    const mask = Input({ shape: [5, 5], dtype: 'bool' });
    let h = new MultiHeadAttention(2, 4, { valueDim: 3, name: 'mha' }).apply([x, x], { useCausalMask: true });
    h = new GroupedQueryAttention(2, 4, 2, { name: 'gqa' }).apply([h, x], { attentionMask: mask });
    h = new Attention({ useScale: true, scoreMode: 'concat', name: 'att' }).apply([h, x]);
    h = new AdditiveAttention({ name: 'add' }).apply([h, x]);
    h = new EinsumDense('abc,cd->abd', [null, 3], { biasAxes: 'd', name: 'proj' }).apply(h);
    const model = new kiln.Model({ inputs: [x, mask], outputs: h });
    for (const layer of model.layers) randomize(layer, 20);
    const feed = [kiln.random.normal([2, 5, 8], { seed: 5 }), kiln.ops.greater(kiln.random.uniform([2, 5, 5], { seed: 6 }), 0.3)];
    const before = values(await model.predict(feed));
    const dir = mkdtempSync(join(tmpdir(), 'kiln-attention-'));
    try {
      await model.save(join(dir, 'attention.kiln'));
      const loaded = await kiln.loadModel(join(dir, 'attention.kiln'));
      expect(values(await loaded.predict(feed))).toEqual(before);
      expect(loaded.getWeightVariables().map((v) => v.name)).toEqual(model.getWeightVariables().map((v) => v.name));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('training through attention', () => {
  it('fit learns to copy the first step to every step, which only attention can do', async () => {
    kiln.setSeed(11);
    // 4 random features and a one-hot position: attention must find the step whose position is 0
    const feats = kiln.random.normal([64, 6, 4], { seed: 12 });
    const x = kiln.ops.concatenate([feats, kiln.ops.broadcastTo(kiln.eye(6), [64, 6, 6])], -1);
    const y = kiln.ops.tile(kiln.ops.slice(feats, [0, 0, 0], [64, 1, 4]), [1, 6, 1]);
    const input = Input({ shape: [6, 10] });
    const h = new MultiHeadAttention(2, 8).apply([input, input]);
    const model = new kiln.Model({ inputs: input, outputs: new kiln.layers.Dense(4).apply(h) });
    model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.02 }), loss: 'mse' });
    const history = await model.fit(x, y, { epochs: 60, batchSize: 32, verbose: 0 });
    const loss = history.history.loss as number[];
    // the mean of the steps, all a model without attention to position could give, leaves 5/6 of the variance
    expect(loss.at(-1)!).toBeLessThan(0.01 * loss[0]);
  });
});

describe('gradients of the einsum path (the probabilities returned), float64 on reference', () => {
  it('match central differences with masks and causal', () => {
    kiln.setBackend('reference');
    const x = kiln.random.normal([2, 3, 4], { seed: 7, dtype: 'float64' });
    const mha = new MultiHeadAttention(2, 2, { dtype: 'float64' });
    const qm = kiln.tensor([[true, true, false], [true, true, true]], undefined, 'bool');
    const run = (input: kiln.Tensor): kiln.Tensor => {
      const [y, s] = mha.apply([input, input], { masks: [qm, qm], useCausalMask: true, returnAttentionScores: true });
      return kiln.ops.add(kiln.ops.sum(kiln.ops.square(y)), kiln.ops.sum(kiln.ops.multiply(s, s)));
    };
    run(x);
    randomize(mha, 30);
    const tape = new kiln.GradientTape();
    const value = tape.record(() => run(x));
    const sources = [x, ...mha.trainableWeights];
    const grads = tape.gradient(value, sources);
    sources.forEach((source, k) => {
      const base = Float64Array.from((source instanceof kiln.Variable ? source.value : source).dataSync());
      const analytic = values(grads[k]!);
      for (let i = 0; i < base.length; i += Math.max(1, Math.floor(base.length / 8))) {
        const at = (delta: number): number => {
          const data = Float64Array.from(base);
          data[i] += delta;
          const t = kiln.tensor(data, [...source.shape], 'float64');
          if (!(source instanceof kiln.Variable)) return values(run(t))[0];
          source.assign(t);
          const out = values(run(x))[0];
          source.assign(kiln.tensor(base, [...source.shape], 'float64'));
          return out;
        };
        const numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
        expect(Math.abs(analytic[i] - numeric), `source ${k}[${i}]`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(numeric));
      }
    });
  });
});
