/**
 * fit, evaluate and predict give the event loop a turn once per epoch and after each batch past
 * 100 ms of work: a timer waiting meanwhile runs during the loop, and the results are those of a
 * loop written here. The only timing assumed is that busy-waiting 60 ms takes 60 ms.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as kiln from '../../index.js';

const { Dense } = kiln.layers;
const { SGD } = kiln.optimizers;
const { LambdaCallback } = kiln.callbacks;

/** Counts turns of the event loop: an immediate that queues itself again until stopped. */
function turnCounter(): { count: () => number; stop: () => void } {
  let ticks = 0;
  let running = true;
  const tick = (): void => {
    ticks++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return { count: () => ticks, stop: () => void (running = false) };
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const KERNEL = [[0.3], [-0.2]];
const BIAS = [0.1];
const X = [[1, 2], [-1, 0.5], [0, 1], [2, -1], [0.5, 0.5], [-2, 1], [1, 1], [3, 0], [-1, -1], [0, -2], [1, -3], [2, 2]];
const Y = X.map(([a, b]) => [2 * a - b + 0.5]);

/** Plain minibatch SGD on mse for a linear 2 → 1 model, batches in order: the epoch losses (mean over the epoch's samples, before each step). */
function sgdLosses(epochs: number, batch: number, lr: number): number[] {
  let [w0, w1, b] = [KERNEL[0][0], KERNEL[1][0], BIAS[0]];
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let sum = 0;
    for (let s = 0; s < X.length; s += batch) {
      const rows = X.slice(s, s + batch);
      const errors = rows.map(([a, c], i) => w0 * a + w1 * c + b - Y[s + i][0]);
      sum += errors.reduce((acc, d) => acc + d * d, 0);
      const g = errors.map((d) => (2 * d) / rows.length);
      w0 -= lr * g.reduce((acc, d, i) => acc + d * rows[i][0], 0);
      w1 -= lr * g.reduce((acc, d, i) => acc + d * rows[i][1], 0);
      b -= lr * g.reduce((acc, d) => acc + d, 0);
    }
    losses.push(sum / X.length);
  }
  return losses;
}

function linear(): kiln.Sequential {
  const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(1)]);
  model.setWeights([KERNEL, BIAS]);
  model.compile({ optimizer: new SGD({ learningRate: 0.05 }), loss: 'mse' });
  return model;
}

describe('fit, evaluate and predict let the event loop run', () => {
  let backend: string;
  beforeAll(() => {
    backend = kiln.getBackend();
    kiln.setBackend('reference');
  });
  afterAll(() => kiln.setBackend(backend));

  it('fit: a turn after a batch past 100 ms within an epoch, and one per epoch; the losses of plain SGD', async () => {
    const model = linear();
    const seenAtBatchEnd: number[] = [];
    const seenAtEpochBegin: number[] = [];
    const turns = turnCounter();
    try {
      // three batches of 60 ms each per epoch: the turn after the second comes before the third ends
      const slow = new LambdaCallback({
        onEpochBegin: () => void seenAtEpochBegin.push(turns.count()),
        onTrainBatchEnd: () => {
          busy(60);
          seenAtBatchEnd.push(turns.count());
        },
      });
      const history = await model.fit(kiln.tensor(X), kiln.tensor(Y), { epochs: 2, batchSize: 4, shuffle: false, verbose: 0, callbacks: [slow] });
      history.history.loss.forEach((l, i) => expect(l, `epoch ${i}`).toBeCloseTo(sgdLosses(2, 4, 0.05)[i], 5));
    } finally {
      turns.stop();
    }
    expect(seenAtBatchEnd).toHaveLength(6);
    expect(seenAtBatchEnd[2]).toBeGreaterThan(seenAtBatchEnd[0]);
    expect(seenAtEpochBegin[1]).toBeGreaterThan(seenAtEpochBegin[0]);
  });

  it('fit: a fast fit of many epochs turns once per epoch, and loses nothing of plain SGD', async () => {
    const model = linear();
    const seen: number[] = [];
    const turns = turnCounter();
    try {
      const history = await model.fit(kiln.tensor(X), kiln.tensor(Y), {
        epochs: 5, batchSize: 12, shuffle: false, verbose: 0, callbacks: [new LambdaCallback({ onEpochBegin: () => void seen.push(turns.count()) })],
      });
      history.history.loss.forEach((l, i) => expect(l, `epoch ${i}`).toBeCloseTo(sgdLosses(5, 12, 0.05)[i], 5));
    } finally {
      turns.stop();
    }
    for (let e = 1; e < 5; e++) expect(seen[e], `epoch ${e}`).toBeGreaterThan(seen[e - 1]);
  });

  it('fit completes under fake timers installed after kiln loaded', async () => {
    const model = linear();
    vi.useFakeTimers();
    try {
      const history = await model.fit(kiln.tensor(X), kiln.tensor(Y), { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
      history.history.loss.forEach((l, i) => expect(l, `epoch ${i}`).toBeCloseTo(sgdLosses(3, 4, 0.05)[i], 5));
    } finally {
      vi.useRealTimers();
    }
  });

  it('evaluate and predict: a turn after a batch past 100 ms; the loss and outputs of the linear map', async () => {
    const model = linear();
    const seenEval: number[] = [];
    const seenPredict: number[] = [];
    const turns = turnCounter();
    let loss: number;
    let predicted: number[];
    try {
      const evalSlow = new LambdaCallback({ onTestBatchEnd: () => { busy(60); seenEval.push(turns.count()); } });
      loss = (await model.evaluate(kiln.tensor(X), kiln.tensor(Y), { batchSize: 4, verbose: 0, callbacks: [evalSlow] })).loss;
      const predictSlow = new LambdaCallback({ onPredictBatchEnd: () => { busy(60); seenPredict.push(turns.count()); } });
      predicted = Array.from(await ((await model.predict(kiln.tensor(X), { batchSize: 4, callbacks: [predictSlow] })) as kiln.Tensor).data());
    } finally {
      turns.stop();
    }
    const want = X.map(([a, b]) => KERNEL[0][0] * a + KERNEL[1][0] * b + BIAS[0]);
    predicted.forEach((p, i) => expect(p, `sample ${i}`).toBeCloseTo(want[i], 6));
    expect(loss).toBeCloseTo(want.reduce((s, p, i) => s + (p - Y[i][0]) ** 2, 0) / X.length, 5);
    expect(seenEval[2]).toBeGreaterThan(seenEval[0]);
    expect(seenPredict[2]).toBeGreaterThan(seenPredict[0]);
  });
});
