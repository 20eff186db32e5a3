/**
 * TimeDistributed: the layer harness (the wrapped layer's weights under Keras's names, shapes
 * symbolic and eager, config round trip, float64 finite differences), values against direct
 * loops over the steps written here on every backend, masks handed to the wrapped layer step by
 * step, shapes known only at run time, save/load, and the inputs Keras refuses.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Bidirectional, Conv2D, Dense, Dropout, Embedding, GRU, Input, LSTM, Layer, TimeDistributed, maskOf, type CallOptions, type LayerConfig } from '../../layers/index.js';
import { saveModel } from '../../saving/save.js';
import { runLayerTest } from './harness.js';
import { expectClose as expectNear, lstmStep, nested, runRef, type Mat } from './recurrent-oracle.js';

const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());
const f64 = (data: ArrayLike<number>): number[] => Array.from(data, Number);

/** The nested layer in float64 too: the harness's float64 copy sets the wrapper's dtype only. */
const nestedFloat64 = (config: LayerConfig): LayerConfig => {
  const layer = config.layer as { className: string; config: LayerConfig };
  return { ...config, layer: { ...layer, config: { ...layer.config, dtype: 'float64' } } };
};

describe('TimeDistributed passes the layer harness on reference', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('of GRU over [batch, time, steps, features]: a layer that infers its shapes without running its loop', () => {
    runLayerTest(TimeDistributed, {
      args: [new GRU(2, { biasInitializer: 'random_normal' })],
      inputShape: [2, 2, 3, 2], expectedOutputShape: [2, 2, 2],
      expectedWeights: [['kernel', [2, 6]], ['recurrent_kernel', [2, 6]], ['bias', [2, 6]]],
      float64Config: nestedFloat64,
    });
  });

  it('of Dense: the weights are the Dense layer\'s, kernel then bias', () => {
    runLayerTest(TimeDistributed, {
      args: [new Dense(5, { activation: 'tanh' })],
      inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 5],
      expectedWeights: [['kernel', [4, 5]], ['bias', [5]]], expectedTrainableWeights: 2,
      float64Config: nestedFloat64,
    });
  });

  it('of Conv2D over [batch, time, height, width, channels]', () => {
    runLayerTest(TimeDistributed, {
      args: [new Conv2D(2, 2, { activation: 'sigmoid' })],
      inputShape: [2, 3, 4, 3, 2], expectedOutputShape: [2, 3, 3, 2, 2],
      expectedWeights: [['kernel', [2, 2, 2, 2]], ['bias', [2]]],
      float64Config: nestedFloat64,
    });
  });
});

/** [B, T, ...] → per step a float64 loop of `step(b, t)`, flattened in row-major order. */
function loopOverSteps(B: number, T: number, step: (b: number, t: number) => number[]): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out.push(...step(b, t));
  return out;
}

function expectClose(got: number[], want: number[], tol: number): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]), `element ${i}: got ${g}, want ${want[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]))));
}

const AVAILABLE = kiln.listBackends().filter((b) => b.available).map((b) => b.name);

describe.each(AVAILABLE)('values against direct loops over the steps on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  afterAll(() => kiln.setBackend('reference'));

  it('TimeDistributed(Dense): y[b, t] = relu(x[b, t] · kernel + bias) for every step', () => {
    const [B, T, F, U] = [3, 5, 4, 6];
    const x = kiln.random.normal([B, T, F], { seed: 1 });
    const dense = new Dense(U, { activation: 'relu', biasInitializer: 'random_normal' });
    const y = new TimeDistributed(dense).apply(x);
    const [xs, w, bias] = [f64(x.dataSync()), f64(dense.kernel!.value.dataSync()), f64(dense.bias!.value.dataSync())];
    const want = loopOverSteps(B, T, (b, t) => Array.from({ length: U }, (_, u) => {
      let s = bias[u];
      for (let f = 0; f < F; f++) s += xs[(b * T + t) * F + f] * w[f * U + u];
      return Math.max(s, 0);
    }));
    expect([...y.shape]).toEqual([B, T, U]);
    expectClose(values(y), want, 1e-5);
  });

  it('TimeDistributed(Conv2D): each step convolved alone, valid 2×2 windows', () => {
    const [B, T, H, W, C, Fo] = [2, 3, 4, 5, 2, 3];
    const x = kiln.random.normal([B, T, H, W, C], { seed: 2 });
    const conv = new Conv2D(Fo, 2, { biasInitializer: 'random_normal' });
    const y = new TimeDistributed(conv).apply(x);
    const [xs, k, bias] = [f64(x.dataSync()), f64(conv.kernel!.value.dataSync()), f64(conv.bias!.value.dataSync())];
    const at = (b: number, t: number, i: number, j: number, c: number): number => xs[(((b * T + t) * H + i) * W + j) * C + c];
    const want = loopOverSteps(B, T, (b, t) => {
      const out: number[] = [];
      for (let i = 0; i < H - 1; i++) for (let j = 0; j < W - 1; j++) for (let f = 0; f < Fo; f++) {
        let s = bias[f];
        for (let di = 0; di < 2; di++) for (let dj = 0; dj < 2; dj++) for (let c = 0; c < C; c++) s += at(b, t, i + di, j + dj, c) * k[((di * 2 + dj) * C + c) * Fo + f];
        out.push(s);
      }
      return out;
    });
    expect([...y.shape]).toEqual([B, T, H - 1, W - 1, Fo]);
    expectClose(values(y), want, 1e-5);
    // and the same as the Conv2D applied to each step's slice on its own
    for (let t = 0; t < T; t++) {
      const step = conv.apply(kiln.ops.squeeze(kiln.ops.slice(x, [0, t, 0, 0, 0], [B, 1, H, W, C]), 1));
      expectClose(values(kiln.ops.squeeze(kiln.ops.slice(y, [0, t, 0, 0, 0], [B, 1, H - 1, W - 1, Fo]), 1)), values(step), 1e-6);
    }
  });

  it('keeps zero-length time and batch axes', () => {
    const td = new TimeDistributed(new Dense(3));
    expect([...td.apply(kiln.zeros([2, 0, 4])).shape]).toEqual([2, 0, 3]);
    expect([...td.apply(kiln.zeros([0, 5, 4])).shape]).toEqual([0, 5, 3]);
  });

  it('passes training to the wrapped layer: Dropout drops only in training', () => {
    const td = new TimeDistributed(new Dropout(0.5, { seed: 3 }));
    const x = kiln.ones([4, 6, 8]);
    expect(values(td.apply(x))).toEqual(values(x));
    const dropped = values(td.apply(x, { training: true }));
    expect(new Set(dropped)).toEqual(new Set([0, 2]));
  });
});

/** Output and gradients of sum(y · r) for the input and the weights of TimeDistributed(Conv2D), on the current backend. */
function outputAndGradients(x: number[], weights: kiln.Tensor[] | null): { y: number[]; grads: number[][]; weights: kiln.Tensor[] } {
  const input = kiln.tensor(Float32Array.from(x), [2, 3, 5, 4, 2]);
  const td = new TimeDistributed(new Conv2D(3, 2, { strides: [2, 1], activation: 'tanh', biasInitializer: 'random_normal' }));
  td.apply(input);
  if (weights) td.setWeights(weights.map((w) => kiln.tensor(w.dataSync() as Float32Array, [...w.shape])));
  const r = kiln.tensor(Float32Array.from({ length: 2 * 3 * 2 * 3 * 3 }, (_, i) => Math.sin(i + 1)), [2, 3, 2, 3, 3]);
  const tape = new kiln.GradientTape();
  const loss = tape.record(() => kiln.ops.sum(kiln.ops.multiply(td.apply(input), r)));
  const grads = tape.gradient(loss, [input, ...td.trainableWeights]);
  return { y: values(td.apply(input)), grads: grads.map((g) => values(g)), weights: td.getWeights().map((w) => kiln.tensor(w.dataSync() as Float32Array, [...w.shape])) };
}

describe.each(AVAILABLE.filter((b) => b !== 'reference'))('outputs and gradients on %s agree with reference', (backend) => {
  afterAll(() => kiln.setBackend('reference'));
  it('TimeDistributed(Conv2D strided, tanh)', async () => {
    await kiln.setBackend('reference');
    const x = values(kiln.random.normal([2, 3, 5, 4, 2], { seed: 6 }));
    const want = outputAndGradients(x, null);
    const weights = want.weights.map((w) => ({ data: Float32Array.from(w.dataSync()), shape: [...w.shape] }));
    await kiln.setBackend(backend);
    const got = outputAndGradients(x, weights.map((w) => kiln.tensor(w.data, w.shape)));
    expectClose(got.y, want.y, 1e-5);
    got.grads.forEach((g, i) => expectClose(g, want.grads[i], 1e-4));
  });
});

/** Multiplies each row by its mask, as Keras's own TimeDistributed mask test does: it reads the mask its call is given. */
class MaskRows extends Layer {
  static readonly className = 'MaskRows';
  seen: number[][] = [];
  call(x: kiln.Tensor, options: CallOptions = {}): kiln.Tensor {
    if (!options.mask) return x;
    this.seen.push([...options.mask.shape]);
    return kiln.ops.multiply(x, kiln.ops.expandDims(kiln.ops.cast(options.mask, x.dtype), -1));
  }
}

describe('masks', () => {
  const x = (): kiln.Tensor => kiln.tensor([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);

  it('hands each step its mask, and passes the input\'s mask on (as Keras 3.15)', () => {
    const inner = new MaskRows();
    const mask = kiln.tensor([[true, false, true], [false, false, true]], [2, 3], 'bool');
    const y = new TimeDistributed(inner).apply(x(), { mask });
    expect(values(y)).toEqual([1, 2, 0, 0, 5, 6, 0, 0, 0, 0, 11, 12]);
    expect(inner.seen).toEqual([[6]]);
    expect(maskOf(y)!.arraySync()).toEqual([[true, false, true], [false, false, true]]);
  });

  it('all true keeps every step, all false drops every one', () => {
    const td = new TimeDistributed(new MaskRows());
    expect(values(td.apply(x(), { mask: kiln.ones([2, 3], 'bool') }))).toEqual(values(x()));
    expect(values(td.apply(x(), { mask: kiln.zeros([2, 3], 'bool') }))).toEqual(new Array(12).fill(0));
  });

  it('of LSTM over [batch, time, steps, features]: each inner sequence runs alone, with its own mask', () => {
    const x = kiln.random.normal([2, 3, 4, 2], { seed: 7 });
    // an Embedding(maskZero) over [batch, time, steps] tokens gives such a mask: lengths differ per (b, t)
    const lengths = [[4, 2, 0], [1, 3, 4]];
    const mask = lengths.map((row) => row.map((n) => [0, 1, 2, 3].map((s) => s < n)));
    const lstm = new LSTM(3, { biasInitializer: 'random_normal' });
    const y = new TimeDistributed(lstm).apply(x, { mask: kiln.tensor(mask, [2, 3, 4], 'bool') });
    expect([...y.shape]).toEqual([2, 3, 3]);
    const [kernel, recurrent, bias] = lstm.getWeights().map(nested) as [Mat, Mat, number[]];
    const xs = nested(x) as number[][][][];
    const zeros = (): Mat => [[0, 0, 0]];
    const want = xs.map((row, b) => row.map((seq, t) => runRef(lstmStep(kernel, recurrent, bias), [seq], [zeros(), zeros()], 3, { mask: [mask[b][t]] }).last[0]));
    expectNear(nested(y), want, 1e-5, 'TimeDistributed(LSTM)');
  });

  it('carries an Embedding(maskZero) mask through TimeDistributed(Dense), eagerly and in a Functional model', () => {
    const tokens = kiln.tensor([[3, 1, 0, 0], [2, 0, 0, 0]], [2, 4], 'int32');
    const emb = new Embedding(5, 3, { maskZero: true });
    const td = new TimeDistributed(new Dense(2));
    const want = [[true, true, false, false], [true, false, false, false]];
    expect(maskOf(td.apply(emb.apply(tokens)))!.arraySync()).toEqual(want);
    const input = Input({ shape: [null], dtype: 'int32' });
    const out = td.apply(emb.apply(input));
    expect(maskOf(out)).not.toBeNull();
    expect([...out.shape]).toEqual([null, null, 2]);
  });

  it('refuses a mask that is not [batch, time, ...] of the input', () => {
    const td = new TimeDistributed(new MaskRows(), { name: 'td' });
    expect(() => td.apply(x(), { mask: kiln.ones([2, 4], 'bool') }))
      .toThrow("TimeDistributed 'td': a mask must be [batch, time, ...] with the input's batch and time: the input is [2,3,2], the mask [2,4]");
    expect(() => td.apply(x(), { mask: kiln.ones([2], 'bool') })).toThrow('the mask [2]');
    // the batch is checked for every layer, before the call (layers/mask.ts)
    expect(() => td.apply(x(), { mask: kiln.ones([3, 3], 'bool') })).toThrow("a mask must have its input's batch size");
  });
});

describe('shapes known only at run time, weights, config, save/load', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-td-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('builds on unknown batch and time and runs at any length', () => {
    const input = Input({ shape: [null, 6, 6, 1] });
    const out = new TimeDistributed(new Conv2D(2, 3)).apply(input);
    expect([...out.shape]).toEqual([null, null, 4, 4, 2]);
    const model = new kiln.Model({ inputs: input, outputs: out });
    for (const T of [1, 4]) expect([...(model.predictOnBatch(kiln.zeros([3, T, 6, 6, 1])) as kiln.Tensor).shape]).toEqual([3, T, 4, 4, 2]);
  });

  it('wraps recurrent layers in a Functional model of unknown batch, time and inner length', () => {
    const input = Input({ shape: [null, null, 2] });
    const lstm = new TimeDistributed(new LSTM(3));
    const bi = new TimeDistributed(new Bidirectional(new GRU(2, { returnSequences: true })));
    const [a, b] = [lstm.apply(input), bi.apply(input)];
    expect([[...a.shape], [...b.shape]]).toEqual([[null, null, 3], [null, null, null, 4]]);
    const model = new kiln.Model({ inputs: input, outputs: [a, b] });
    for (const [T, S] of [[2, 3], [4, 1]]) {
      const x = kiln.random.normal([3, T, S, 2], { seed: T });
      const [ya, yb] = model.predictOnBatch(x) as kiln.Tensor[];
      expect([...ya.shape, ...yb.shape]).toEqual([3, T, 3, 3, T, S, 4]);
      expect(values(ya)).toEqual(values(lstm.apply(x)));
      expect(values(yb)).toEqual(values(bi.apply(x)));
    }
    expect(() => new TimeDistributed(new LSTM(2, { returnState: true }), { name: 'td' }).apply(input))
      .toThrow("TimeDistributed 'td': wraps a layer of one output; LSTM 'lstm");
  });

  it('owns the wrapped layer\'s weights: the same variables, frozen with it', () => {
    const dense = new Dense(3);
    const td = new TimeDistributed(dense);
    td.apply(kiln.zeros([1, 2, 4]));
    expect(td.weights).toEqual(dense.weights);
    expect(td.countParams()).toBe(15);
    td.trainable = false;
    expect([td.trainableWeights.length, dense.trainable, td.nonTrainableWeights.length]).toEqual([0, false, 2]);
  });

  it('saves the wrapped layer inside its config, as Keras', () => {
    const config = new TimeDistributed(new Dense(3, { name: 'd' }), { name: 'td' }).getConfig();
    expect(config).toMatchObject({ name: 'td', trainable: true, dtype: 'float32', layer: { className: 'Dense', config: { name: 'd', units: 3 } } });
    expect(() => TimeDistributed.fromConfig({ ...config, layer: { units: 3 } }))
      .toThrow('TimeDistributed.fromConfig: config.layer must be a saved layer {className, config}, got {"units":3}');
  });

  it('saves and loads a model with TimeDistributed(Dense) and TimeDistributed(Sequential), with the same predictions', async () => {
    const inner = new kiln.Sequential([new Dense(4, { activation: 'relu' }), new Dense(2)]);
    const model = new kiln.Sequential([Input({ shape: [5, 3] }), new TimeDistributed(new Dense(6, { activation: 'tanh' })), new TimeDistributed(inner)]);
    const path = join(dir, 'td.kiln');
    await saveModel(model, path);
    const loaded = await kiln.loadModel(path);
    expect(loaded.layers.map((l) => [l.className, (l as TimeDistributed).layer.className])).toEqual([['TimeDistributed', 'Dense'], ['TimeDistributed', 'Sequential']]);
    const x = kiln.random.normal([2, 5, 3], { seed: 4 });
    expect(values(loaded.predictOnBatch(x))).toEqual(values(model.predictOnBatch(x)));
  });

  it('wraps a Functional model, saved inside its config and loaded back', async () => {
    const inner = Input({ shape: [4] });
    const model = new kiln.Model({ inputs: inner, outputs: new Dense(2, { activation: 'relu' }).apply(new Dense(3).apply(inner)) });
    const outer = new kiln.Sequential([Input({ shape: [5, 4] }), new TimeDistributed(model)]);
    const path = join(dir, 'td-functional.kiln');
    await saveModel(outer, path);
    const loaded = await kiln.loadModel(path);
    expect((loaded.layers[0] as TimeDistributed).layer.className).toBe('Functional');
    const x = kiln.random.normal([2, 5, 4], { seed: 8 });
    expect(values(loaded.predictOnBatch(x))).toEqual(values(outer.predictOnBatch(x)));
  });

  it('trains: fit lowers the loss of a per-step regression', async () => {
    const model = new kiln.Sequential([Input({ shape: [4, 2] }), new TimeDistributed(new Dense(1))]);
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
    const x = kiln.random.normal([16, 4, 2], { seed: 5 });
    const y = kiln.ops.sum(x, -1, true);
    const history = await model.fit(x, y, { epochs: 20, batchSize: 16, verbose: 0 });
    const loss = history.history.loss as number[];
    expect(loss.at(-1)!).toBeLessThan(loss[0] / 10);
  });

  it('does not pile up the wrapped layer\'s activity penalties over calls', () => {
    const td = new TimeDistributed(new Dense(2, { activityRegularizer: 'l2' }));
    td.apply(kiln.ones([2, 3, 4]));
    td.apply(kiln.ones([2, 3, 4]));
    expect(td.losses.length).toBe(1);
  });
});

describe('bad input: errors name the layer and what it got', () => {
  it('refuses inputs of rank < 3, eager and symbolic', () => {
    expect(() => new TimeDistributed(new Dense(3), { name: 'td' }).apply(kiln.zeros([2, 5])))
      .toThrow("TimeDistributed 'td': expects inputs of rank >= 3 [batch, time, ...], got shape [2,5]");
    expect(() => new TimeDistributed(new Dense(3), { name: 'td' }).apply(Input({ shape: [5] })))
      .toThrow("TimeDistributed 'td': expects inputs of rank >= 3 [batch, time, ...], got shape [null,5]");
  });

  it('refuses what is not a layer, and layers of several inputs', () => {
    expect(() => new TimeDistributed({ units: 3 } as never, { name: 'td' })).toThrow("TimeDistributed 'td': expects a kiln Layer to wrap, got an object (Object)");
    expect(() => new TimeDistributed(null as never, { name: 'td' })).toThrow('got null');
    expect(() => new TimeDistributed(new kiln.layers.Concatenate({ name: 'cat' }), { name: 'td' })).toThrow("TimeDistributed 'td': wraps a layer of one input; Concatenate 'cat' takes a list of inputs");
  });

  it('refuses a wrapped layer that does not fit the step: the wrapped layer says why', () => {
    const td = new TimeDistributed(new Conv2D(2, 3, { name: 'c' }));
    expect(() => td.apply(kiln.zeros([2, 3, 5, 5]))).toThrow("Conv2D 'c': expects inputs of rank 4");
  });
});
