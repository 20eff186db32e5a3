import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as kiln from '../../index.js';

const { Dense, Dropout } = kiln.layers;
const { SGD, Adam } = kiln.optimizers;
const {
  BackupAndRestore, EarlyStopping, LambdaCallback, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN,
} = kiln.callbacks;
type StepData = Parameters<kiln.Model['trainStep']>[0];

async function values(t: kiln.Tensor | kiln.Variable): Promise<number[]> {
  return Array.from(await (t instanceof kiln.Variable ? t.value : t).data());
}

async function weightValues(model: kiln.Model): Promise<number[][]> {
  return Promise.all(model.getWeights().map((w) => values(w)));
}

function expectClose(got: number[], want: number[], digits = 5): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i], digits));
}

function expectWeightsClose(got: number[][], want: number[][], digits = 5): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expectClose(g, want[i], digits));
}

/** A linear model 2 → 1 with the given weights. */
function linear(kernel = [[1], [-2]], bias = [0.5]): kiln.Sequential {
  const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(1, { name: 'linear' })]);
  model.setWeights([kernel, bias]);
  return model;
}

/** A small MLP 3 → 4 → 1, the same for a given seed. */
function mlp(seed: number, { dropout = false } = {}): kiln.Sequential {
  kiln.setSeed(seed);
  return new kiln.Sequential([
    kiln.Input({ shape: [3] }),
    new Dense(4, { activation: 'tanh' }),
    ...(dropout ? [new Dropout(0.3)] : []),
    new Dense(1),
  ]);
}

function regressionData(seed: number, n: number): { x: kiln.Tensor; y: kiln.Tensor } {
  kiln.setSeed(seed);
  const x = kiln.random.normal([n, 3]);
  const y = kiln.ops.add(kiln.ops.matmul(x, kiln.tensor([[1], [-1], [0.5]])), 0.1);
  return { x, y };
}

/** Rows [start, end) of a 2-D array as a tensor. */
function rowsOf(t: kiln.Tensor, start: number, end: number): kiln.Tensor {
  return kiln.ops.slice(t, [start, 0], [end - start, t.shape[1]]);
}

/**
 * A Sequential that records the first feature of every sample of every training batch. trainStep
 * is synchronous, so the spy reads with dataSync: the reference backend allows it, and only tests do it.
 */
class BatchSpy extends kiln.Sequential {
  batches: number[][] = [];

  override trainStep(data: StepData): Record<string, kiln.Tensor> {
    const x = data[0][0];
    const flat = Array.from(x.dataSync());
    const width = x.shape[1];
    this.batches.push(flat.filter((_, i) => i % width === 0));
    return super.trainStep(data);
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-training-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('compile', () => {
  it('accepts strings and objects for the optimizer, loss and metrics alike', async () => {
    const x = kiln.tensor([[1, 2], [0, 1], [-1, 3]]);
    const y = kiln.tensor([[0], [1], [2]]);
    const byString = linear();
    byString.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
    const byObject = linear();
    byObject.compile({
      optimizer: new Adam(), loss: new kiln.losses.MeanSquaredError(), metrics: [new kiln.metrics.MeanAbsoluteError({ name: 'mae' })],
    });
    const byFunction = linear();
    byFunction.compile({ optimizer: { className: 'Adam', config: {} }, loss: kiln.losses.meanSquaredError, metrics: [kiln.metrics.MeanAbsoluteError] });
    const a = await byString.evaluate(x, y);
    const b = await byObject.evaluate(x, y);
    const c = await byFunction.evaluate(x, y);
    expect(Object.keys(a).sort()).toEqual(['loss', 'mae']);
    expect(b).toEqual(a);
    expect(c.loss).toBeCloseTo(a.loss, 6);
    expect(c.mean_absolute_error).toBeCloseTo(a.mae, 6);
    expect(byString.optimizer).toBeInstanceOf(Adam);
    expect(byFunction.optimizer).toBeInstanceOf(Adam);
  });

  it('defaults to RMSprop as Keras does', () => {
    const model = linear();
    model.compile({ loss: 'mse' });
    expect(model.optimizer).toBeInstanceOf(kiln.optimizers.RMSprop);
  });
});

describe('fit, evaluate, predict', () => {
  it('fit returns a History with Keras keys, also kept as model.history', async () => {
    const { x, y } = regressionData(1, 16);
    const model = mlp(2);
    model.compile({ optimizer: new Adam({ learningRate: 0.02 }), loss: 'mse', metrics: ['mae', 'mse'] });
    const history = await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
    expect(history).toBeInstanceOf(kiln.callbacks.History);
    expect(model.history).toBe(history);
    expect(history.epoch).toEqual([0, 1, 2]);
    expect(Object.keys(history.history).sort()).toEqual(['loss', 'mae', 'mse']);
    for (const v of Object.values(history.history)) expect(v).toHaveLength(3);
    // with no regularization, the mse metric is the loss
    expectClose(history.history.mse, history.history.loss);
  });

  it('names accuracy for sparse labels as given, and computes it by hand', async () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(3, { name: 'scores' })]);
    model.setWeights([[[1, 0, -1], [0, 1, 0]], [0, 0, 0]]);
    model.compile({ optimizer: 'sgd', loss: new kiln.losses.SparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    // scores: [1,0,-1] → 0; [0,2,0] → 1; [-1,1,1] → 1 (first max); [2,0,-2] → 0
    const x = kiln.tensor([[1, 0], [0, 2], [-1, 1], [2, 0]]);
    const labels = kiln.tensor([0, 1, 2, 2], [4], 'int32');
    const logs = await model.evaluate(x, labels);
    expect(Object.keys(logs).sort()).toEqual(['accuracy', 'loss']);
    expect(logs.accuracy).toBeCloseTo(0.5, 6);
  });

  it('evaluate returns the loss and metrics computed by hand on a fixed model', async () => {
    const model = linear([[2], [-1]], [0.5]);
    model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
    const x = [[1, 2], [3, -1], [0, 0], [-2, 1]];
    const y = [1, 5, 0, -4];
    const pred = x.map(([a, b]) => 2 * a - b + 0.5); // [0.5, 7.5, 0.5, -4.5]
    const mse = pred.reduce((s, p, i) => s + (p - y[i]) ** 2, 0) / 4;
    const mae = pred.reduce((s, p, i) => s + Math.abs(p - y[i]), 0) / 4;
    const logs = await model.evaluate(kiln.tensor(x), kiln.tensor(y.map((v) => [v])));
    expect(logs.loss).toBeCloseTo(mse, 5);
    expect(logs.mae).toBeCloseTo(mae, 5);
  });

  it('the loss of an epoch is the mean over samples whatever the batch size (Keras weights batches by size)', async () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [3] }), new Dense(1)]);
    model.setWeights([[[2], [-1], [0]], [0.5]]);
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse', metrics: ['mae'] });
    const { x, y } = regressionData(3, 10);
    const whole = await model.evaluate(x, y, { batchSize: 10 });
    const batched = await model.evaluate(x, y, { batchSize: 3 });
    expect(batched.mae).toBeCloseTo(whole.mae, 5);
    expect(batched.loss).toBeCloseTo(whole.loss, 5);
    const history = await model.fit(x, y, { epochs: 1, batchSize: 3, shuffle: false, verbose: 0 });
    expect(history.history.loss[0]).toBeCloseTo(whole.loss, 5);
  });

  it('weight regularization adds to the loss but not to the metrics', async () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(1, { kernelRegularizer: { className: 'L2', config: { l2: 0.1 } } })]);
    model.setWeights([[[1], [2]], [0]]);
    model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mse'] });
    // prediction 3 against 0: mse 9; penalty 0.1 · (1² + 2²) = 0.5
    const logs = await model.evaluate(kiln.tensor([[1, 1]]), kiln.tensor([[0]]));
    expect(logs.loss).toBeCloseTo(9.5, 5);
    expect(logs.mse).toBeCloseTo(9, 5);
  });

  it('an activity penalty is averaged over the batch, as Keras normalizes it by batch size', async () => {
    const model = new kiln.Sequential([
      kiln.Input({ shape: [1] }),
      new Dense(1, { useBias: false, kernelInitializer: 'ones', activityRegularizer: { className: 'L1', config: { l1: 1 } } }),
    ]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    // outputs equal the targets, so the loss is only the penalty: (|1| + |2|) / 2 samples
    const logs = await model.evaluate(kiln.tensor([[1], [2]]), kiln.tensor([[1], [2]]));
    expect(logs.loss).toBeCloseTo(1.5, 5);
  });

  it('predict with batch sizes not dividing n equals predictOnBatch on everything', async () => {
    const model = mlp(4);
    const { x } = regressionData(5, 11);
    const all = await values(model.predictOnBatch(x) as kiln.Tensor);
    for (const batchSize of [1, 3, 4, 10, 11, 32]) {
      const out = (await model.predict(x, { batchSize })) as kiln.Tensor;
      expect(out.shape).toEqual([11, 1]);
      expectClose(await values(out), all);
    }
  });

  it('trainOnBatch returns the loss before its update; testOnBatch the loss after', async () => {
    const model = linear([[0], [0]], [0]);
    model.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'mse', metrics: ['mae'] });
    const x = kiln.tensor([[1, 0], [0, 1]]);
    const y = kiln.tensor([[1], [2]]);
    const first = await model.trainOnBatch(x, y);
    expect(first.loss).toBeCloseTo((1 + 4) / 2, 5);
    expect(first.mae).toBeCloseTo((1 + 2) / 2, 5);
    // dL/dW = 2/2 · Xᵀ(pred - y) = [-1, -2]; dL/db = -3: W = [0.1, 0.2], b = 0.3
    expectClose((await weightValues(model)).flat(), [0.1, 0.2, 0.3]);
    const after = await model.testOnBatch(x, y);
    expect(after.loss).toBeCloseTo(((1 - 0.4) ** 2 + (2 - 0.5) ** 2) / 2, 5);
    expectClose((await weightValues(model)).flat(), [0.1, 0.2, 0.3]);
  });

  it('one SGD step on a Dense model is the hand-computed update', async () => {
    const kernel = [[0.5, -1], [2, 0.25], [-0.5, 1]];
    const bias = [0.1, -0.2];
    const model = new kiln.Sequential([kiln.Input({ shape: [3] }), new Dense(2)]);
    model.setWeights([kernel, bias]);
    const lr = 0.05;
    model.compile({ optimizer: new SGD({ learningRate: lr }), loss: 'mse' });
    const x = [[1, 2, 3], [-1, 0, 2], [0.5, -1, 1]];
    const y = [[1, 0], [0, 1], [2, 2]];
    const n = x.length;
    const units = 2;
    const pred = x.map((r) => bias.map((b, j) => r.reduce((s, v, i) => s + v * kernel[i][j], b)));
    // mse averages over samples and units: dL/dpred = 2 (pred - y) / (n · units)
    const g = pred.map((r, s) => r.map((p, j) => (2 * (p - y[s][j])) / (n * units)));
    const wantKernel = kernel.map((row, i) => row.map((w, j) => w - lr * x.reduce((acc, r, s) => acc + r[i] * g[s][j], 0)));
    const wantBias = bias.map((b, j) => b - lr * g.reduce((acc, r) => acc + r[j], 0));
    await model.fit(kiln.tensor(x), kiln.tensor(y), { epochs: 1, batchSize: n, verbose: 0 });
    const [k, b] = await weightValues(model);
    expectClose(k, wantKernel.flat(), 6);
    expectClose(b, wantBias, 6);
  });

  it('with shuffle = false, fit is deterministic and goes through the batches in order', async () => {
    const { x, y } = regressionData(6, 10);
    const runs: number[][] = [];
    const finals: number[][][] = [];
    for (let r = 0; r < 2; r++) {
      const model = new BatchSpy([kiln.Input({ shape: [3] }), new Dense(1)]);
      model.setWeights([[[0.1], [0.2], [0.3]], [0]]);
      model.compile({ optimizer: new SGD({ learningRate: 0.05 }), loss: 'mse' });
      runs.push((await model.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 })).history.loss);
      finals.push(await weightValues(model));
      const firstFeature = (await values(x)).filter((_, i) => i % 3 === 0);
      expect(model.batches.map((b) => b.length)).toEqual([4, 4, 2, 4, 4, 2]);
      expectClose(model.batches.slice(0, 3).flat(), firstFeature);
      expectClose(model.batches.slice(3).flat(), firstFeature);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(finals[1]).toEqual(finals[0]);
  });

  it('setSeed makes a whole shuffled fit with dropout reproducible', async () => {
    const run = async () => {
      const { x, y } = regressionData(7, 12);
      const model = mlp(8, { dropout: true });
      model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'mse' });
      const history = await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
      return { losses: history.history.loss, weights: await weightValues(model) };
    };
    const a = await run();
    const b = await run();
    expect(b.losses).toEqual(a.losses);
    expect(b.weights).toEqual(a.weights);
    kiln.setSeed(999);
    const { x, y } = regressionData(7, 12);
    const other = mlp(9, { dropout: true });
    other.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'mse' });
    expect((await other.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 })).history.loss).not.toEqual(a.losses);
  });

  it('shuffle = true visits every sample once per epoch, in a new order', async () => {
    kiln.setSeed(10);
    const n = 12;
    const x = kiln.tensor(Array.from({ length: n }, (_, i) => [i, 0, 0]));
    const model = new BatchSpy([kiln.Input({ shape: [3] }), new Dense(1)]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await model.fit(x, kiln.zeros([n, 1]), { epochs: 2, batchSize: 5, verbose: 0 });
    const epoch1 = model.batches.slice(0, 3).flat();
    const epoch2 = model.batches.slice(3).flat();
    expect([...epoch1].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect([...epoch2].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(epoch1).not.toEqual(epoch2);
  });
});

describe('fit options', () => {
  it('validationSplit holds out the last fraction of the samples, before shuffling', async () => {
    const n = 8;
    const x = kiln.tensor(Array.from({ length: n }, (_, i) => [i, 1, -i]));
    const y = kiln.tensor(Array.from({ length: n }, (_, i) => [i % 3]));
    const model = new BatchSpy([kiln.Input({ shape: [3] }), new Dense(1)]);
    model.setWeights([[[0.1], [0.2], [0.3]], [0]]);
    model.compile({ optimizer: new SGD({ learningRate: 0.01 }), loss: 'mse' });
    const history = await model.fit(x, y, { epochs: 2, batchSize: 3, validationSplit: 0.25, verbose: 0 });
    const trained = [...new Set(model.batches.flat())].sort((a, b) => a - b);
    expect(trained).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Object.keys(history.history).sort()).toEqual(['loss', 'val_loss']);
    const held = await model.evaluate(rowsOf(x, 6, 8), rowsOf(y, 6, 8));
    expect(history.history.val_loss[1]).toBeCloseTo(held.loss, 5);
  });

  it('validationData is evaluated after each epoch with the epoch-end weights', async () => {
    const { x, y } = regressionData(11, 12);
    // 4 validation samples: one batch, so that the mean over batches is the mean over samples
    const { x: vx, y: vy } = regressionData(12, 4);
    const model = mlp(13);
    model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'mse', metrics: ['mae'] });
    const seen: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 2, batchSize: 4, verbose: 0, validationData: [vx, vy],
      callbacks: [new LambdaCallback({ onEpochEnd: (_e, logs) => void seen.push(logs!.val_loss) })],
    });
    expect(Object.keys(history.history).sort()).toEqual(['loss', 'mae', 'val_loss', 'val_mae']);
    expect(seen).toEqual(history.history.val_loss);
    const logs = await model.evaluate(vx, vy);
    expect(history.history.val_loss[1]).toBeCloseTo(logs.loss, 5);
    expect(history.history.val_mae[1]).toBeCloseTo(logs.mae, 5);
  });

  it('validationFreq validates every n-th epoch only', async () => {
    const { x, y } = regressionData(14, 8);
    const model = mlp(15);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const valEpochs: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 5, batchSize: 8, verbose: 0, validationData: [x, y], validationFreq: 2,
      callbacks: [new LambdaCallback({ onEpochEnd: (e, logs) => void ('val_loss' in logs! && valEpochs.push(e)) })],
    });
    expect(valEpochs).toEqual([1, 3]);
    expect(history.history.loss).toHaveLength(5);
    expect(history.history.val_loss).toHaveLength(2);
  });

  it('initialEpoch starts the epoch count there, up to epochs in total', async () => {
    const { x, y } = regressionData(16, 8);
    const model = mlp(17);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const begun: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 4, initialEpoch: 2, verbose: 0, callbacks: [new LambdaCallback({ onEpochBegin: (e) => void begun.push(e) })],
    });
    expect(begun).toEqual([2, 3]);
    expect(history.epoch).toEqual([2, 3]);
    expect(history.history.loss).toHaveLength(2);
  });

  it('a callback resumes fit by setting model.resumeEpoch in onTrainBegin; fit reads it once, then clears it', async () => {
    const { x, y } = regressionData(16, 8);
    const model = mlp(17);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const begun: number[] = [];
    const resume = new LambdaCallback({ onTrainBegin: () => void (model.resumeEpoch = 3) });
    const track = new LambdaCallback({ onEpochBegin: (e) => void begun.push(e) });
    await model.fit(x, y, { epochs: 5, initialEpoch: 1, verbose: 0, callbacks: [resume, track] });
    expect(begun).toEqual([3, 4]);
    expect(model.resumeEpoch).toBeNull();
    // a value left over from a fit that failed before reading it is not taken up by the next one
    model.resumeEpoch = 4;
    begun.length = 0;
    await model.fit(x, y, { epochs: 2, verbose: 0, callbacks: [track] });
    expect(begun).toEqual([0, 1]);
  });

  it('stepsPerEpoch limits the batches of each epoch', async () => {
    const x = kiln.tensor(Array.from({ length: 8 }, (_, i) => [i, 0, 0]));
    const model = new BatchSpy([kiln.Input({ shape: [3] }), new Dense(1)]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const ends: number[] = [];
    await model.fit(x, kiln.zeros([8, 1]), {
      epochs: 3, batchSize: 2, stepsPerEpoch: 1, shuffle: false, verbose: 0,
      callbacks: [new LambdaCallback({ onTrainBatchEnd: (b) => void ends.push(b) })],
    });
    expect(ends).toEqual([0, 0, 0]);
    expect(model.batches).toHaveLength(3);
  });

  it('with arrays, stepsPerEpoch continues through the data across epochs (Keras 3 EpochIterator)', async () => {
    const x = kiln.tensor(Array.from({ length: 8 }, (_, i) => [i, 0, 0]));
    const model = new BatchSpy([kiln.Input({ shape: [3] }), new Dense(1)]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await model.fit(x, kiln.zeros([8, 1]), { epochs: 2, batchSize: 2, stepsPerEpoch: 2, shuffle: false, verbose: 0 });
    expect(model.batches).toEqual([[0, 1], [2, 3], [4, 5], [6, 7]]);
  });

  it('sampleWeight scales each sample of the loss: sum(w·l) / n on one batch', async () => {
    const x = kiln.tensor([[1, 0], [0, 1], [1, 1]]);
    const y = kiln.tensor([[0], [0], [0]]);
    const sw = kiln.tensor([1, 2, 0.5]);
    // linear() predicts x·[1, -2] + 0.5: [1.5, -1.5, -0.5]
    const perSample = [1.5 ** 2, 1.5 ** 2, 0.5 ** 2];
    const want = (perSample[0] * 1 + perSample[1] * 2 + perSample[2] * 0.5) / 3;
    const model = linear();
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse', metrics: ['mse'] });
    const logs = await model.evaluate(x, y, { sampleWeight: sw });
    expect(logs.loss).toBeCloseTo(want, 5);
    // metrics are not weighted unless given as weightedMetrics
    expect(logs.mse).toBeCloseTo((perSample[0] + perSample[1] + perSample[2]) / 3, 5);
    const history = await model.fit(x, y, { sampleWeight: sw, epochs: 1, batchSize: 3, verbose: 0 });
    expect(history.history.loss[0]).toBeCloseTo(want, 5);
    expect((await model.trainOnBatch(x, y, { sampleWeight: sw })).loss).toBeCloseTo(want, 5);

    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse', weightedMetrics: ['mse'] });
    expect((await model.evaluate(x, y, { sampleWeight: sw })).mse).toBeCloseTo(
      (perSample[0] * 1 + perSample[1] * 2 + perSample[2] * 0.5) / 3.5, 5,
    );
  });

  it('classWeight weights each sample by its class, for sparse and one-hot labels', async () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(2)]);
    model.setWeights([[[1, 0], [0, 1]], [0, 0]]);
    const x = kiln.tensor([[2, 0], [0, 1], [1, 1], [0, 3]]);
    const labels = [0, 0, 1, 1];
    // logits are x itself; per-sample crossentropy = logsumexp(x) - x[label]
    const perSample = [[2, 0], [0, 1], [1, 1], [0, 3]].map((r, i) => Math.log(Math.exp(r[0]) + Math.exp(r[1])) - r[labels[i]]);
    const classWeight = { 0: 1, 1: 4 };
    const want = perSample.reduce((s, l, i) => s + l * classWeight[labels[i] as 0 | 1], 0) / 4;
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: new kiln.losses.SparseCategoricalCrossentropy({ fromLogits: true }) });
    const sparse = kiln.tensor(labels, [4], 'int32');
    const history = await model.fit(x, sparse, { classWeight, epochs: 1, batchSize: 4, verbose: 0 });
    expect(history.history.loss[0]).toBeCloseTo(want, 5);
    expect((await model.trainOnBatch(x, sparse, { classWeight })).loss).toBeCloseTo(want, 5);
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: new kiln.losses.CategoricalCrossentropy({ fromLogits: true }) });
    const oneHot = kiln.tensor(labels.map((l) => (l === 0 ? [1, 0] : [0, 1])));
    const h2 = await model.fit(x, oneHot, { classWeight, epochs: 1, batchSize: 4, verbose: 0 });
    expect(h2.history.loss[0]).toBeCloseTo(want, 5);
  });

  it('trains from an async iterable of [x, y] batches, iterated afresh each epoch', async () => {
    const { x, y } = regressionData(18, 9);
    const batches = [[0, 4], [4, 8], [8, 9]];
    const dataset = {
      async *[Symbol.asyncIterator]() {
        for (const [s, e] of batches) yield [rowsOf(x, s, e), rowsOf(y, s, e)] as [kiln.Tensor, kiln.Tensor];
      },
    };
    const fromIterable = mlp(19);
    const fromArrays = mlp(19);
    for (const m of [fromIterable, fromArrays]) m.compile({ optimizer: new SGD({ learningRate: 0.05 }), loss: 'mse' });
    const steps: number[] = [];
    const h1 = await fromIterable.fit(dataset, undefined, {
      epochs: 2, verbose: 0, callbacks: [new LambdaCallback({ onTrainBatchEnd: (b) => void steps.push(b) })],
    });
    const h2 = await fromArrays.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    expect(steps).toEqual([0, 1, 2, 0, 1, 2]);
    expectClose(h1.history.loss, h2.history.loss);
    expectWeightsClose(await weightValues(fromIterable), await weightValues(fromArrays));
    expect((await fromIterable.evaluate(dataset)).loss).toBeCloseTo((await fromArrays.evaluate(x, y, { batchSize: 4 })).loss, 5);
  });

  it('with stepsPerEpoch, a one-shot async generator runs on across epochs', async () => {
    const { x, y } = regressionData(20, 8);
    async function* generator() {
      for (let s = 0; s < 8; s += 2) yield [rowsOf(x, s, s + 2), rowsOf(y, s, s + 2)] as [kiln.Tensor, kiln.Tensor];
    }
    const model = mlp(21);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const steps: string[] = [];
    let epoch = -1;
    const history = await model.fit(generator(), undefined, {
      epochs: 2, stepsPerEpoch: 2, verbose: 0,
      callbacks: [new LambdaCallback({ onEpochBegin: (e) => void (epoch = e), onTrainBatchEnd: (b) => void steps.push(`${epoch}:${b}`) })],
    });
    expect(steps).toEqual(['0:0', '0:1', '1:0', '1:1']);
    expect(history.history.loss).toHaveLength(2);
  });
});

describe('verbosity', () => {
  function captureStdout(): string[] {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write);
    return written;
  }

  it('verbose 0 prints nothing, in fit, evaluate and predict', async () => {
    const { x, y } = regressionData(22, 8);
    const model = mlp(23);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const log = vi.spyOn(console, 'log');
    const written = captureStdout();
    await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, validationData: [x, y] });
    await model.evaluate(x, y, { verbose: 0 });
    await model.predict(x, { verbose: 0 });
    expect(written).toEqual([]);
    expect(log).not.toHaveBeenCalled();
  });

  it('verbose 2 prints one line per epoch with the logs', async () => {
    const { x, y } = regressionData(24, 8);
    const model = mlp(25);
    model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
    const written = captureStdout();
    await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 2, validationData: [x, y] });
    const lines = written.join('').split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(3);
    lines.forEach((line, i) => {
      expect(line).toMatch(new RegExp(`^Epoch ${i + 1}/3 - `));
      expect(line).toMatch(/loss: \d+\.\d{4}/);
      expect(line).toContain('val_mae: ');
    });
  });
});

describe('callbacks in fit', () => {
  it('LambdaCallback hooks run in Keras order', async () => {
    const { x, y } = regressionData(26, 4);
    const model = mlp(27);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const calls: string[] = [];
    const hook = (name: string) => (i?: unknown) => void calls.push(typeof i === 'number' ? `${name}:${i}` : name);
    await model.fit(x, y, {
      epochs: 2, batchSize: 2, verbose: 0, callbacks: [new LambdaCallback({
        onTrainBegin: hook('trainBegin'), onTrainEnd: hook('trainEnd'), onEpochBegin: hook('epochBegin'), onEpochEnd: hook('epochEnd'),
        onTrainBatchBegin: hook('batchBegin'), onTrainBatchEnd: hook('batchEnd'),
      })],
    });
    expect(calls).toEqual([
      'trainBegin',
      'epochBegin:0', 'batchBegin:0', 'batchEnd:0', 'batchBegin:1', 'batchEnd:1', 'epochEnd:0',
      'epochBegin:1', 'batchBegin:0', 'batchEnd:0', 'batchBegin:1', 'batchEnd:1', 'epochEnd:1',
      'trainEnd',
    ]);
  });

  it('the validation run inside fit calls the test hooks of the same callbacks, before onEpochEnd', async () => {
    const { x, y } = regressionData(28, 4);
    const model = mlp(29);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const calls: string[] = [];
    const hook = (name: string) => (i?: unknown) => void calls.push(typeof i === 'number' ? `${name}:${i}` : name);
    await model.fit(x, y, {
      epochs: 1, batchSize: 4, verbose: 0, validationData: [x, y], callbacks: [new LambdaCallback({
        onEpochEnd: hook('epochEnd'), onTrainBatchEnd: hook('batchEnd'),
        onTestBegin: hook('testBegin'), onTestBatchEnd: hook('testBatchEnd'), onTestEnd: hook('testEnd'),
      })],
    });
    expect(calls).toEqual(['batchEnd:0', 'testBegin', 'testBatchEnd:0', 'testEnd', 'epochEnd:0']);
  });

  it('model.stopTraining = true from a callback stops after the current batch', async () => {
    const { x, y } = regressionData(30, 12);
    const model = mlp(31);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const batches: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 5, batchSize: 2, verbose: 0, callbacks: [new LambdaCallback({
        onTrainBatchEnd: (b) => {
          batches.push(b);
          if (b === 1) model.stopTraining = true;
        },
      })],
    });
    expect(batches).toEqual([0, 1]);
    expect(history.epoch).toEqual([0]);
  });

  it('EarlyStopping stops once the loss stops improving and restores the best weights', async () => {
    // full-batch gradient descent with too large a step: |w - w*| grows by 1.5 each epoch
    const model = new kiln.Sequential([kiln.Input({ shape: [1] }), new Dense(1, { useBias: false })]);
    model.setWeights([[[0.5]]]);
    model.compile({ optimizer: new SGD({ learningRate: 0.5 }), loss: 'mse' });
    const x = kiln.tensor([[1], [2]]);
    const y = kiln.tensor([[1], [2]]);
    const snapshots: number[][][] = [];
    const stop = new EarlyStopping({ monitor: 'loss', patience: 2, restoreBestWeights: true });
    const history = await model.fit(x, y, {
      epochs: 10, batchSize: 2, verbose: 0,
      callbacks: [new LambdaCallback({ onEpochEnd: async () => void snapshots.push(await weightValues(model)) }), stop],
    });
    const losses = history.history.loss;
    expect(losses).toHaveLength(3);
    expect(losses[1]).toBeGreaterThan(losses[0]);
    expect(losses[2]).toBeGreaterThan(losses[1]);
    expect(stop.stoppedEpoch).toBe(2);
    expect(stop.bestEpoch).toBe(0);
    expect(await weightValues(model)).toEqual(snapshots[0]);
    expect(await weightValues(model)).not.toEqual(snapshots[2]);
  });

  it('ModelCheckpoint writes a loadable file per epoch, named from {epoch} and the logs', async () => {
    const ckptDir = join(dir, 'ckpt');
    const { x, y } = regressionData(32, 8);
    const model = mlp(33);
    model.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'mse' });
    const history = await model.fit(x, y, {
      epochs: 3, batchSize: 4, verbose: 0,
      callbacks: [new ModelCheckpoint(join(ckptDir, 'model-{epoch:02d}-{loss:.3f}.kiln'), { monitor: 'loss' })],
    });
    const names = (await readdir(ckptDir)).sort();
    expect(names).toEqual(history.history.loss.map((l, i) => `model-0${i + 1}-${l.toFixed(3)}.kiln`));
    const last = await kiln.loadModel(join(ckptDir, names[2]));
    expectClose(await values((await last.predict(x)) as kiln.Tensor), await values((await model.predict(x)) as kiln.Tensor));
  });

  it('ModelCheckpoint with saveBestOnly and saveWeightsOnly keeps only improvements', async () => {
    const path = join(dir, 'best.weights.kiln');
    const model = new kiln.Sequential([kiln.Input({ shape: [1] }), new Dense(1, { useBias: false })]);
    model.setWeights([[[0.5]]]);
    model.compile({ optimizer: new SGD({ learningRate: 0.5 }), loss: 'mse' });
    const ckpt = new ModelCheckpoint(path, { monitor: 'loss', saveBestOnly: true, saveWeightsOnly: true });
    const first: number[][] = [];
    await model.fit(kiln.tensor([[1], [2]]), kiln.tensor([[1], [2]]), {
      epochs: 3, batchSize: 2, verbose: 0,
      callbacks: [ckpt, new LambdaCallback({ onEpochEnd: async (e) => void (e === 0 && first.push(...(await weightValues(model)))) })],
    });
    // the loss grows each epoch: only epoch 1's weights are saved
    const copy = new kiln.Sequential([kiln.Input({ shape: [1] }), new Dense(1, { useBias: false })]);
    await copy.loadWeights(path);
    expect(await weightValues(copy)).toEqual(first);
  });

  it('ReduceLROnPlateau lowers the optimizer learning rate when the loss plateaus', async () => {
    const { x, y } = regressionData(34, 8);
    const model = mlp(35);
    const optimizer = new SGD({ learningRate: 0.01 });
    model.compile({ optimizer, loss: 'mse' });
    const reduce = new ReduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 1, minDelta: 100 });
    const history = await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, callbacks: [reduce] });
    expect(history.history.learning_rate).toEqual([0.01, 0.01, 0.005]);
    expect(optimizer.learningRate).toBeCloseTo(0.0025, 10);
    expect(model.optimizer!.learningRate).toBe(optimizer.learningRate);
  });

  it('TerminateOnNaN stops at the first NaN loss and says at which batch', async () => {
    const data = Array.from({ length: 10 }, (_, i) => [i / 10, 1, -1]);
    data[5][1] = NaN;
    const x = kiln.tensor(data);
    const y = kiln.zeros([10, 1]);
    const model = mlp(36);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const nan = new TerminateOnNaN();
    const batches: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 3, batchSize: 2, shuffle: false, verbose: 0,
      callbacks: [nan, new LambdaCallback({ onTrainBatchEnd: (b) => void batches.push(b) })],
    });
    expect(batches).toEqual([0, 1, 2]);
    expect(nan.stoppedAtEpoch).toBe(0);
    expect(nan.stoppedAtBatch).toBe(2);
    expect(nan.message).toBe('Batch 2: Invalid loss, terminating training');
    expect(log).toHaveBeenCalledWith('Batch 2: Invalid loss, terminating training');
    expect(history.epoch).toEqual([0]);
    expect(Number.isNaN(history.history.loss[0])).toBe(true);
  });

  it('TerminateOnNaN stops a diverging fit (huge learning rate), and can throw instead', async () => {
    const { x, y } = regressionData(37, 16);
    const model = mlp(38);
    model.compile({ optimizer: new SGD({ learningRate: 1e12 }), loss: 'mse' });
    vi.spyOn(console, 'log').mockImplementation(() => {});
    await expect(model.fit(x, y, { epochs: 50, batchSize: 2, verbose: 0, callbacks: [new TerminateOnNaN({ raiseError: true })] }))
      .rejects.toThrow(/NaN or Inf loss encountered at batch \d+/);
  });

  describe('BackupAndRestore', () => {
    async function interruptedThenResumed(makeOptimizer: () => kiln.optimizers.Optimizer, backupDir: string) {
      const { x, y } = regressionData(40, 12);
      const make = () => {
        const m = mlp(41);
        m.compile({ optimizer: makeOptimizer(), loss: 'mse' });
        return m;
      };
      const options = { epochs: 4, batchSize: 4, shuffle: false, verbose: 0 as const };
      const reference = make();
      const full = await reference.fit(x, y, options);

      const crashing = make();
      const crash = new LambdaCallback({
        onEpochEnd: (e) => {
          if (e === 1) throw new Error('simulated crash at epoch 2');
        },
      });
      await expect(crashing.fit(x, y, { ...options, callbacks: [new BackupAndRestore(backupDir), crash] })).rejects.toThrow(/simulated crash/);
      expect(existsSync(join(backupDir, 'training_metadata.json'))).toBe(true);

      const resumed = make();
      const epochs: number[] = [];
      const rest = await resumed.fit(x, y, {
        ...options, callbacks: [new BackupAndRestore(backupDir), new LambdaCallback({ onEpochBegin: (e) => void epochs.push(e) })],
      });
      expect(epochs).toEqual([2, 3]);
      expect(existsSync(backupDir)).toBe(false);
      return { full, rest, reference, resumed };
    }

    it('resumes an interrupted fit at the next epoch with the backed-up weights (SGD)', async () => {
      const { full, rest, reference, resumed } = await interruptedThenResumed(() => new SGD({ learningRate: 0.05 }), join(dir, 'backup-sgd'));
      expectClose(rest.history.loss, full.history.loss.slice(2));
      expectWeightsClose(await weightValues(resumed), await weightValues(reference));
    });

    it('restores the optimizer state too, so an Adam run resumes exactly', async () => {
      const { full, rest, reference, resumed } = await interruptedThenResumed(() => new Adam({ learningRate: 0.01 }), join(dir, 'backup-adam'));
      expectClose(rest.history.loss, full.history.loss.slice(2));
      expectWeightsClose(await weightValues(resumed), await weightValues(reference));
    });

    it('restores momentum, so an SGD-with-momentum run resumes exactly', async () => {
      const { full, rest, reference, resumed } = await interruptedThenResumed(
        () => new SGD({ learningRate: 0.05, momentum: 0.9 }), join(dir, 'backup-momentum'),
      );
      expectClose(rest.history.loss, full.history.loss.slice(2));
      expectWeightsClose(await weightValues(resumed), await weightValues(reference));
    });
  });
});
