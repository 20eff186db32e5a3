import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as kiln from '../../index.js';

const { Dataset } = kiln.data;
const { Dense } = kiln.layers;
const { SGD } = kiln.optimizers;

const X = [[1, 2], [0, -1], [3, 1], [-2, 0.5], [1.5, -1], [0, 0]];
const Y = [[1], [2], [-1], [0.5], [3], [1]];
const W0 = [1, -2];
const B0 = 0.5;

/** A linear model 2 → 1 with kernel W0 and bias B0, compiled with SGD and mse. */
function linear(learningRate: number): kiln.Sequential {
  const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(1)]);
  model.setWeights([W0.map((v) => [v]), [B0]]);
  model.compile({ optimizer: new SGD({ learningRate }), loss: 'mse' });
  return model;
}

/**
 * Minibatch SGD on mse for y ≈ x·w + b, in float64, batches in order: the loss of each batch
 * before its update, the mean over the epoch's batches (all the same size) per epoch.
 */
function sgdLosses(batchSize: number, epochs: number, lr: number): number[] {
  const w = [...W0];
  let b = B0;
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let sum = 0;
    let batches = 0;
    for (let s = 0; s < X.length; s += batchSize) {
      const rows = X.slice(s, s + batchSize).map((x, i) => ({ x, y: Y[s + i][0] }));
      const err = rows.map(({ x, y }) => x[0] * w[0] + x[1] * w[1] + b - y);
      sum += err.reduce((a, d) => a + d * d, 0) / rows.length;
      batches++;
      const gw = [0, 1].map((j) => (2 / rows.length) * rows.reduce((a, r, i) => a + err[i] * r.x[j], 0));
      const gb = (2 / rows.length) * err.reduce((a, d) => a + d, 0);
      w[0] -= lr * gw[0];
      w[1] -= lr * gw[1];
      b -= lr * gb;
    }
    losses.push(sum / batches);
  }
  return losses;
}

/** mse of the starting model on rows [start, end), by a direct loop. */
function mse(start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += (X[i][0] * W0[0] + X[i][1] * W0[1] + B0 - Y[i][0]) ** 2;
  return s / (end - start);
}

const data = () => [kiln.tensor(X), kiln.tensor(Y)] as [kiln.Tensor, kiln.Tensor];

describe('fit, evaluate and predict on a Dataset', () => {
  it('trains on the batches in order: the losses of minibatch SGD, and of the same batches as arrays', async () => {
    const [x, y] = data();
    const fromDataset = linear(0.05);
    const ds = Dataset.fromTensorSlices([x, y]).shuffle(1).batch(2).prefetch(2);
    const h = await fromDataset.fit(ds, { epochs: 2, verbose: 0 });
    const want = sgdLosses(2, 2, 0.05);
    h.history.loss.forEach((l, e) => expect(l, `epoch ${e}`).toBeCloseTo(want[e], 5));
    const fromArrays = linear(0.05);
    const h2 = await fromArrays.fit(x, y, { epochs: 2, batchSize: 2, shuffle: false, verbose: 0 });
    h2.history.loss.forEach((l, e) => expect(l).toBeCloseTo(h.history.loss[e], 6));
    kiln.dispose([x, y]);
  });

  it('frees every tensor the pipeline made: shuffle, batch and prefetch over two epochs', async () => {
    const [x, y] = data();
    const model = linear(0.01);
    const ds = Dataset.fromTensorSlices([x, y]).shuffle(4, { seed: 2 }).batch(4).prefetch(2);
    // the model's weights and what compile made exist already: a fit over the pipeline adds nothing
    const start = kiln.memory().numTensors;
    await model.fit(ds, { epochs: 1, verbose: 0 });
    const before = kiln.memory().numTensors;
    expect(before).toBe(start);
    const h = await model.fit(ds, { epochs: 2, verbose: 0 });
    expect(h.history.loss).toHaveLength(2);
    expect(kiln.memory().numTensors).toBe(before);
    await model.evaluate(ds);
    kiln.dispose(await model.predict(ds));
    expect(kiln.memory().numTensors).toBe(before);
    kiln.dispose([x, y]);
  });

  it('validationData as a Dataset, with validationSteps', async () => {
    const [x, y] = data();
    const model = linear(0);
    const train = Dataset.fromTensorSlices([x, y]).batch(3);
    const h = await model.fit(train, { epochs: 2, verbose: 0, validationData: train, validationSteps: 1 });
    // learning rate 0: each validation sees the starting model on the first batch, rows 0–2
    expect(h.history.val_loss).toHaveLength(2);
    for (const v of h.history.val_loss) expect(v).toBeCloseTo(mse(0, 3), 5);
    const all = await model.fit(train, { epochs: 1, verbose: 0, validationData: train });
    expect(all.history.val_loss[0]).toBeCloseTo((mse(0, 3) + mse(3, 6)) / 2, 5);
    await expect(model.fit(train, { validationData: train, validationSteps: 0 })).rejects.toThrow(/validationSteps must be a positive integer, got 0/);
    kiln.dispose([x, y]);
  });

  it('a dataset takes its options second, as keras fit(dataset, epochs=2); targets beside it are an error', async () => {
    const model = linear(0.1);
    const ds = Dataset.fromTensorSlices([kiln.tensor([[1, 0], [2, 1]]), kiln.tensor([[2], [4]])]).batch(2);
    expect((await model.fit(ds, { epochs: 3, verbose: 0 })).history.loss).toHaveLength(3);
    const y = kiln.tensor([[2], [4]]);
    await expect(model.fit(ds, y, { epochs: 1 })).rejects.toThrow('fit: a dataset or async iterable carries its own targets: pass the options second, as fit(dataset, { ... }), and no y');
    await expect(model.evaluate(ds, { steps: 1 }, { steps: 1 } as never)).rejects.toThrow(/evaluate: a dataset or async iterable carries its own targets/);
    y.dispose();
    model.dispose();
  });

  it('evaluate(dataset) and its steps', async () => {
    const [x, y] = data();
    const model = linear(0);
    const ds = Dataset.fromTensorSlices([x, y]).batch(2);
    expect((await model.evaluate(ds)).loss).toBeCloseTo(mse(0, 6), 5);
    expect((await model.evaluate(ds.repeat(), { steps: 2 })).loss).toBeCloseTo(mse(0, 4), 5);
    kiln.dispose([x, y]);
  });

  it('predict(dataset) takes x alone or ignores the targets of [x, y]', async () => {
    const [x, y] = data();
    const model = linear(0);
    const want = X.map((r) => r[0] * W0[0] + r[1] * W0[1] + B0);
    for (const ds of [Dataset.fromTensorSlices(x).batch(4), Dataset.fromTensorSlices([x, y]).batch(4)]) {
      const p = (await model.predict(ds)) as kiln.Tensor;
      expect(p.shape).toEqual([6, 1]);
      Array.from(await p.data()).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
      p.dispose();
    }
    const two = (await model.predict(Dataset.fromTensorSlices(x).batch(2).repeat(), { steps: 2 })) as kiln.Tensor;
    expect(two.shape).toEqual([4, 1]);
    two.dispose();
    kiln.dispose([x, y]);
  });

  it('an endless dataset with stepsPerEpoch: one iteration across epochs, closed when fit ends', async () => {
    const [x, y] = data();
    const model = linear(0);
    let passes = 0;
    const ds = Dataset.fromGenerator(function* () {
      passes++;
      yield [kiln.tensor(X.slice(0, 3)), kiln.tensor(Y.slice(0, 3))];
      yield [kiln.tensor(X.slice(3)), kiln.tensor(Y.slice(3))];
    }).repeat().prefetch(2);
    await model.fit(ds, { epochs: 1, stepsPerEpoch: 1, verbose: 0 });
    const before = kiln.memory().numTensors;
    const h = await model.fit(ds, { epochs: 3, stepsPerEpoch: 1, verbose: 0 });
    // steps go on where the last epoch stopped: batches 0, 1, 0
    expect(h.history.loss[0]).toBeCloseTo(mse(0, 3), 5);
    expect(h.history.loss[1]).toBeCloseTo(mse(3, 6), 5);
    expect(h.history.loss[2]).toBeCloseTo(mse(0, 3), 5);
    expect(kiln.memory().numTensors).toBe(before);
    expect(passes).toBeGreaterThanOrEqual(3);
    kiln.dispose([x, y]);
  });

  it('a generator that throws mid-epoch: fit fails naming the stage and the element, and leaks nothing', async () => {
    const model = linear(0.01);
    const ds = Dataset.fromGenerator(function* () {
      for (let i = 0; i < 5; i++) {
        if (i === 3) throw new Error('corrupt record');
        yield [kiln.tensor([X[i]]), kiln.tensor([Y[i]])];
      }
    }).batch(1).prefetch(2);
    const [x, y] = data();
    await model.fit(Dataset.fromTensorSlices([x, y]).batch(6), { verbose: 0 });
    kiln.dispose([x, y]);
    const before = kiln.memory().numTensors;
    await expect(model.fit(ds, { epochs: 2, verbose: 0 })).rejects.toThrow('Dataset.fromGenerator: element 3 failed: corrupt record');
    expect(kiln.memory().numTensors).toBe(before);
  });

  it('a batch whose shapes differ from the others: the layer that refuses it and the batch are named', async () => {
    const model = linear(0.01);
    const ds = Dataset.fromGenerator(function* () {
      yield [kiln.tensor([X[0]]), kiln.tensor([Y[0]])];
      yield [kiln.tensor([[...X[1], 7]]), kiln.tensor([Y[1]])];
    });
    const before = kiln.memory().numTensors;
    await expect(model.fit(ds, { verbose: 0 })).rejects.toThrow(/^Dense 'dense(_\d+)?': expects input last dimension 2, got shape \[1,3\] \(in batch 1 of the epoch, from the dataset\)$/);
    expect(kiln.memory().numTensors).toBe(before);
  });

  it('a generator that fails in epoch 2: fit stops, and the checkpoint of epoch 1 is kept whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-ckpt-'));
    try {
      let pass = 0;
      const ds = Dataset.fromGenerator(function* () {
        pass++;
        for (let i = 0; i < X.length; i++) {
          if (pass === 2 && i === 4) throw new Error('disk read error');
          yield [kiln.tensor([X[i]]), kiln.tensor([Y[i]])];
        }
      }).batch(2);
      const model = linear(0.01);
      const path = join(dir, 'best.kiln');
      await expect(model.fit(ds, { epochs: 3, verbose: 0, callbacks: [new kiln.callbacks.ModelCheckpoint(path)] }))
        .rejects.toThrow('Dataset.fromGenerator: element 4 failed: disk read error');
      // epoch 1 was minibatch SGD over batches of 2; its weights are the ones saved
      const w = [...W0];
      let b = B0;
      for (let s = 0; s < X.length; s += 2) {
        const err = [s, s + 1].map((i) => X[i][0] * w[0] + X[i][1] * w[1] + b - Y[i][0]);
        const gw = [0, 1].map((j) => err[0] * X[s][j] + err[1] * X[s + 1][j]);
        w[0] -= 0.01 * gw[0];
        w[1] -= 0.01 * gw[1];
        b -= 0.01 * (err[0] + err[1]);
      }
      expect(readdirSync(dir)).toEqual(['best.kiln']);
      const saved = await kiln.loadModel(path);
      const [kernel, bias] = saved.getWeights();
      const got = [...(await kernel.data()), ...(await bias.data())];
      [...w, b].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
      kiln.dispose([kernel, bias]);
      saved.dispose();
      model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the README's pipeline: map, shuffle, batch, prefetch to fit; cache for validation, evaluate and predict", async () => {
    kiln.setSeed(5);
    const [xTrain, yTrain] = [kiln.ops.multiply(kiln.random.uniform([40, 2]), 255), kiln.random.uniform([40, 1])];
    const [xVal, yVal] = [kiln.ops.multiply(kiln.random.uniform([10, 2]), 255), kiln.random.uniform([10, 1])];
    const model = linear(0.01);
    const train = Dataset.fromTensorSlices([xTrain, yTrain])
      .map(([x, y]) => [kiln.ops.divide(x, 255), y], { numParallelCalls: 4 })
      .shuffle(1024, { seed: 42 })
      .batch(32)
      .prefetch(2);
    const val = Dataset.fromTensorSlices([xVal, yVal]).batch(64).cache();
    const h = await model.fit(train, { epochs: 2, validationData: val, verbose: 0 });
    expect(h.history.val_loss).toHaveLength(2);
    expect((await model.evaluate(val)).loss).toBeCloseTo(h.history.val_loss[1], 5);
    const yPred = (await model.predict(val)) as kiln.Tensor;
    expect(yPred.shape).toEqual([10, 1]);
    kiln.dispose([xTrain, yTrain, xVal, yVal, yPred]);
  });

  it('an infinite dataset without a step count is an error naming the option; a known cardinality sizes the progress', async () => {
    const [x, y] = data();
    const model = linear(0);
    const endless = Dataset.fromTensorSlices([x, y]).batch(2).repeat();
    await expect(model.fit(endless, { verbose: 0 })).rejects.toThrow('fit: the dataset is infinite (cardinality -1): pass stepsPerEpoch');
    const finite = Dataset.fromTensorSlices([x, y]).batch(2);
    await expect(model.fit(finite, { verbose: 0, validationData: endless })).rejects.toThrow(/pass validationSteps/);
    await expect(model.evaluate(endless)).rejects.toThrow('evaluate: the dataset is infinite (cardinality -1): pass steps');
    await expect(model.predict(endless)).rejects.toThrow('predict: the dataset is infinite (cardinality -1): pass steps');
    let steps: unknown;
    class SeeSteps extends kiln.callbacks.Callback {
      override onTrainBegin(): void {
        steps = this.params.steps;
      }
    }
    await model.fit(finite, { verbose: 0, callbacks: [new SeeSteps()] });
    expect(steps).toBe(3);
    kiln.dispose([x, y]);
  });

  it('a two-input model takes [[x1, x2], y] or [{ a, b }, y] elements; predict takes { a, b } alone', async () => {
    const a = kiln.Input({ shape: [1], name: 'a' });
    const b = kiln.Input({ shape: [1], name: 'b' });
    const joined = new kiln.layers.Concatenate().apply([a, b]) as kiln.SymbolicTensor;
    const out = new Dense(1).apply(joined) as kiln.SymbolicTensor;
    const model = new kiln.Model({ inputs: [a, b], outputs: out });
    model.setWeights([[[2], [-1]], [0.5]]);
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse' });
    const x1 = kiln.tensor([[1], [2], [3], [4]]);
    const x2 = kiln.tensor([[0], [1], [-1], [2]]);
    const y = kiln.tensor([[2], [4], [6], [8]]);
    // prediction 2·x1 - x2 + 0.5: 2.5, 3.5, 7.5, 6.5 against 2, 4, 6, 8
    const want = (0.25 + 0.25 + 2.25 + 2.25) / 4;
    const tuples = Dataset.fromTensorSlices([[x1, x2], y]).batch(3);
    const named = Dataset.fromTensorSlices([{ a: x1, b: x2 }, y]).batch(3);
    // the running mean over batches of 3 and 1 weighs each sample once
    expect((await model.evaluate(tuples)).loss).toBeCloseTo(want, 5);
    expect((await model.evaluate(named)).loss).toBeCloseTo(want, 5);
    const p = (await model.predict(Dataset.fromTensorSlices({ a: x1, b: x2 }).batch(3))) as kiln.Tensor;
    Array.from(await p.data()).forEach((v, i) => expect(v).toBeCloseTo([2.5, 3.5, 7.5, 6.5][i], 5));
    kiln.dispose([x1, x2, y, p]);
  });
});
