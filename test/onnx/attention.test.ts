/**
 * The attention family in ONNX: MultiHeadAttention, GroupedQueryAttention, Attention,
 * AdditiveAttention and EinsumDense, each exported once and run in onnxruntime-node at batch 1, 7
 * and 256: self and cross attention, a key, the causal mask and sliding window, an attentionMask
 * input, Embedding(maskZero) padding masks, attention scores as an output. The steps are fixed for
 * MultiHeadAttention and GroupedQueryAttention (kiln's einsum cannot be traced over dynamic ones:
 * the export says so); Attention and AdditiveAttention also run at a different query and value
 * length each time from one file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { toModelProto } from '../../onnx/index.js';
import { expectParity, opTypes, randomizeWeights, reportErrors } from './harness.js';

const L = kiln.layers;
const BATCHES = [1, 7, 256];
const STEPS = [4, 9, 1];
const F = 4;
type Sym = kiln.SymbolicTensor;
const queryStepsOf = (seed: number) => STEPS[(seed - 100) % STEPS.length];
const valueStepsOf = (seed: number) => queryStepsOf(seed) + 2;

/** Query [batch, T, F] and value [batch, S, F] (and key like the value), T and S changing with the run. */
function qv(count: number, self = false) {
  return (n: number, seed: number): kiln.Tensor[] => {
    const t = queryStepsOf(seed);
    const s = self ? t : valueStepsOf(seed);
    return Array.from({ length: count }, (_, i) => kiln.random.normal([n, i === 0 ? t : s, F], { seed: seed + i }));
  };
}

/** Fixed steps: the query's and the others'. */
const T = 5;
const S = 7;

/** A model of `count` Inputs of [steps, F] (null: dynamic) through `apply`, weights at random. */
function model(count: number, apply: (xs: Sym[]) => Sym | Sym[], steps: [number | null, number | null] = [T, S]): kiln.Model {
  kiln.setSeed(9);
  const xs = Array.from({ length: count }, (_, i) => kiln.Input({ shape: [steps[i === 0 ? 0 : 1], F] }));
  const m = new kiln.Model({ inputs: xs.length === 1 ? xs[0] : xs, outputs: apply(xs) });
  randomizeWeights(m);
  return m;
}

const call = (layer: kiln.Layer, xs: Sym[], options: object = {}) => layer.apply(xs as never, options as never) as unknown as Sym;

describe('attention layers exported and run in onnxruntime-node', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  const cases: { label: string; count: number; self?: boolean; apply: (xs: Sym[]) => Sym | Sym[] }[] = [
    { label: 'MultiHeadAttention, self', count: 1, self: true, apply: ([x]) => call(new L.MultiHeadAttention(2, 3), [x, x]) },
    { label: 'MultiHeadAttention, cross', count: 2, apply: ([q, v]) => call(new L.MultiHeadAttention(2, 3, { valueDim: 2 }), [q, v]) },
    { label: 'MultiHeadAttention with a key, no bias', count: 3, apply: ([q, v, k]) => call(new L.MultiHeadAttention(3, 2, { useBias: false }), [q, v, k]) },
    { label: 'MultiHeadAttention, causal', count: 1, self: true, apply: ([x]) => call(new L.MultiHeadAttention(2, 3), [x, x], { useCausalMask: true }) },
    { label: 'MultiHeadAttention, causal cross (T ≠ S)', count: 2, apply: ([q, v]) => call(new L.MultiHeadAttention(2, 3), [q, v], { useCausalMask: true }) },
    {
      label: 'MultiHeadAttention, returnAttentionScores',
      count: 2,
      apply: ([q, v]) => new L.MultiHeadAttention(2, 3).apply([q, v] as never, { returnAttentionScores: true } as never) as unknown as Sym[],
    },
    { label: 'GroupedQueryAttention, causal', count: 1, self: true, apply: ([x]) => call(new L.GroupedQueryAttention(3, 4, 2), [x, x], { useCausalMask: true }) },
    { label: 'GroupedQueryAttention, sliding window', count: 2, apply: ([q, v]) => call(new L.GroupedQueryAttention(2, 2, 1, { slidingWindow: 2 }), [q, v]) },
    { label: 'Attention (dot)', count: 2, apply: ([q, v]) => call(new L.Attention(), [q, v]) },
    { label: 'Attention useScale, concat scores, with a key', count: 3, apply: ([q, v, k]) => call(new L.Attention({ useScale: true, scoreMode: 'concat' }), [q, v, k]) },
    { label: 'AdditiveAttention', count: 2, apply: ([q, v]) => call(new L.AdditiveAttention(), [q, v]) },
  ];

  it.each(cases)('$label, dynamic steps', async ({ label, count, self, apply }) => {
    const proto = await expectParity(model(count, apply, [null, null]), { label, batches: BATCHES, inputs: qv(count, self) });
    expect(opTypes(proto)).toContain('MatMul');
  });

  it.each(cases)('$label, fixed steps', async ({ label, count, self, apply }) => {
    await expectParity(model(count, apply, self ? [T, T] : [T, S]), { label: `${label}, fixed steps`, batches: BATCHES });
  });

  it.each([
    ['abc,cd->abd, bias, relu', () => new L.EinsumDense('abc,cd->abd', [null, 5], { biasAxes: 'd', activation: 'relu' })],
    ['abc,cde->abde (a head projection), bias on de', () => new L.EinsumDense('abc,cde->abde', [null, 2, 3], { biasAxes: 'de' })],
    ['...b,bc->...c', () => new L.EinsumDense('...b,bc->...c', 3)],
  ] as const)('EinsumDense %s as one Einsum, dynamic steps', async (label, make) => {
    const proto = await expectParity(model(1, ([x]) => make().apply(x) as unknown as Sym, [null, null]), { label: `EinsumDense ${label}`, batches: BATCHES, inputs: qv(1) });
    expect(opTypes(proto)[0]).toBe('Einsum');
  });

  it('writes the causal mask from the steps at run time (Range, GreaterOrEqual), no einsum reshapes', async () => {
    const proto = await toModelProto(model(1, ([x]) => call(new L.MultiHeadAttention(2, 3), [x, x], { useCausalMask: true }), [null, null]));
    expect(opTypes(proto)).toEqual(expect.arrayContaining(['Range', 'GreaterOrEqual', 'Softmax']));
  });

  it('traces MultiHeadAttention with useGate or attentionAxes at fixed steps', async () => {
    await expectParity(model(2, ([q, v]) => call(new L.MultiHeadAttention(2, 3, { useGate: true }), [q, v], { useCausalMask: true })), { label: 'MultiHeadAttention useGate (traced)', batches: BATCHES });
    await expectParity(model(2, ([q, v]) => call(new L.MultiHeadAttention(2, 3, { attentionAxes: [1], outputShape: [3] }), [q, v])), { label: 'MultiHeadAttention outputShape (traced)', batches: BATCHES });
  });

  it.each([
    ['Attention (dot)', 2, ([q, v]: Sym[]) => call(new L.Attention(), [q, v])],
    ['Attention (dot) with a key, useScale', 3, ([q, v, k]: Sym[]) => call(new L.Attention({ useScale: true }), [q, v, k])],
    ['Attention (concat scores)', 2, ([q, v]: Sym[]) => call(new L.Attention({ scoreMode: 'concat' }), [q, v])],
    ['AdditiveAttention', 2, ([q, v]: Sym[]) => call(new L.AdditiveAttention(), [q, v])],
  ] as const)('%s over dynamic steps, several lengths from one file', async (label, count, apply) => {
    const proto = await expectParity(model(count, apply, [null, null]), { label: `${label}, dynamic steps`, batches: BATCHES, inputs: qv(count) });
    expect(opTypes(proto)).toContain('Exp');
  });

  it('refuses a gated MultiHeadAttention over dynamic steps, saying why', async () => {
    const mha = model(1, ([x]) => call(new L.MultiHeadAttention(2, 3, { name: 'mha', useGate: true }), [x, x]), [null, null]);
    await expect(toModelProto(mha)).rejects.toThrow(/layer 'mha' \(MultiHeadAttention\) with attentionAxes, outputShape or useGate exports with a dynamic batch but fixed steps.*got \[null, null, 4\]/);
  });

  it('takes an attentionMask input, ANDed with the causal mask', async () => {
    kiln.setSeed(9);
    const x = kiln.Input({ shape: [null, F] });
    const mask = kiln.Input({ shape: [null, null], dtype: 'int32' });
    const m = new kiln.Model({ inputs: [x, mask], outputs: call(new L.MultiHeadAttention(2, 3), [x, x], { attentionMask: mask, useCausalMask: true }) });
    randomizeWeights(m);
    const inputs = (n: number, seed: number) => {
      const t = queryStepsOf(seed);
      return [kiln.random.normal([n, t, F], { seed }), kiln.random.randint([n, t, t], 0, 2, { seed: seed + 1 })];
    };
    await expectParity(m, { label: 'MultiHeadAttention, attentionMask and causal', batches: BATCHES, inputs });
  });

  it.each([
    ['MultiHeadAttention, causal', () => new L.MultiHeadAttention(2, 3), { useCausalMask: true }],
    ['Attention', () => new L.Attention(), {}],
  ] as const)('carries Embedding(maskZero) padding masks into %s', async (label, make, options) => {
    kiln.setSeed(9);
    const ids = kiln.Input({ shape: [null], dtype: 'int32' });
    const e = new L.Embedding(9, F, { maskZero: true }).apply(ids) as unknown as Sym;
    const m = new kiln.Model({ inputs: ids, outputs: call(make(), [e, e], options) });
    randomizeWeights(m);
    // ids 0 anywhere (left, right, inside, a whole sample): attention reads the mask step by step
    const inputs = (n: number, seed: number) => {
      const t = queryStepsOf(seed) + 1;
      return [kiln.tidy(() => kiln.ops.where(kiln.ops.less(kiln.random.uniform([n, t], { seed }), n > 1 ? 0.3 : 1), 0, kiln.random.randint([n, t], 1, 9, { seed: seed + 1 })))];
    };
    await expectParity(m, { label: `masked ${label}`, batches: BATCHES, inputs });
  });

  it('refuses Attention with useCausalMask over dynamic steps, and exports it over fixed ones', async () => {
    await expect(toModelProto(model(2, ([q, v]) => call(new L.Attention({ name: 'luong' }), [q, v], { useCausalMask: true }), [null, null]))).rejects.toThrow(/layer 'luong' \(Attention\) is called with useCausalMask.*dynamic.*fixed steps/);
    kiln.setSeed(9);
    const q = kiln.Input({ shape: [4, F] });
    const v = kiln.Input({ shape: [6, F] });
    const m = new kiln.Model({ inputs: [q, v], outputs: call(new L.Attention(), [q, v], { useCausalMask: true }) });
    await expectParity(m, { label: 'Attention, causal over fixed steps', batches: BATCHES });
  });
});
