/**
 * Embedding: the layer harness (Keras's weight name and shape, shapes symbolic and eager, config
 * round trip, float64 finite differences on the embeddings), values and gradients written out by
 * hand on every backend, maskZero's mask, float indices cast toward zero, and the indices and
 * options Keras refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Embedding, Input, maskOf } from '../../layers/index.js';
import { runLayerTest } from './harness.js';
import { findBackend } from '../../src/backends.js';

const values = (t: kiln.Tensor | kiln.Variable): number[] => Array.from((t instanceof kiln.Variable ? t.value : t).dataSync());
const ints = (rows: number[][]): kiln.Tensor => kiln.tensor(rows, [rows.length, rows[0].length], 'int32');

/** A 4 × 2 table whose row i is [10 i, 10 i + 1]: a looked-up row names its index. */
function table(): Embedding {
  const layer = new Embedding(4, 2);
  layer.build([null, 3]);
  layer.setWeights([kiln.tensor([[0, 1], [10, 11], [20, 21], [30, 31]])]);
  return layer;
}

describe('Embedding passes the layer harness on reference', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('int32 indices, and maskZero with a regularizer and a constraint', () => {
    runLayerTest(Embedding, {
      args: [7, 3],
      inputShape: [2, 4], expectedOutputShape: [2, 4, 3],
      expectedWeights: [['embeddings', [7, 3]]],
      inputs: () => ints([[0, 3, 6, 1], [2, 2, 5, 0]]),
    });
    runLayerTest(Embedding, {
      args: [5, 2, { maskZero: true, embeddingsRegularizer: 'l2', embeddingsConstraint: 'non_neg' }],
      inputShape: [3, 2], expectedOutputShape: [3, 2, 2],
      expectedWeights: [['embeddings', [5, 2]]],
      inputs: () => ints([[1, 0], [4, 4], [0, 0]]),
    });
  });

  it('indices of any rank, float ones included (no gradient: the cast is flat between integers)', () => {
    runLayerTest(Embedding, {
      args: [6, 2],
      inputShape: [2, 2, 3], expectedOutputShape: [2, 2, 3, 2],
      expectedWeights: [['embeddings', [6, 2]]],
      inputs: () => kiln.tensor([[[0.5, 1.25, 2.5], [3.5, 4.75, 5.5]], [[5.5, 0.9, 2.5], [1.5, 1.5, 1.5]]]),
    });
  });
});

const AVAILABLE = kiln.listBackends().filter((b) => b.available).map((b) => b.name);

describe.each(AVAILABLE)('Embedding on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  afterAll(() => kiln.setBackend('reference'));

  it('looks up row i for index i', () => {
    const y = table().apply(ints([[3, 0, 1], [2, 2, 0]]));
    expect([...y.shape]).toEqual([2, 3, 2]);
    expect(values(y)).toEqual([30, 31, 0, 1, 10, 11, 20, 21, 20, 21, 0, 1]);
  });

  it('casts float indices to int32 toward zero, as Keras does', () => {
    const y = table().apply(kiln.tensor([[1.7, 0.2, 3.99, -0.5]]));
    expect(values(y)).toEqual([10, 11, 0, 1, 30, 31, 0, 1]);
  });

  it('sends the gradient to the rows it looked up, a repeated row getting the sum (scatterAdd)', () => {
    const layer = table();
    const r = kiln.tensor([[[1, 2], [3, 4], [5, 6]]]);
    const tape = new kiln.GradientTape();
    const loss = tape.record(() => kiln.ops.sum(kiln.ops.multiply(layer.apply(ints([[2, 0, 2]])), r)));
    const [g] = tape.gradient(loss, [layer.embeddings!]);
    // d/d row k of sum(y · r) is the sum of r over the steps that looked up row k
    expect(values(g!)).toEqual([3, 4, 0, 0, 1 + 5, 2 + 6, 0, 0]);
  });

  it('refuses an index outside [0, inputDim), naming the layer, the index and inputDim, at the next read', async () => {
    // checked on the device, so every backend throws at the same place: the next read (docs/indices.md)
    const layer = new Embedding(5, 2, { name: 'tokens' });
    const rejects = async (x: kiln.Tensor, message: string | RegExp) => {
      const y = layer.apply(x);
      await expect(y.data()).rejects.toThrow(message);
      kiln.dispose([x, y]);
    };
    await rejects(ints([[1, 5]]),
      "Embedding 'tokens': index 5 (element 1 of the input [1,2], flattened) is out of range for inputDim 5: indices must be in [0, 5)");
    await rejects(ints([[-1, 0]]), /Embedding 'tokens': index -1 \(element 0 of the input \[1,2\], flattened\) is out of range for inputDim 5/);
    // 5.5 casts to 5; NaN and -1.5 (cast to -1) have no row either
    for (const bad of [5.5, NaN, -1.5, Infinity]) await rejects(kiln.tensor([[0, bad]]), `Embedding 'tokens': index ${bad} (element 1`);
    // the first bad index is named, and a read with nothing wrong passes
    await rejects(ints([[0, 7, 9]]), "index 7 (element 1 of the input [1,3], flattened)");
    const fine = layer.apply(ints([[4, 0]]));
    expect((await fine.data()).length).toBe(4);
    fine.dispose();
  });

  it('a bad index gathers a clamped row meanwhile: nothing read or written outside the table', async () => {
    const y = table().apply(ints([[9, -3, 1]]));
    // read past the pending check, straight from the backend: rows 3 and 0 stand in for 9 and -3
    const raw = await (await findBackend(backend)).read(y.dataHandle().id);
    expect(Array.from(raw)).toEqual([30, 31, 0, 1, 10, 11]);
    await expect(y.data()).rejects.toThrow('index 9 (element 0 of the input [1,3], flattened)');
    y.dispose();
  });
});

describe('Embedding masks (maskZero)', () => {
  it('masks the steps whose index is 0 and passes no mask without maskZero', () => {
    const x = ints([[3, 0, 1], [0, 0, 2]]);
    const masked = new Embedding(4, 2, { maskZero: true });
    expect(masked.supportsMasking).toBe(true);
    const y = masked.apply(x);
    expect(maskOf(y)!.arraySync()).toEqual([[true, false, true], [false, false, true]]);
    expect((masked.computeMask(x) as kiln.Tensor).arraySync()).toEqual([[true, false, true], [false, false, true]]);
    // index 0 still has its row: the mask, not the lookup, leaves it out
    expect(values(y).slice(2, 4)).toEqual(values(masked.embeddings!).slice(0, 2));

    const plain = new Embedding(4, 2);
    expect(plain.supportsMasking).toBe(false);
    expect(maskOf(plain.apply(x))).toBeNull();
    expect(plain.computeMask(x)).toBeNull();
  });

  it('compares float indices with 0 as given, as Keras does: 0.5 counts although its row is 0', () => {
    const y = new Embedding(4, 2, { maskZero: true }).apply(kiln.tensor([[0.5, 0, 2]]));
    expect(maskOf(y)!.arraySync()).toEqual([[true, false, true]]);
  });

  it('gives symbolic outputs a symbolic mask of the input shape', () => {
    const x = Input({ shape: [6], dtype: 'int32' });
    const y = new Embedding(9, 4, { maskZero: true }).apply(x as never) as unknown as kiln.SymbolicTensor;
    expect([...y.shape]).toEqual([null, 6, 4]);
    const mask = maskOf(y)!;
    expect(mask).toBeInstanceOf(kiln.SymbolicTensor);
    expect([mask.dtype, [...mask.shape]]).toEqual(['bool', [null, 6]]);
    expect(maskOf(new Embedding(9, 4).apply(x as never) as unknown as kiln.SymbolicTensor)).toBeNull();
  });
});

describe('Embedding options and config', () => {
  it('draws its weights from uniform ±0.05 by default, saved as Keras saves RandomUniform', () => {
    kiln.setSeed(3);
    const layer = new Embedding(50, 40);
    layer.build([null, 2]);
    const w = values(layer.embeddings!);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-0.05);
    expect(Math.max(...w)).toBeLessThan(0.05);
    // 2000 draws spread over the whole range
    expect(Math.max(...w) - Math.min(...w)).toBeGreaterThan(0.09);
    expect(layer.getConfig()).toEqual({
      name: layer.name, trainable: true, dtype: 'float32', inputDim: 50, outputDim: 40,
      embeddingsInitializer: { className: 'RandomUniform', config: { seed: null, minval: -0.05, maxval: 0.05 } },
      embeddingsRegularizer: null, activityRegularizer: null, embeddingsConstraint: null, maskZero: false,
    });
  });

  it('adds its regularizers to losses and applies its constraint', () => {
    const layer = new Embedding(3, 2, { embeddingsRegularizer: { className: 'L2', config: { l2: 0.5 } }, activityRegularizer: 'l1', embeddingsConstraint: 'non_neg' });
    layer.build([null, 2]);
    layer.setWeights([kiln.tensor([[1, -2], [0, 3], [-1, 1]])]);
    const y = layer.apply(ints([[1, 2]]));
    // 0.5 · Σw² = 0.5 · 16; the activity penalty l1 (0.01) of |y| = 0.01 · (0 + 3 + 1 + 1), batch 1
    expect(layer.losses.map((t) => t.dataSync()[0])).toEqual([8, expect.closeTo(0.05, 6)]);
    expect(values(y)).toEqual([0, 3, -1, 1]);
    const [[constrained, constraint]] = layer.constrainedWeights();
    expect(constrained).toBe(layer.weights[0]);
    constrained.assign(constraint(constrained.value));
    expect(values(layer.embeddings!)).toEqual([1, 0, 0, 3, 0, 1]);
  });

  it('refuses what Keras refuses, naming the option', () => {
    expect(() => new Embedding(0, 2, { name: 'e' })).toThrow("Embedding 'e': inputDim must be a positive integer, got 0");
    expect(() => new Embedding(3, 2.5, { name: 'e' })).toThrow("Embedding 'e': outputDim must be a positive integer, got 2.5");
    expect(() => new Embedding(3, 2, { name: 'e', maskZero: 'yes' as never })).toThrow(`Embedding 'e': maskZero must be true or false, got "yes"`);
    expect(() => new Embedding(3, 2, { embeddingsInitializer: 'uniformly' })).toThrow(/unknown initializer 'uniformly'/);
    expect(() => new Embedding(3, 2, { name: 'e' }).apply(kiln.tensor([[true, false]], [1, 2], 'bool')))
      .toThrow("Embedding 'e': expects integer indices, got a bool tensor of shape [1,2]");
  });
});
