import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { buildModel as mnistCnn } from '../../examples/mnist-cnn.js';

const { BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D } = kiln.layers;

/** What the backend holds, in the two numbers a leak moves. */
function held(): { numTensors: number; numBytes: number } {
  const { numTensors, numBytes } = kiln.memory();
  return { numTensors, numBytes };
}

/**
 * The example's layer kinds (examples/mnist-cnn.ts) on 8×8 images, so that 500 steps stay short
 * on the reference backend: a 'valid' and a 'same' convolution, each with BatchNormalization
 * (whose moving statistics are reassigned every step) and max pooling, then Dropout and Dense.
 */
function smallCnn(): kiln.Sequential {
  kiln.setSeed(1);
  return new kiln.Sequential([
    kiln.Input({ shape: [8, 8, 1] }),
    new Conv2D(4, 3, { activation: 'relu' }),
    new BatchNormalization(),
    new MaxPooling2D(2),
    new Conv2D(6, 2, { activation: 'relu', padding: 'same' }),
    new BatchNormalization(),
    new MaxPooling2D(2, { padding: 'same' }),
    new Flatten(),
    new Dropout(0.5),
    new Dense(3, { activation: 'softmax' }),
  ]);
}

const BATCH = 8;

/** `n` images of `shape` with labels 0–2 cycling. */
function data(n: number, shape: number[]): [kiln.Tensor, kiln.Tensor] {
  kiln.setSeed(2);
  return [kiln.random.uniform([n, ...shape]), kiln.tensor(Array.from({ length: n }, (_, i) => i % 3), [n], 'int32')];
}

/**
 * fit for 10 steps, then 490 more (49 epochs of 10 steps, with validation and a batch callback,
 * as a user's fit runs): memory after step 10 and after step 500.
 */
async function fitHeld(model: kiln.Sequential, shape: number[]) {
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const [x, y] = data(BATCH * 10, shape);
  const [vx, vy] = data(BATCH, shape);
  const losses: number[] = [];
  const options = {
    batchSize: BATCH, verbose: 0 as const, validationData: [vx, vy] as [kiln.Tensor, kiln.Tensor],
    callbacks: [new kiln.callbacks.LambdaCallback({ onTrainBatchEnd: (_b, logs) => void losses.push(logs!.loss) })],
  };
  await model.fit(x, y, { ...options, epochs: 1 });
  const early = held();
  await model.fit(x, y, { ...options, epochs: 50, initialEpoch: 1 });
  const late = held();
  kiln.dispose([x, y, vx, vy]);
  return { early, late, losses };
}

const backends = kiln.listBackends();
for (const b of backends.filter((s) => !s.available)) console.warn(`leak-cnn: backend '${b.name}' skipped: ${b.reason}`);

describe.each(backends.filter((b) => b.available).map((b) => b.name))('CNN training is leak-free on %s: memory after step 10 equals memory after step 500', (backend) => {
  it('Conv2D, BatchNormalization, MaxPooling2D, Dropout, Dense: fit with validation and a batch callback', async () => {
    await kiln.setBackend(backend);
    const model = smallCnn();
    const { early, late, losses } = await fitHeld(model, [8, 8, 1]);
    expect(losses).toHaveLength(500);
    expect(late).toEqual(early);
    model.dispose();
  }, 120_000);

  it('evaluate and predict (BatchNormalization on its moving statistics) free everything but the predictions', async () => {
    await kiln.setBackend(backend);
    const model = smallCnn();
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const [x, y] = data(20, [8, 8, 1]);
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
    kiln.dispose([x, y]);
    model.dispose();
  });
});

const native = backends.find((b) => b.name === 'native')!;
describe.skipIf(!native.available)('the MNIST CNN of examples/mnist-cnn.ts is leak-free on native', () => {
  it('memory after step 10 equals memory after step 500 (28×28 images, batch 8)', async () => {
    await kiln.setBackend('native');
    kiln.setSeed(1);
    const model = mnistCnn();
    const { early, late, losses } = await fitHeld(model, [28, 28]);
    expect(losses).toHaveLength(500);
    expect(late).toEqual(early);
    model.dispose();
  }, 120_000);
});
