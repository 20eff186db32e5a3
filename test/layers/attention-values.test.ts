/**
 * The attention layers' values against direct float64 loops (attention-oracle.ts) on every
 * available backend: MultiHeadAttention through both of its paths (ops.dotProductAttention when
 * neither dropout nor the scores are wanted, the einsum path of Keras's `_compute_attention`
 * otherwise), with masks, a causal mask, valueDim ≠ keyDim, an outputShape and attention over
 * other axes; GroupedQueryAttention; Attention (dot, concat, useScale) and AdditiveAttention.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { AdditiveAttention, Attention, GroupedQueryAttention, MultiHeadAttention, type Layer } from '../../layers/index.js';
import { denseAttentionLoop, headAttentionLoop, type Allowed, type Flat, type HeadWeights } from './attention-oracle.js';

const flat = (t: kiln.Tensor): Flat => ({ data: Array.from(t.dataSync(), Number), shape: [...t.shape] });

function expectClose(got: kiln.Tensor, want: Flat, tol = 1e-4): void {
  expect([...got.shape].reduce((a, b) => a * b, 1)).toBe(want.data.length);
  const data = got.dataSync();
  want.data.forEach((w, i) => expect(Math.abs(data[i] - w), `element ${i}: got ${data[i]}, want ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w))));
}

/** Every weight drawn afresh (biases too, so a dropped bias shows), and read back for the loop. */
function randomize(layer: Layer, seed: number): Flat[] {
  layer.getWeightVariables().forEach((v, i) => v.assign(kiln.random.normal([...v.shape], { seed: seed + i, dtype: v.dtype })));
  return layer.getWeights().map(flat);
}

function headWeights(w: Flat[], useBias: boolean, dims: Pick<HeadWeights, 'heads' | 'kvHeads' | 'keyDim' | 'valueDim'>): HeadWeights {
  const [wq, bq, wk, bk, wv, bv, wo, bo] = useBias ? w : [w[0], null, w[1], null, w[2], null, w[3], null];
  return { wq, bq, wk, bk, wv, bv, wo, bo, ...dims } as HeadWeights;
}

const boolMask = (rows: boolean[][]): kiln.Tensor => kiln.tensor(rows, undefined, 'bool');
const normal = (shape: number[], seed: number): kiln.Tensor => kiln.random.normal(shape, { seed });

const BACKENDS = kiln.listBackends();
const AVAILABLE = BACKENDS.filter((b) => b.available).map((b) => b.name);

describe.each(AVAILABLE)('attention values against direct loops on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));

  it('MultiHeadAttention with a key, valueDim ≠ keyDim: both paths, and the scores', () => {
    const [q, v, k] = [normal([2, 3, 4], 1), normal([2, 5, 6], 2), normal([2, 5, 3], 3)];
    const mha = new MultiHeadAttention(2, 3, { valueDim: 4 });
    mha.apply([q, v, k]);
    const w = headWeights(randomize(mha, 10), true, { heads: 2, kvHeads: 2, keyDim: 3, valueDim: 4 });
    const want = headAttentionLoop(flat(q), flat(v), flat(k), w, null);
    expectClose(mha.apply([q, v, k]), want.out);
    const [out, scores] = mha.apply([q, v, k], { returnAttentionScores: true });
    expectClose(out, want.out);
    expect([...scores.shape]).toEqual([2, 2, 3, 5]);
    expectClose(scores, want.probs);
  });

  it('MultiHeadAttention masks: query and value masks, attentionMask and causal, ANDed as Keras, a fully masked query', () => {
    const x = normal([2, 4, 4], 4);
    const mha = new MultiHeadAttention(2, 2);
    mha.apply([x, x]);
    const w = headWeights(randomize(mha, 20), true, { heads: 2, kvHeads: 2, keyDim: 2, valueDim: 2 });
    const qm = [[true, true, false, true], [true, true, true, true]];
    const vm = [[true, false, true, true], [true, true, true, false]];
    const am = [[[true, true, true, true], [true, true, true, true], [true, true, true, true], [false, true, true, true]], [[true, true, true, true], [true, true, false, true], [true, true, true, true], [true, true, true, true]]];
    const allowed: Allowed = (b, t, s) => qm[b][t] && vm[b][s] && am[b][t][s] && s <= t;
    const want = headAttentionLoop(flat(x), flat(x), flat(x), w, allowed);
    const options = { masks: [boolMask(qm), boolMask(vm)], attentionMask: boolMask(am as unknown as boolean[][]), useCausalMask: true };
    expectClose(mha.apply([x, x], options), want.out);
    const [out, scores] = mha.apply([x, x], { ...options, returnAttentionScores: true });
    expectClose(out, want.out);
    expectClose(scores, want.probs);
    // causal alone takes dotProductAttention's isCausal
    const causal = headAttentionLoop(flat(x), flat(x), flat(x), w, (_b, t, s) => s <= t);
    expectClose(mha.apply([x, x], { useCausalMask: true }), causal.out);
    expectClose(mha.apply([x, x], { useCausalMask: true, returnAttentionScores: true })[0], causal.out);
  });

  it('MultiHeadAttention without biases and with outputShape [3, 2]', () => {
    const [q, v] = [normal([2, 3, 4], 5), normal([2, 2, 4], 6)];
    const mha = new MultiHeadAttention(3, 2, { useBias: false, outputShape: [3, 2] });
    const y = mha.apply([q, v]);
    expect([...y.shape]).toEqual([2, 3, 3, 2]);
    const want = headAttentionLoop(flat(q), flat(v), flat(v), headWeights(randomize(mha, 30), false, { heads: 3, kvHeads: 3, keyDim: 2, valueDim: 2 }), null);
    expectClose(mha.apply([q, v]), want.out);
  });

  it('MultiHeadAttention over two axes is attention over their flattened steps, an attentionMask [B, T1, T2, S1, S2] with it', () => {
    const [q, v] = [normal([2, 2, 3, 4], 7), normal([2, 3, 2, 4], 8)];
    const mha = new MultiHeadAttention(2, 3, { attentionAxes: [1, 2] });
    mha.apply([q, v]);
    const w = headWeights(randomize(mha, 40), true, { heads: 2, kvHeads: 2, keyDim: 3, valueDim: 3 });
    const [fq, fv] = [flat(q), flat(v)];
    const as3 = (f: Flat): Flat => ({ data: f.data, shape: [f.shape[0], f.shape[1] * f.shape[2], f.shape[3]] });
    expectClose(mha.apply([q, v]), headAttentionLoop(as3(fq), as3(fv), as3(fv), w, null).out);
    const keep = (b: number, t: number, s: number): boolean => (b + 2 * t + 3 * s) % 4 !== 0;
    const am = kiln.tensor(Array.from({ length: 2 * 6 * 6 }, (_, i) => keep(Math.floor(i / 36), Math.floor(i / 6) % 6, i % 6)), [2, 2, 3, 3, 2], 'bool');
    const want = headAttentionLoop(as3(fq), as3(fv), as3(fv), w, keep);
    expectClose(mha.apply([q, v], { attentionMask: am }), want.out);
    const [, scores] = mha.apply([q, v], { attentionMask: am, returnAttentionScores: true });
    expect([...scores.shape]).toEqual([2, 2, 2, 3, 3, 2]);
    expectClose(scores, want.probs);
  });

  it('MultiHeadAttention over axis 2 of rank-4 inputs: axis 1 is a batch axis', () => {
    const [q, v] = [normal([2, 3, 2, 4], 9), normal([2, 3, 5, 4], 10)];
    const mha = new MultiHeadAttention(2, 2, { attentionAxes: [-2] });
    mha.apply([q, v]);
    const w = headWeights(randomize(mha, 50), true, { heads: 2, kvHeads: 2, keyDim: 2, valueDim: 2 });
    const asBatch = (f: Flat): Flat => ({ data: f.data, shape: [f.shape[0] * f.shape[1], f.shape[2], f.shape[3]] });
    expectClose(mha.apply([q, v]), headAttentionLoop(asBatch(flat(q)), asBatch(flat(v)), asBatch(flat(v)), w, null).out);
  });

  it('GroupedQueryAttention: 4 query heads share 2 key/value heads, with a value mask and causal', () => {
    const [q, v] = [normal([2, 4, 6], 11), normal([2, 5, 6], 12)];
    const gqa = new GroupedQueryAttention(3, 4, 2);
    gqa.apply([q, v]);
    const w = headWeights(randomize(gqa, 60), true, { heads: 4, kvHeads: 2, keyDim: 3, valueDim: 3 });
    expectClose(gqa.apply([q, v]), headAttentionLoop(flat(q), flat(v), flat(v), w, null).out);
    const vm = [[true, true, false, true, true], [false, true, true, true, true]];
    const want = headAttentionLoop(flat(q), flat(v), flat(v), w, (b, t, s) => vm[b][s] && s <= t);
    expectClose(gqa.apply([q, v], { masks: [null, boolMask(vm)], useCausalMask: true }), want.out);
    const [out, scores] = gqa.apply([q, v], { masks: [null, boolMask(vm)], useCausalMask: true, returnAttentionScores: true });
    expectClose(out, want.out);
    expectClose(scores, want.probs);
  });

  it('Attention: dot with a learned scale, concat, masks and causal', () => {
    const [q, v, k] = [normal([2, 3, 4], 13), normal([2, 4, 5], 14), normal([2, 4, 4], 15)];
    const dot = (a: number[], b: number[]): number => a.reduce((acc, x, i) => acc + x * b[i], 0);
    const scaled = new Attention({ useScale: true });
    scaled.apply([q, v, k]);
    scaled.setWeights([kiln.tensor(0.7)]);
    expectClose(scaled.apply([q, v, k]), denseAttentionLoop(flat(q), flat(v), flat(k), (a, b) => 0.7 * dot(a, b), null, null).out);
    const concat = new Attention({ useScale: true, scoreMode: 'concat' });
    concat.apply([q, v, k]);
    concat.setWeights([kiln.tensor(0.5), kiln.tensor(-1.5)]);
    const concatScore = (a: number[], b: number[]): number => -1.5 * a.reduce((acc, x, i) => acc + Math.tanh(0.5 * (x + b[i])), 0);
    const qm = [[true, false, true], [true, true, true]];
    // every query keeps a key: with none, Keras's scores − 1e9 round to one value in float32
    const vm = [[true, true, false, true], [true, false, true, true]];
    const want = denseAttentionLoop(flat(q), flat(v), flat(k), concatScore, (b, t, s) => vm[b][s] && s <= t, (b, t) => qm[b][t]);
    const [out, scores] = concat.apply([q, v, k], { masks: [boolMask(qm), boolMask(vm), null], useCausalMask: true, returnAttentionScores: true });
    expectClose(out, want.out);
    expectClose(scores, want.probs);
  });

  it('AdditiveAttention: sum(scale · tanh(query + key)), a value mask', () => {
    const [q, v] = [normal([2, 3, 4], 16), normal([2, 5, 4], 17)];
    const att = new AdditiveAttention();
    att.apply([q, v]);
    const scale = [0.5, -1, 2, 0.25];
    att.setWeights([kiln.tensor(scale)]);
    const score = (a: number[], b: number[]): number => a.reduce((acc, x, i) => acc + scale[i] * Math.tanh(x + b[i]), 0);
    const vm = [[true, true, false, false, true], [true, false, true, true, true]];
    expectClose(att.apply([q, v], { masks: [null, boolMask(vm)] }), denseAttentionLoop(flat(q), flat(v), flat(v), score, (b, _t, s) => vm[b][s], null).out);
  });

  it('dropout thins the probabilities in training only: at rate 1 every head sums nothing', () => {
    const x = normal([1, 3, 4], 18);
    const mha = new MultiHeadAttention(2, 2, { dropout: 1, seed: 3 });
    mha.apply([x, x]);
    const w = randomize(mha, 70);
    // with every probability dropped, the output is the output projection's bias at each step
    expectClose(mha.apply([x, x], { training: true }), { data: [0, 1, 2].flatMap(() => w[7].data), shape: [1, 3, 4] });
    const want = headAttentionLoop(flat(x), flat(x), flat(x), headWeights(w, true, { heads: 2, kvHeads: 2, keyDim: 2, valueDim: 2 }), null);
    expectClose(mha.apply([x, x], { training: false }), want.out);
    const att = new Attention({ dropout: 1, seed: 1 });
    expectClose(att.apply([x, x], { training: true }), { data: new Array<number>(12).fill(0), shape: [1, 3, 4] });
  });

  it('edges: no keys, one step, an empty batch, masks all false and all true, a long sequence', () => {
    const mha = new MultiHeadAttention(2, 3);
    const q = normal([2, 1, 4], 19);
    mha.apply([q, q]);
    const w = randomize(mha, 80);
    const bias = w[7].data;
    // attending over no keys (or none allowed) gives zero probabilities: the output is the output bias
    expectClose(mha.apply([q, kiln.zeros([2, 0, 4])]), { data: [...bias, ...bias], shape: [2, 1, 4] });
    const [, empty] = mha.apply([q, kiln.zeros([2, 0, 4])], { returnAttentionScores: true });
    expect([...empty.shape]).toEqual([2, 2, 1, 0]);
    const x = normal([2, 3, 4], 20);
    const none = kiln.zeros([2, 3], 'bool');
    expectClose(mha.apply([x, x], { masks: [null, none] }), { data: Array.from({ length: 6 }, () => bias).flat(), shape: [2, 3, 4] });
    expectClose(mha.apply([x, x], { masks: [null, none], returnAttentionScores: true })[0], { data: Array.from({ length: 6 }, () => bias).flat(), shape: [2, 3, 4] });
    const all = kiln.ones([2, 3], 'bool');
    const plain = headAttentionLoop(flat(x), flat(x), flat(x), headWeights(w, true, { heads: 2, kvHeads: 2, keyDim: 3, valueDim: 3 }), null);
    expectClose(mha.apply([x, x], { masks: [all, all], attentionMask: kiln.ones([2, 3, 3], 'bool') }), plain.out);
    // one query step over one key step: the probability is 1
    const [, one] = mha.apply([q, q], { returnAttentionScores: true });
    expect(Array.from(one.dataSync())).toEqual([1, 1, 1, 1]);
    expect([...mha.apply([kiln.zeros([0, 3, 4]), kiln.zeros([0, 3, 4])], { useCausalMask: true }).shape]).toEqual([0, 3, 4]);
    expect([...new Attention().apply([q, kiln.zeros([2, 0, 4])]).dataSync()]).toEqual(new Array<number>(8).fill(0));
    // longer than any block a fused kernel would tile by
    const [lq, lv] = [normal([1, 67, 4], 21), normal([1, 131, 4], 22)];
    const long = new MultiHeadAttention(2, 8);
    long.apply([lq, lv]);
    const lw = headWeights(randomize(long, 90), true, { heads: 2, kvHeads: 2, keyDim: 8, valueDim: 8 });
    expectClose(long.apply([lq, lv], { useCausalMask: true }), headAttentionLoop(flat(lq), flat(lv), flat(lv), lw, (_b, t, s) => s <= t).out, 5e-4);
  });
});
