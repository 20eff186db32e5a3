import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const { Dense, Concatenate, Dropout } = kiln.layers;

/** What the backend holds, in the two numbers a leak moves. */
function held(): { numTensors: number; numBytes: number } {
  const { numTensors, numBytes } = kiln.memory();
  return { numTensors, numBytes };
}

function sequentialMlp(): kiln.Sequential {
  kiln.setSeed(1);
  return new kiln.Sequential([
    kiln.Input({ shape: [4] }),
    new Dense(16, { activation: 'relu' }),
    new Dropout(0.1),
    new Dense(16, { activation: 'relu' }),
    new Dense(3, { activation: 'softmax' }),
  ]);
}

function functionalMlp(): kiln.Model {
  kiln.setSeed(2);
  const a = kiln.Input({ shape: [4], name: 'a' });
  const b = kiln.Input({ shape: [2], name: 'b' });
  const apply = (layer: kiln.Layer, x: unknown) => layer.apply(x as never) as unknown as kiln.SymbolicTensor;
  const h = apply(new Dense(16, { activation: 'relu' }), apply(new Concatenate(), [a, b]));
  const shared = new Dense(16, { activation: 'relu' });
  const h2 = apply(shared, h);
  const cls = apply(new Dense(3, { activation: 'softmax', name: 'cls' }), h2);
  const reg = apply(new Dense(1, { name: 'reg' }), apply(shared, h2));
  return new kiln.Model({ inputs: [a, b], outputs: [cls, reg] });
}

const BATCH = 8;

function sequentialBatch(n = BATCH): [kiln.Tensor, kiln.Tensor] {
  kiln.setSeed(3);
  return [kiln.random.normal([n, 4]), kiln.tensor(Array.from({ length: n }, (_, i) => i % 3), [n], 'int32')];
}

function functionalBatch(n = BATCH): [kiln.Tensor[], kiln.Tensor[]] {
  kiln.setSeed(4);
  return [
    [kiln.random.normal([n, 4]), kiln.random.normal([n, 2])],
    [kiln.tensor(Array.from({ length: n }, (_, i) => i % 3), [n], 'int32'), kiln.random.normal([n, 1])],
  ];
}

/** Runs `step` until `total` steps have run, returning memory after step 10 and after the last. */
async function heldAfter10And(total: number, step: () => Promise<unknown>): Promise<[ReturnType<typeof held>, ReturnType<typeof held>]> {
  for (let i = 0; i < 10; i++) await step();
  const early = held();
  for (let i = 10; i < total; i++) await step();
  return [early, held()];
}

describe('training is leak-free: memory after step 10 equals memory after step 1000', () => {
  it('Sequential, trainOnBatch, Adam, accuracy', async () => {
    const model = sequentialMlp();
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const [x, y] = sequentialBatch();
    const [early, late] = await heldAfter10And(1000, () => model.trainOnBatch(x, y));
    expect(late).toEqual(early);
  });

  it('trainOnBatch given plain arrays, a Variable or class weights frees what it made and leaves the caller its own', async () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new kiln.layers.Dense(3, { activation: 'softmax' })]);
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
    const target = new kiln.Variable(kiln.tensor([0, 2], [2], 'int32'));
    const [early, late] = await heldAfter10And(200, async () => {
      await model.trainOnBatch([[1, 2], [3, 4]], [[0], [2]]);
      await model.trainOnBatch([[1, 2], [3, 4]], target, { classWeight: { 0: 1, 1: 2, 2: 0.5 } });
    });
    expect(late).toEqual(early);
    expect(await target.array()).toEqual([0, 2]);
    target.dispose();
    model.dispose();
  });

  it('Functional (two inputs, two outputs, shared layer), trainOnBatch, Adam, metrics per output', async () => {
    const model = functionalMlp();
    model.compile({
      optimizer: 'adam', loss: ['sparse_categorical_crossentropy', 'mse'], metrics: { cls: ['accuracy'], reg: ['mae'] }, lossWeights: [1, 0.5],
    });
    const [x, y] = functionalBatch();
    const [early, late] = await heldAfter10And(1000, () => model.trainOnBatch(x, y));
    expect(late).toEqual(early);
  });

  it('Sequential, fit with stepsPerEpoch, validation and a batch callback', async () => {
    const model = sequentialMlp();
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const [x, y] = sequentialBatch(BATCH * 10);
    const [vx, vy] = sequentialBatch(BATCH);
    const batchLosses: number[] = [];
    const options = {
      batchSize: BATCH, stepsPerEpoch: 10, verbose: 0 as const, validationData: [vx, vy] as [kiln.Tensor, kiln.Tensor],
      callbacks: [new kiln.callbacks.LambdaCallback({ onTrainBatchEnd: (_b, logs) => void batchLosses.push(logs!.loss) })],
    };
    await model.fit(x, y, { ...options, epochs: 1 });
    const early = held();
    await model.fit(x, y, { ...options, epochs: 100, initialEpoch: 1 });
    expect(batchLosses).toHaveLength(1000);
    expect(held()).toEqual(early);
  });

  it('Functional, fit with validationSplit and shuffling', async () => {
    const model = functionalMlp();
    model.compile({ optimizer: 'adam', loss: ['sparse_categorical_crossentropy', 'mse'], metrics: { cls: ['accuracy'] } });
    const [x, y] = functionalBatch(BATCH * 12);
    await model.fit(x, y, { batchSize: BATCH, epochs: 1, validationSplit: 1 / 6, verbose: 0 });
    const early = held();
    await model.fit(x, y, { batchSize: BATCH, epochs: 99, validationSplit: 1 / 6, verbose: 0 });
    expect(held()).toEqual(early);
  });

  it('evaluate and predict free everything but the predictions they return', async () => {
    const model = functionalMlp();
    model.compile({ optimizer: 'adam', loss: ['sparse_categorical_crossentropy', 'mse'], metrics: { cls: ['accuracy'] } });
    const [x, y] = functionalBatch(20);
    await model.evaluate(x, y, { batchSize: 3 });
    kiln.dispose(await model.predict(x, { batchSize: 3 }));
    const early = held();
    for (let i = 0; i < 20; i++) {
      await model.evaluate(x, y, { batchSize: 3 });
      kiln.dispose(await model.predict(x, { batchSize: 3 }));
      kiln.dispose(model.predictOnBatch(x));
      await model.testOnBatch(x, y);
    }
    expect(held()).toEqual(early);
  });
});

describe('failures are leak-free too', () => {
  it('tidy frees what its function made when the function throws', () => {
    const before = held();
    expect(() => kiln.tidy(() => {
      kiln.ones([16, 16]);
      throw new Error('fails midway');
    })).toThrow('fails midway');
    expect(held()).toEqual(before);
  });

  it('a fit whose step fails (a bad label in a later batch) frees its tensors', async () => {
    const model = sequentialMlp();
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const [x] = sequentialBatch(16);
    const good = kiln.tensor(Array.from({ length: 16 }, (_, i) => i % 3), [16], 'int32');
    const bad = kiln.tensor(Array.from({ length: 16 }, (_, i) => (i === 12 ? 7 : i % 3)), [16], 'int32');
    await model.fit(x, good, { batchSize: 8, verbose: 0 });
    const before = held();
    for (let i = 0; i < 3; i++) {
      await expect(model.fit(x, bad, { batchSize: 8, shuffle: false, verbose: 0 })).rejects.toThrow(/label 7/);
    }
    expect(held()).toEqual(before);
  });

  it('an evaluate whose step fails frees its tensors', async () => {
    const model = sequentialMlp();
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const [x, good] = sequentialBatch(16);
    const bad = kiln.tensor(Array.from({ length: 16 }, (_, i) => (i === 3 ? -1 : i % 3)), [16], 'int32');
    await model.evaluate(x, good);
    const before = held();
    for (let i = 0; i < 3; i++) await expect(model.evaluate(x, bad)).rejects.toThrow(/label -1/);
    expect(held()).toEqual(before);
  });

  it('a callback that throws does not leak the validationSplit copies', async () => {
    const model = sequentialMlp();
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
    const [x, y] = sequentialBatch(16);
    await model.fit(x, y, { batchSize: 8, verbose: 0, validationSplit: 0.5 });
    const before = held();
    const crash = new kiln.callbacks.LambdaCallback({
      onEpochEnd: () => {
        throw new Error('crash');
      },
    });
    for (let i = 0; i < 3; i++) {
      await expect(model.fit(x, y, { batchSize: 8, verbose: 0, validationSplit: 0.5, callbacks: [crash] })).rejects.toThrow('crash');
    }
    expect(held()).toEqual(before);
  });
});
