/**
 * `model.trainable`, as Keras 3's setter: it sets the flag on every layer the model holds (nested
 * models too), so a frozen model has no trainable weights and its BatchNormalization runs in
 * inference mode during fit; setting it true again unfreezes every layer. A saved model's layers
 * keep the flags they had.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { BatchNormalization, Dense, Input, type Layer } from '../../layers/index.js';

const values = (t: kiln.Tensor): number[] => Array.from(t.dataSync());
const snapshot = (model: kiln.Model): number[][] => model.getWeights().map(values);

function stack(): { model: kiln.Sequential; bn: BatchNormalization; dense: Dense } {
  kiln.setSeed(3);
  const dense = new Dense(3, { name: 'dense' });
  const bn = new BatchNormalization({ name: 'bn' });
  const model = new kiln.Sequential([Input({ shape: [2] }), dense, bn, new Dense(1, { name: 'head' })]);
  model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
  return { model, bn, dense };
}

// inputs far from the moving mean 0 and variance 1, so one training step would move both
const x = (): kiln.Tensor => kiln.tensor([[1, 5], [3, -2], [7, 4], [-6, 9]]);
const y = (): kiln.Tensor => kiln.tensor([[1], [2], [3], [4]]);
const flags = (layers: Layer[]): boolean[] => layers.map((l) => l.trainable);

describe('model.trainable, as Keras 3', () => {
  it('false freezes every layer: fit changes no weight and no moving statistic', async () => {
    const { model, bn } = stack();
    model.trainable = false;
    expect(flags(model.layers)).toEqual([false, false, false]);
    expect(model.trainableWeights).toEqual([]);
    expect(bn.trainableWeights).toEqual([]);
    const before = snapshot(model);
    await model.fit(x(), y(), { batchSize: 4, epochs: 1, verbose: 0 });
    expect(snapshot(model)).toEqual(before);
    // the frozen BatchNormalization normalizes with the moving statistics (0 and 1), as in inference
    expect(values(bn.movingMean!.value)).toEqual([0, 0, 0]);
  });

  it('true again unfreezes every layer, even one frozen on its own before', async () => {
    const { model, bn, dense } = stack();
    dense.trainable = false;
    model.trainable = false;
    model.trainable = true;
    expect(flags(model.layers)).toEqual([true, true, true]);
    // dense kernel and bias, bn gamma and beta, head kernel and bias
    expect(model.trainableWeights).toHaveLength(6);
    const kernel = values(dense.kernel!.value);
    await model.fit(x(), y(), { batchSize: 4, epochs: 1, verbose: 0 });
    expect(values(bn.movingMean!.value)).not.toEqual([0, 0, 0]);
    expect(values(dense.kernel!.value)).not.toEqual(kernel);
  });

  it('reaches the layers of a nested Functional model', async () => {
    const { model: inner, bn } = stack();
    const inputs = Input({ shape: [2] });
    const outer = new kiln.Model({ inputs, outputs: inner.apply(inputs) });
    outer.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
    outer.trainable = false;
    expect([inner.trainable, ...flags(inner.layers)]).toEqual([false, false, false, false]);
    const before = snapshot(outer);
    await outer.fit(x(), y(), { batchSize: 4, epochs: 1, verbose: 0 });
    expect(snapshot(outer)).toEqual(before);
    expect(values(bn.movingVariance!.value)).toEqual([1, 1, 1]);
  });

  it('a Functional model built with trainable: false freezes its layers, as Keras\'s constructor', () => {
    const inputs = Input({ shape: [2] });
    const dense = new Dense(2);
    const model = new kiln.Model({ inputs, outputs: dense.apply(inputs), trainable: false });
    expect([model.trainable, dense.trainable]).toEqual([false, false]);
  });

  it('a saved model keeps each layer\'s flag: frozen whole, or one layer frozen alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-trainable-'));
    try {
      const { model: frozen } = stack();
      frozen.trainable = false;
      await frozen.save(join(dir, 'frozen.kiln'));
      const a = await kiln.loadModel(join(dir, 'frozen.kiln'));
      expect([a.trainable, ...flags(a.layers)]).toEqual([false, false, false, false]);
      const { model: partly, dense } = stack();
      dense.trainable = false;
      await partly.save(join(dir, 'partly.kiln'));
      const b = await kiln.loadModel(join(dir, 'partly.kiln'));
      expect([b.trainable, ...flags(b.layers)]).toEqual([true, false, true, true]);
      expect(b.trainableWeights).toHaveLength(4);
      const inputs = Input({ shape: [2] });
      const bn = new BatchNormalization();
      const functional = new kiln.Model({ inputs, outputs: new Dense(1).apply(bn.apply(inputs)) });
      functional.trainable = false;
      await functional.save(join(dir, 'functional.kiln'));
      const c = await kiln.loadModel(join(dir, 'functional.kiln'));
      expect([c.trainable, ...flags(c.layers.slice(1))]).toEqual([false, false, false]);
      expect(c.trainableWeights).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
