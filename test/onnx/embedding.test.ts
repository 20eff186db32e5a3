/**
 * Embedding and Masking exported and run in onnxruntime-node at batch 1, 7 and 256, and the masks
 * they make: written into the graph where a later layer reads them (GlobalAveragePooling1D, also
 * inside a nested model, and after merge layers combine two inputs' masks), and left out where only
 * the loss would (no mask op survives).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { toModelProto } from '../../onnx/index.js';
import { expectParity, opTypes, randomizeWeights, reportErrors } from './harness.js';

const L = kiln.layers;
const BATCHES = [1, 7, 256];
type Sym = kiln.SymbolicTensor;
const sym = (layer: kiln.Layer, x: Sym): Sym => layer.apply(x as never) as unknown as Sym;

/** Token ids in [0, vocab) with about a third of them 0 (padding). */
function tokens(batch: number, steps: number, vocab: number, seed: number, dtype: 'int32' | 'float32' = 'int32'): kiln.Tensor {
  const ids = kiln.random.randint([batch, steps], 1, vocab, { seed });
  const keep = kiln.ops.greater(kiln.random.uniform([batch, steps], { seed: seed + 1 }), 0.33);
  const rows = kiln.tidy(() => kiln.ops.where(keep, ids, 0)).arraySync() as number[][];
  // the last sample is all padding: nothing to average, NaN in kiln and in onnxruntime alike
  rows[rows.length - 1] = rows[rows.length - 1].map(() => 0);
  // float ids carry a fraction, which the cast drops as ONNX's Cast does
  return kiln.tensor(dtype === 'int32' ? rows : rows.map((r) => r.map((v) => v + 0.25)), [batch, steps], dtype);
}

/** A model from an Input of `shape` through `layers`, weights drawn at random. */
function chain(shape: number[], dtype: kiln.DType, ...layers: kiln.Layer[]): kiln.Model {
  kiln.setSeed(21);
  const x = kiln.Input({ shape, dtype });
  const model = new kiln.Model({ inputs: x, outputs: layers.reduce((t, l) => sym(l, t), x as Sym) });
  randomizeWeights(model);
  return model;
}

describe('Embedding and Masking exported and run in onnxruntime-node', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(() => reportErrors());

  it('Embedding: Gather from int32 indices', async () => {
    const model = chain([6], 'int32', new L.Embedding(9, 4));
    const proto = await expectParity(model, { label: 'Embedding', batches: BATCHES, inputs: (n, seed) => [tokens(n, 6, 9, seed)] });
    expect(opTypes(proto)).toEqual(['Gather']);
  });

  it('Embedding of float indices: a Cast first', async () => {
    const model = chain([5], 'float32', new L.Embedding(7, 3));
    const proto = await expectParity(model, { label: 'Embedding, float indices', batches: BATCHES, inputs: (n, seed) => [tokens(n, 5, 7, seed, 'float32')] });
    expect(opTypes(proto)).toEqual(['Cast', 'Gather']);
  });

  it('Masking, then Dense: the masked steps are 0 before the Dense', async () => {
    const model = chain([4, 3], 'float32', new L.Masking({ maskValue: 0.5 }), new L.Dense(2));
    const inputs = (n: number, seed: number): kiln.Tensor[] => {
      const x = kiln.random.normal([n, 4, 3], { seed });
      const pad = kiln.ops.less(kiln.random.uniform([n, 4, 1], { seed: seed + 1 }), 0.4);
      return [kiln.tidy(() => kiln.ops.where(pad, 0.5, x))];
    };
    const proto = await expectParity(model, { label: 'Masking', batches: BATCHES, inputs });
    expect(opTypes(proto)).toContain('Where');
  });

  it('Embedding(maskZero) → Dense → GlobalAveragePooling1D: the mean over the unmasked steps', async () => {
    const model = chain([6], 'int32', new L.Embedding(9, 4, { maskZero: true }), new L.Dense(3, { activation: 'tanh' }), new L.GlobalAveragePooling1D());
    const proto = await expectParity(model, { label: 'Embedding(maskZero), Dense, GlobalAveragePooling1D', batches: BATCHES, inputs: (n, seed) => [tokens(n, 6, 9, seed)] });
    // the mask is computed from the indices (notEqual: two Equals) and the pooling traced with it
    expect(opTypes(proto)).toEqual(['Gather', 'Equal', 'Equal', 'MatMul', 'Add', 'Tanh', 'Reshape', 'Cast', 'ReduceSum', 'Where', 'ReduceSum', 'Div']);
    expect(opTypes(proto)).not.toContain('GlobalAveragePool');
  });

  it('Masking → GlobalAveragePooling1D inside a nested model built without a mask', async () => {
    kiln.setSeed(4);
    const head = new kiln.Sequential([kiln.Input({ shape: [5, 2] }), new L.Dense(3), new L.GlobalAveragePooling1D()]);
    const model = chain([5, 2], 'float32', new L.Masking(), head);
    const inputs = (n: number, seed: number): kiln.Tensor[] => {
      const x = kiln.random.normal([n, 5, 2], { seed });
      const pad = kiln.ops.less(kiln.random.uniform([n, 5, 1], { seed: seed + 1 }), 0.4);
      return [kiln.tidy(() => kiln.ops.where(pad, 0, x))];
    };
    await expectParity(model, { label: 'Masking, nested Dense and GlobalAveragePooling1D', batches: BATCHES, inputs });
  });

  it('refuses a layer applied with a constant mask of its own, which the graph cannot carry', async () => {
    const x = kiln.Input({ shape: [3, 2] });
    const y = new L.Dense(2, { name: 'fixed' }).apply(x as never, { mask: kiln.ones([4, 3], 'bool') }) as unknown as Sym;
    await expect(toModelProto(new kiln.Model({ inputs: x, outputs: y }))).rejects.toThrow(
      "onnx export: layer 'fixed' (Dense) is applied with a mask of its own, which the exporter does not carry",
    );
  });

  it('a mask only the loss would read is not exported: the file is the plain forward pass', async () => {
    const model = chain([6], 'int32', new L.Embedding(9, 4, { maskZero: true }), new L.Dense(1));
    const proto = await toModelProto(model);
    expect(opTypes(proto)).toEqual(['Gather', 'MatMul', 'Add']);
    await expectParity(model, { label: 'Embedding(maskZero), Dense', batches: BATCHES, inputs: (n, seed) => [tokens(n, 6, 9, seed)] });
  });

  it.each([
    ['Add', () => new L.Add()],
    ['Multiply', () => new L.Multiply()],
    ['Maximum', () => new L.Maximum()],
    ['Concatenate on the steps axis', () => new L.Concatenate({ axis: 1 })],
  ] as const)('two Embedding(maskZero) inputs merged by %s, then GlobalAveragePooling1D: the merged mask is exported', async (label, merge) => {
    kiln.setSeed(22);
    const a = kiln.Input({ shape: [6], dtype: 'int32' });
    const b = kiln.Input({ shape: [6], dtype: 'int32' });
    const emb = new L.Embedding(9, 4, { maskZero: true });
    const merged = merge().apply([sym(emb, a), sym(emb, b)] as never) as unknown as Sym;
    const model = new kiln.Model({ inputs: [a, b], outputs: sym(new L.GlobalAveragePooling1D(), merged) });
    randomizeWeights(model);
    await expectParity(model, { label: `Embedding(maskZero) ×2, ${label}`, batches: BATCHES, inputs: (n, seed) => [tokens(n, 6, 9, seed), tokens(n, 6, 9, seed + 7)] });
  });
});
