/**
 * Layers held in a custom layer's fields are tracked, as Keras 3 tracks a layer assigned to an
 * attribute: their weights are the outer layer's (counted, saved in order, trained, frozen with
 * it). Keras's "Text classification with Transformer" keeps its MultiHeadAttention, feed-forward
 * Sequential and LayerNormalizations in fields without any track call; before, kiln counted 0
 * parameters for such a block and fit never updated them.
 */
import { expect, it } from 'vitest';
import * as kiln from '../../index.js';

class Block extends kiln.Layer {
  readonly first = new kiln.layers.Dense(3, { name: 'first' });
  readonly rest = [new kiln.layers.Dense(2, { name: 'second' }), new kiln.layers.LayerNormalization({ name: 'norm' })];

  call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
    return this.rest.reduce((h, l) => l.apply(h) as kiln.Tensor, this.first.apply(x as kiln.Tensor));
  }
}

it('weights of layers in fields and in lists of fields are the layer\'s, in field order', () => {
  const block = new Block();
  block.apply(kiln.ones([1, 4]));
  // Dense 4→3: 12 + 3; Dense 3→2: 6 + 2; LayerNormalization over 2: gamma 2, beta 2
  expect(block.countParams()).toBe(27);
  expect(block.getWeightVariables().map((v) => v.name)).toEqual(['first/kernel', 'first/bias', 'second/kernel', 'second/bias', 'norm/gamma', 'norm/beta']);
  expect(block.trainableWeights.length).toBe(6);
  block.trainable = false;
  expect(block.trainableWeights.length).toBe(0);
  expect(block.first.trainable).toBe(false);
});

it('fit trains the weights of a block held in fields, inside a Functional model', async () => {
  kiln.setSeed(11);
  const x = kiln.Input({ shape: [4] });
  const block = new Block();
  const model = new kiln.Model({ inputs: x, outputs: new kiln.layers.Dense(1, { name: 'head' }).apply(block.apply(x)) });
  expect(model.countParams()).toBe(27 + 3);
  const before = Array.from(block.first.getWeights()[0].dataSync());
  model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
  await model.fit(kiln.random.normal([16, 4], { seed: 1 }), kiln.random.normal([16, 1], { seed: 2 }), { epochs: 1, batchSize: 16, verbose: 0 });
  const after = Array.from(block.first.getWeights()[0].dataSync());
  expect(after.some((v, i) => v !== before[i])).toBe(true);
});
