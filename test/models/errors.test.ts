import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const { Dense, Concatenate } = kiln.layers;

function small(): kiln.Sequential {
  return new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(3, { name: 'scores' })]);
}

function compiled(loss = 'mse'): kiln.Sequential {
  const model = small();
  model.compile({ optimizer: 'sgd', loss });
  return model;
}

function twoInTwoOut(): kiln.Model {
  const a = kiln.Input({ shape: [2], name: 'a' });
  const b = kiln.Input({ shape: [2], name: 'b' });
  const h = new Concatenate().apply([a, b] as never) as unknown as kiln.SymbolicTensor;
  const p = new Dense(1, { name: 'p' }).apply(h as never) as unknown as kiln.SymbolicTensor;
  const q = new Dense(1, { name: 'q' }).apply(h as never) as unknown as kiln.SymbolicTensor;
  return new kiln.Model({ inputs: [a, b], outputs: [p, q] });
}

const x = () => kiln.ones([4, 2]);
const y = () => kiln.ones([4, 3]);

describe('errors: compile', () => {
  it('fit, evaluate, trainOnBatch and testOnBatch need compile; predict does not', async () => {
    const model = small();
    await expect(model.fit(x(), y(), { verbose: 0 })).rejects.toThrow(/fit: model '.*' is not compiled: call model.compile\(\{ optimizer, loss \}\) first/);
    await expect(model.evaluate(x(), y())).rejects.toThrow(/not compiled/);
    await expect(model.trainOnBatch(x(), y())).rejects.toThrow(/not compiled/);
    await expect(model.testOnBatch(x(), y())).rejects.toThrow(/not compiled/);
    expect(((await model.predict(x())) as kiln.Tensor).shape).toEqual([4, 3]);
  });

  it('an unknown loss names the known ids', () => {
    expect(() => small().compile({ optimizer: 'sgd', loss: 'mean_squared_eror' })).toThrow(
      /unknown loss 'mean_squared_eror'; known ids: .*\bmse\b.*mean_squared_error.*categorical_crossentropy/,
    );
  });

  it('an unknown optimizer names the known ones', () => {
    expect(() => small().compile({ optimizer: 'adamm', loss: 'mse' })).toThrow(/unknown optimizer "adamm"; known: sgd, adam, .*rmsprop/);
  });

  it('an unknown metric names the known ids, by the first batch at the latest', async () => {
    const model = small();
    const run = async () => {
      model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['acuracy'] });
      await model.evaluate(x(), y());
    };
    await expect(run()).rejects.toThrow(/unknown metric 'acuracy'; known ids: accuracy, .*mae/);
  });

  it('compile fails on a compile argument with the wrong number of per-output entries', () => {
    const model = twoInTwoOut();
    expect(() => model.compile({ optimizer: 'sgd', loss: ['mse', 'mse', 'mse'] })).toThrow(/loss has 3 entries but the model has 2 outputs \(p, q\)/);
    expect(() => model.compile({ optimizer: 'sgd', loss: 'mse', lossWeights: { r: 1 } })).toThrow(/lossWeights names unknown output\(s\) r; outputs: p, q/);
  });
});

describe('errors: layers', () => {
  it('an unknown activation names the known ids', () => {
    expect(() => new Dense(2, { activation: 'relux' as never })).toThrow(/unknown activation 'relux'; known ids: linear, relu, .*softmax/);
  });

  it('an unknown initializer fails when the layer is made, naming the known ids (as Keras)', () => {
    expect(() => new Dense(2, { kernelInitializer: 'glorot_unifrom' as never })).toThrow(
      /unknown initializer 'glorot_unifrom'; known ids: .*glorot_uniform/,
    );
  });

  it('an unknown initializer fails at the latest when the model is built', () => {
    expect(() => new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(2, { biasInitializer: 'zeroes' as never })])).toThrow(
      /unknown initializer 'zeroes'; known ids: zeros, ones/,
    );
  });
});

describe('errors: data', () => {
  it('x and y of different lengths: the message names both counts', async () => {
    const model = compiled();
    await expect(model.fit(kiln.ones([10, 2]), kiln.ones([8, 3]), { verbose: 0 })).rejects.toThrow(
      'fit: all arrays need the same number of samples: x [10,2] has 10, y [8,3] has 8',
    );
    await expect(model.evaluate(kiln.ones([10, 2]), kiln.ones([8, 3]))).rejects.toThrow(/x \[10,2\] has 10, y \[8,3\] has 8/);
  });

  it('a sampleWeight of another length names its count', async () => {
    await expect(compiled().fit(x(), y(), { verbose: 0, sampleWeight: kiln.ones([3]) })).rejects.toThrow(/sampleWeight \[3\] has 3/);
  });

  it('sparse labels out of range name the label and the valid range', async () => {
    const model = compiled('sparse_categorical_crossentropy');
    await expect(model.fit(x(), kiln.tensor([0, 1, 5, 2], [4], 'int32'), { verbose: 0, shuffle: false })).rejects.toThrow(
      /label 5 at position 2 is out of range: labels must be integers in \[0, 3\)/,
    );
    await expect(model.evaluate(x(), kiln.tensor([0, -1, 1, 2], [4], 'int32'))).rejects.toThrow(/label -1 .* out of range/);
  });

  it('the wrong number of inputs or targets names what the model expects', async () => {
    const model = twoInTwoOut();
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(model.predict(kiln.ones([4, 2]))).rejects.toThrow(/the model has 2 inputs \(a, b\), got 1/);
    await expect(model.predict([kiln.ones([4, 2]), kiln.ones([4, 2]), kiln.ones([4, 2])])).rejects.toThrow(/the model has 2 inputs \(a, b\), got 3/);
    await expect(model.fit([kiln.ones([4, 2]), kiln.ones([4, 2])], kiln.ones([4, 1]), { verbose: 0 })).rejects.toThrow(
      /the model has 2 targets \(p, q\), got 1/,
    );
    expect(() => model.predictOnBatch(kiln.ones([4, 2]))).toThrow(/the model has 2 inputs/);
  });

  it('inputs of the wrong feature size name the layer, the expected size and the shape', async () => {
    const model = compiled();
    await expect(model.fit(kiln.ones([4, 5]), y(), { verbose: 0 })).rejects.toThrow(/Dense 'scores'.*2.*\[4,5\]/);
  });

  it('a scalar input has no batch dimension', async () => {
    await expect(small().predict(kiln.tensor(3))).rejects.toThrow(/must have a batch dimension, got a scalar/);
  });

  it('fit with arrays needs targets', async () => {
    await expect(compiled().fit(x(), undefined, { verbose: 0 })).rejects.toThrow(/expected targets y/);
  });

  it('classWeight needs a weight for every class present, and excludes sampleWeight', async () => {
    const model = compiled('sparse_categorical_crossentropy');
    const labels = kiln.tensor([0, 1, 1, 0], [4], 'int32');
    await expect(model.fit(x(), labels, { verbose: 0, classWeight: { 0: 1 } })).rejects.toThrow(/classWeight has no weight for class 1/);
    await expect(model.fit(x(), labels, { verbose: 0, classWeight: { 0: 1, 1: 2 }, sampleWeight: kiln.ones([4]) })).rejects.toThrow(
      /classWeight or sampleWeight, not both/,
    );
  });

  it('no samples to learn from or to evaluate is an error, not a loss of 0', async () => {
    const model = compiled();
    await expect(model.predict(kiln.ones([0, 2]))).rejects.toThrow(/no samples/);
    await expect(model.evaluate(kiln.ones([0, 2]), kiln.ones([0, 3]))).rejects.toThrow(/no samples|empty/);
    await expect(model.fit(kiln.ones([0, 2]), kiln.ones([0, 3]), { verbose: 0 })).rejects.toThrow(/no samples|empty/);
  });

  it('a validationSplit that leaves no validation sample is an error (as Keras), not a val_loss of 0', async () => {
    await expect(compiled().fit(kiln.ones([3, 2]), kiln.ones([3, 3]), { verbose: 0, validationSplit: 0.2 })).rejects.toThrow(/validationSplit/);
  });

  it('validationSplit needs arrays', async () => {
    const data = { async *[Symbol.asyncIterator]() { yield [x(), y()] as [kiln.Tensor, kiln.Tensor]; } };
    await expect(compiled().fit(data, undefined, { verbose: 0, validationSplit: 0.5 })).rejects.toThrow(/validationSplit needs arrays/);
  });
});

describe('errors: fit options', () => {
  it.each([
    [{ epochs: 0 }, /epochs must be a positive integer, got 0/],
    [{ epochs: 1.5 }, /epochs must be a positive integer, got 1.5/],
    [{ batchSize: -1 }, /batchSize must be a positive integer, got -1/],
    [{ batchSize: 0 }, /batchSize must be a positive integer, got 0/],
    [{ validationSplit: 1.5 }, /validationSplit must be in \[0, 1\), got 1.5/],
    [{ validationSplit: -0.1 }, /validationSplit must be in \[0, 1\), got -0.1/],
    [{ validationSplit: 1 }, /validationSplit must be in \[0, 1\), got 1/],
    [{ validationFreq: 0 }, /validationFreq must be a positive integer, got 0/],
    [{ stepsPerEpoch: 0 }, /stepsPerEpoch must be a positive integer, got 0/],
    [{ initialEpoch: -1 }, /initialEpoch must be a non-negative integer, got -1/],
  ])('fit rejects %o', async (options, message) => {
    await expect(compiled().fit(x(), y(), { verbose: 0, ...options })).rejects.toThrow(message);
  });

  it('evaluate and predict reject a bad batchSize', async () => {
    await expect(compiled().evaluate(x(), y(), { batchSize: 0 })).rejects.toThrow(/evaluate: batchSize must be a positive integer, got 0/);
    await expect(compiled().predict(x(), { batchSize: -2 })).rejects.toThrow(/predict: batchSize must be a positive integer, got -2/);
  });

  it('a failed fit leaves the model usable', async () => {
    const model = compiled();
    await expect(model.fit(x(), y(), { verbose: 0, epochs: 0 })).rejects.toThrow();
    await expect(model.fit(kiln.ones([10, 2]), kiln.ones([8, 3]), { verbose: 0 })).rejects.toThrow();
    const history = await model.fit(x(), y(), { verbose: 0, epochs: 2 });
    expect(history.history.loss).toHaveLength(2);
  });
});
