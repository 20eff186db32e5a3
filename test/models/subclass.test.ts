import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const { Dense, Dropout } = kiln.layers;
const { ops } = kiln;
type StepData = Parameters<kiln.Model['trainStep']>[0];

async function values(t: kiln.Tensor | kiln.Variable): Promise<number[]> {
  return Array.from(await (t instanceof kiln.Variable ? t.value : t).data());
}

function expectClose(got: number[], want: number[], digits = 5): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i], digits));
}

/** Keras's subclassing: layers in fields, the forward pass in call. */
class TwoLayer extends kiln.Model {
  hidden = new Dense(8, { activation: 'tanh', name: 'hidden' });
  out = new Dense(1, { name: 'out' });
  /** The `training` flag of each call, to check what fit, evaluate and predict pass. */
  trainingFlags: (boolean | undefined)[] = [];

  override call(x: kiln.Tensor | kiln.Tensor[], options: kiln.CallOptions = {}): kiln.Tensor {
    this.trainingFlags.push(options.training);
    return this.out.apply(this.hidden.apply(x as kiln.Tensor, options), options) as kiln.Tensor;
  }
}

/** Layers held in an array field are tracked too. */
class Stack extends kiln.Model {
  blocks = [new Dense(4, { activation: 'relu' }), new Dense(4, { activation: 'relu' })];
  head = new Dense(2);

  override call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
    let h = x as kiln.Tensor;
    for (const b of this.blocks) h = b.apply(h) as kiln.Tensor;
    return this.head.apply(h) as kiln.Tensor;
  }
}

/**
 * Keras's "customizing what happens in fit": its own train step (mean squared error by hand,
 * no compiled loss) and test step, with a metric of its own in the logs.
 */
class CustomSteps extends kiln.Model {
  dense = new Dense(1, { name: 'linear' });
  trainSteps = 0;
  testSteps = 0;

  override call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
    return this.dense.apply(x as kiln.Tensor) as kiln.Tensor;
  }

  override trainStep([x, y]: StepData): Record<string, kiln.Tensor> {
    this.trainSteps++;
    const tape = new kiln.GradientTape();
    let pred: kiln.Tensor | null = null;
    const loss = tape.record(() => {
      pred = this.apply(x[0], { training: true }) as kiln.Tensor;
      return ops.mean(ops.square(ops.subtract(y[0], pred)));
    });
    const vars = this.trainableWeights;
    const grads = tape.gradient(loss, vars);
    this.optimizer!.applyGradients(vars.map((v, i) => [grads[i], v] as const));
    return { loss, max_error: ops.max(ops.abs(ops.subtract(y[0], pred!))) };
  }

  override testStep([x, y]: StepData): Record<string, kiln.Tensor> {
    this.testSteps++;
    const pred = this.apply(x[0]) as kiln.Tensor;
    return { loss: ops.mean(ops.abs(ops.subtract(y[0], pred))), seen: ops.sum(kiln.onesLike(pred)) };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-subclass-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Model subclassing', () => {
  it('tracks the layers held in fields, and builds on the first call', async () => {
    const model = new TwoLayer();
    expect(model.layers).toEqual([model.hidden, model.out]);
    expect(model.weights).toEqual([]);
    const y = model.apply(kiln.ones([2, 3])) as kiln.Tensor;
    expect(y.shape).toEqual([2, 1]);
    expect(model.built).toBe(true);
    expect(model.getWeights().map((w) => w.shape)).toEqual([[3, 8], [8], [8, 1], [1]]);
    expect(model.trainableWeights).toEqual([model.hidden.kernel, model.hidden.bias, model.out.kernel, model.out.bias]);
    expect(model.countParams()).toBe(3 * 8 + 8 + 8 + 1);
    expect(model.getLayer('out')).toBe(model.out);
  });

  it('tracks layers held in an array field', () => {
    const model = new Stack();
    model.apply(kiln.ones([1, 3]));
    expect(model.layers).toEqual([...model.blocks, model.head]);
    expect(model.countParams()).toBe(3 * 4 + 4 + 4 * 4 + 4 + 4 * 2 + 2);
  });

  it('predicts as its call computes, and trains with fit (training: true) and evaluates (training: false)', async () => {
    kiln.setSeed(21);
    const model = new TwoLayer();
    const x = kiln.random.normal([16, 3]);
    const y = kiln.ops.sum(x, 1, true);
    const direct = model.apply(x) as kiln.Tensor;
    expectClose(await values((await model.predict(x, { batchSize: 5 })) as kiln.Tensor), await values(direct));
    model.trainingFlags = [];
    model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.05 }), loss: 'mse', metrics: ['mae'] });
    const history = await model.fit(x, y, { epochs: 8, batchSize: 8, verbose: 0 });
    expect(model.trainingFlags.every((f) => f === true)).toBe(true);
    expect(model.trainingFlags.length).toBe(16);
    expect(Object.keys(history.history).sort()).toEqual(['loss', 'mae']);
    expect(history.history.loss.at(-1)!).toBeLessThan(history.history.loss[0]);
    model.trainingFlags = [];
    const logs = await model.evaluate(x, y);
    expect(model.trainingFlags).toEqual([false]);
    expect(Object.keys(logs).sort()).toEqual(['loss', 'mae']);
  });

  it('a dropout inside call is active in fit and inactive in predict', async () => {
    class WithDropout extends kiln.Model {
      drop = new Dropout(0.5);
      override call(x: kiln.Tensor | kiln.Tensor[], options: kiln.CallOptions = {}): kiln.Tensor {
        return this.drop.apply(x as kiln.Tensor, options) as kiln.Tensor;
      }
    }
    const model = new WithDropout();
    const x = kiln.ones([4, 10]);
    expect(await values((await model.predict(x)) as kiln.Tensor)).toEqual(new Array(40).fill(1));
    const trained = await values(model.apply(x, { training: true }) as kiln.Tensor);
    expect(trained.some((v) => v === 0)).toBe(true);
  });

  it('cannot be saved whole (its call is code), but its weights round-trip', async () => {
    kiln.setSeed(22);
    const model = new TwoLayer();
    model.apply(kiln.ones([1, 3]));
    await expect(model.save(join(dir, 'sub.kiln'))).rejects.toThrow(/subclassed.*saveWeights/);
    await model.saveWeights(join(dir, 'sub.weights.kiln'));
    const copy = new TwoLayer();
    copy.apply(kiln.ones([1, 3]));
    await copy.loadWeights(join(dir, 'sub.weights.kiln'));
    const x = kiln.random.normal([4, 3]);
    expectClose(await values(copy.predictOnBatch(x) as kiln.Tensor), await values(model.predictOnBatch(x) as kiln.Tensor));
  });
});

describe('Model subclassing: custom train and test steps', () => {
  it('fit uses an overridden trainStep, without a compiled loss', async () => {
    kiln.setSeed(23);
    const model = new CustomSteps();
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }) });
    const x = kiln.random.normal([12, 2]);
    const y = kiln.ops.add(kiln.ops.matmul(x, kiln.tensor([[2], [-1]])), 0.5);
    const history = await model.fit(x, y, { epochs: 20, batchSize: 4, verbose: 0 });
    expect(model.trainSteps).toBe(20 * 3);
    // the epoch logs of a custom step are what it returns, as in Keras (_get_metrics_result_or_logs)
    expect(Object.keys(history.history).sort()).toEqual(['loss', 'max_error']);
    expect(history.history.loss).toHaveLength(20);
    expect(history.history.loss.every(Number.isFinite)).toBe(true);
    expect(history.history.loss.at(-1)!).toBeLessThan(history.history.loss[0]);
    expectClose(await values(model.dense.kernel!), [2, -1], 1);
  });

  it('a trainStep that returns the step loss reports it in the batch logs', async () => {
    kiln.setSeed(24);
    const model = new CustomSteps();
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }) });
    const batchLosses: number[] = [];
    const x = kiln.random.normal([8, 2]);
    const y = kiln.random.normal([8, 1]);
    await model.fit(x, y, {
      epochs: 1, batchSize: 4, shuffle: false, verbose: 0,
      callbacks: [new kiln.callbacks.LambdaCallback({ onTrainBatchEnd: (_b, logs) => void batchLosses.push(logs!.loss) })],
    });
    expect(batchLosses).toHaveLength(2);
    expect(batchLosses.every(Number.isFinite)).toBe(true);
  });

  it('evaluate uses an overridden testStep and reports what it returns', async () => {
    const model = new CustomSteps();
    model.compile({ optimizer: 'sgd' });
    model.apply(kiln.ones([1, 2]));
    model.dense.setWeights([[[1], [1]], [0]]);
    const x = kiln.tensor([[1, 2], [3, 4], [0, 0]]);
    const y = kiln.tensor([[3], [6], [1]]);
    const logs = await model.evaluate(x, y, { batchSize: 3 });
    expect(model.testSteps).toBe(1);
    // predictions [3, 7, 0]: mean |error| = (0 + 1 + 1) / 3
    expect(logs.loss).toBeCloseTo(2 / 3, 5);
    expect(logs.seen).toBe(3);
  });

  it('trainOnBatch uses the overridden trainStep too', async () => {
    const model = new CustomSteps();
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.5 }) });
    model.apply(kiln.ones([1, 1]));
    model.dense.setWeights([[[0]], [0]]);
    const logs = await model.trainOnBatch(kiln.tensor([[1]]), kiln.tensor([[2]]));
    expect(model.trainSteps).toBe(1);
    expect(logs.loss).toBeCloseTo(4, 5);
    expect(logs.max_error).toBeCloseTo(2, 5);
    // dL/dw = -2 · (2 - 0) · 1 = -4, dL/db = -4: w = b = 0.5 · 4 = 2
    expectClose(await values(model.dense.kernel!), [2]);
    expectClose(await values(model.dense.bias!), [2]);
  });
});
