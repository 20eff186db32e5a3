/**
 * The normalization family: the layer harness for every layer (Keras's weight names, order and
 * shapes written out by hand, symbolic and eager shapes, config round trip, float64 finite
 * differences on reference); values against float64 loops written here and hand-computed cases
 * (constant inputs, single elements, epsilon) on every backend; the keras.ops forms; and
 * BatchNormalization's training: batch statistics, moving statistics folded once per step (against
 * a loop over the batches), inference mode when frozen, gradients under a tape, no leaked tensors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { BatchNormalization, Dense, GroupNormalization, Input, LayerNormalization, RMSNormalization, UnitNormalization } from '../../layers/index.js';
import { runLayerTest } from './harness.js';

const { ops } = kiln;
const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());

function expectClose(got: number[], want: number[], tol = 1e-5): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => {
    if (!(Math.abs(g - want[i]) <= tol + tol * Math.abs(want[i]))) expect.fail(`element ${i}: got ${g}, expected ${want[i]}`);
  });
}

/** Every index of `shape`, in row-major order. */
function indices(shape: number[]): number[][] {
  const out: number[][] = [];
  const size = shape.reduce((n, d) => n * d, 1);
  for (let flat = 0; flat < size; flat++) {
    const idx = new Array<number>(shape.length);
    let rest = flat;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a] = rest % shape[a];
      rest = Math.floor(rest / shape[a]);
    }
    out.push(idx);
  }
  return out;
}

type Key = (idx: number[]) => string;
type Param = (idx: number[]) => number;

/** Each element's mean and (population, two-pass) variance over the elements that share its `key`, in float64. */
function statsLoop(x: number[], shape: number[], key: Key): { m: number; v: number }[] {
  const idx = indices(shape);
  const groups = new Map<string, number[]>();
  idx.forEach((i, k) => groups.set(key(i), [...(groups.get(key(i)) ?? []), x[k]]));
  const stats = new Map([...groups].map(([k, v]) => {
    const m = v.reduce((s, e) => s + e, 0) / v.length;
    return [k, { m, v: v.reduce((s, e) => s + (e - m) ** 2, 0) / v.length }];
  }));
  return idx.map((i) => stats.get(key(i))!);
}

/** (x - mean) / sqrt(variance + epsilon) · gamma + beta, the statistics over the elements that share `key`. */
function normalizedLoop(x: number[], shape: number[], key: Key, epsilon: number, gamma: Param = () => 1, beta: Param = () => 0): number[] {
  const idx = indices(shape);
  return statsLoop(x, shape, key).map(({ m, v }, k) => ((x[k] - m) / Math.sqrt(v + epsilon)) * gamma(idx[k]) + beta(idx[k]));
}

/** x · scale / sqrt(mean(x²) + epsilon) over the elements that share `key`. */
function rmsLoop(x: number[], shape: number[], key: Key, epsilon: number, scale: Param = () => 1): number[] {
  const idx = indices(shape);
  const sums = new Map<string, [number, number]>();
  idx.forEach((i, k) => {
    const [s, n] = sums.get(key(i)) ?? [0, 0];
    sums.set(key(i), [s + x[k] ** 2, n + 1]);
  });
  return idx.map((i, k) => {
    const [s, n] = sums.get(key(i))!;
    return (x[k] * scale(i)) / Math.sqrt(s / n + epsilon);
  });
}

/** The statistics key of normalizing over `axes`: the index on every other axis. */
const over = (axes: number[]): Key => (idx) => idx.filter((_, a) => !axes.includes(a)).join(',');
/** A weight spanning `axes`, indexed by an element's index on them. */
const spanning = (w: number[], shape: number[], axes: number[]): Param => (idx) => {
  let flat = 0;
  for (const a of axes) flat = flat * shape[a] + idx[a];
  return w[flat];
};

/** Draws every weight from a normal distribution (seeded), so gamma and beta are not 1 and 0. */
function randomize(layer: kiln.Layer, seed = 11): number[][] {
  layer.setWeights(layer.getWeights().map((w, i) => {
    const draw = kiln.random.normal([...w.shape], { seed: seed + i, dtype: w.dtype });
    return /variance/.test(layer.getWeightVariables()[i].name) ? ops.add(ops.abs(draw), 0.5) : draw;
  }));
  return layer.getWeights().map(values);
}

describe('the normalization layers pass the layer harness on reference', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('BatchNormalization: gamma, beta, moving_mean, moving_variance; any features axis', () => {
    runLayerTest(BatchNormalization, {
      inputShape: [4, 3], expectedOutputShape: [4, 3], expectedTrainableWeights: 2,
      expectedWeights: [['gamma', [3]], ['beta', [3]], ['moving_mean', [3]], ['moving_variance', [3]]],
    });
    runLayerTest(BatchNormalization, {
      args: [{ axis: 1, momentum: 0.9, epsilon: 1e-2 }], inputShape: [2, 3, 2, 2], expectedOutputShape: [2, 3, 2, 2],
      expectedWeights: [['gamma', [3]], ['beta', [3]], ['moving_mean', [3]], ['moving_variance', [3]]],
    });
    runLayerTest(BatchNormalization, {
      args: [{ center: false, scale: false }], inputShape: [3, 2], expectedOutputShape: [3, 2], expectedTrainableWeights: 0,
      expectedWeights: [['moving_mean', [2]], ['moving_variance', [2]]],
    });
  });

  it('LayerNormalization: gamma, beta over one axis or several; gamma alone with rmsScaling', () => {
    runLayerTest(LayerNormalization, { inputShape: [3, 5], expectedOutputShape: [3, 5], expectedWeights: [['gamma', [5]], ['beta', [5]]] });
    runLayerTest(LayerNormalization, {
      args: [{ axis: [1, 2], epsilon: 1e-2 }], inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedWeights: [['gamma', [3, 4]], ['beta', [3, 4]]],
    });
    runLayerTest(LayerNormalization, { args: [{ axis: 1 }], inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedWeights: [['gamma', [3]], ['beta', [3]]] });
    runLayerTest(LayerNormalization, { args: [{ rmsScaling: true }], inputShape: [2, 4], expectedOutputShape: [2, 4], expectedWeights: [['gamma', [4]]] });
    runLayerTest(LayerNormalization, { args: [{ center: false, scale: false }], inputShape: [2, 4], expectedOutputShape: [2, 4] });
  });

  it('GroupNormalization: gamma, beta per channel; channels last or first; instance normalization', () => {
    runLayerTest(GroupNormalization, {
      args: [{ groups: 2 }], inputShape: [2, 3, 6], expectedOutputShape: [2, 3, 6], expectedWeights: [['gamma', [6]], ['beta', [6]]],
    });
    runLayerTest(GroupNormalization, {
      args: [{ groups: 2, axis: 1 }], inputShape: [2, 4, 3], expectedOutputShape: [2, 4, 3], expectedWeights: [['gamma', [4]], ['beta', [4]]],
    });
    runLayerTest(GroupNormalization, {
      args: [{ groups: -1, scale: false }], inputShape: [2, 3, 2, 3], expectedOutputShape: [2, 3, 2, 3], expectedWeights: [['beta', [3]]],
    });
  });

  it('RMSNormalization: scale over one axis or several', () => {
    runLayerTest(RMSNormalization, { inputShape: [3, 5], expectedOutputShape: [3, 5], expectedWeights: [['scale', [5]]], expectedTrainableWeights: 1 });
    runLayerTest(RMSNormalization, { args: [{ axis: [1, 2] }], inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedWeights: [['scale', [3, 4]]] });
    runLayerTest(RMSNormalization, { args: [{ axis: 1 }], inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4], expectedWeights: [['scale', [3]]] });
  });

  it('UnitNormalization: no weights', () => {
    runLayerTest(UnitNormalization, { inputShape: [3, 5], expectedOutputShape: [3, 5] });
    runLayerTest(UnitNormalization, { args: [{ axis: [1, 2] }], inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4] });
  });

  it('saves camelCase configs with Keras 3 defaults', () => {
    expect(new BatchNormalization({ name: 'bn' }).getConfig()).toEqual({
      name: 'bn', trainable: true, dtype: 'float32', axis: -1, momentum: 0.99, epsilon: 1e-3, center: true, scale: true,
      betaInitializer: { className: 'Zeros', config: {} }, gammaInitializer: { className: 'Ones', config: {} },
      betaRegularizer: null, gammaRegularizer: null, betaConstraint: null, gammaConstraint: null,
      movingMeanInitializer: { className: 'Zeros', config: {} }, movingVarianceInitializer: { className: 'Ones', config: {} },
      synchronized: false,
    });
    expect(new LayerNormalization().getConfig()).toMatchObject({ axis: -1, epsilon: 1e-3, center: true, scale: true, rmsScaling: false });
    expect(new GroupNormalization().getConfig()).toMatchObject({ groups: 32, axis: -1, epsilon: 1e-3, center: true, scale: true });
    expect(new RMSNormalization().getConfig()).toMatchObject({ axis: -1, epsilon: 1e-6 });
    expect(new UnitNormalization().getConfig()).toMatchObject({ axis: -1 });
  });
});

const BACKENDS = kiln.listBackends();
const AVAILABLE = BACKENDS.filter((b) => b.available).map((b) => b.name);

for (const b of BACKENDS.filter((s) => !s.available)) {
  describe.skip(`${b.name} (unavailable: ${b.reason})`, () => {
    it('is skipped', () => {});
  });
}

describe.each(AVAILABLE)('values against float64 loops on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));

  it('BatchNormalization: the moving statistics in inference, the batch statistics in training', () => {
    const shape = [4, 3, 2];
    const x = kiln.random.normal(shape, { seed: 1 });
    const layer = new BatchNormalization({ axis: 1, epsilon: 1e-2 });
    layer.apply(x);
    const [gamma, beta, mean, variance] = randomize(layer);
    const channel = (idx: number[]) => idx[1];
    const inference = values(x).map((v, k) => {
      const c = channel(indices(shape)[k]);
      return ((v - mean[c]) / Math.sqrt(variance[c] + 1e-2)) * gamma[c] + beta[c];
    });
    expectClose(values(layer.apply(x)), inference);
    expectClose(values(layer.apply(x, { training: true })), normalizedLoop(values(x), shape, over([0, 2]), 1e-2, (i) => gamma[channel(i)], (i) => beta[channel(i)]));
  });

  it('LayerNormalization over one axis, several, and the rmsScaling form', () => {
    const shape = [2, 3, 4];
    const x = kiln.random.normal(shape, { seed: 2 });
    for (const axis of [[2], [1, 2], [1]]) {
      const layer = new LayerNormalization({ axis, epsilon: 1e-3 });
      layer.apply(x);
      const [gamma, beta] = randomize(layer);
      const want = normalizedLoop(values(x), shape, over(axis), 1e-3, spanning(gamma, shape, axis), spanning(beta, shape, axis));
      expectClose(values(layer.apply(x)), want);
    }
    const rms = new LayerNormalization({ rmsScaling: true, epsilon: 1e-3 });
    rms.apply(x);
    const [gamma] = randomize(rms);
    // no centering: x itself over the standard deviation
    const want = statsLoop(values(x), shape, over([2])).map(({ v }, k) => (values(x)[k] / Math.sqrt(v + 1e-3)) * gamma[k % 4]);
    expectClose(values(rms.apply(x)), want);
  });

  it('GroupNormalization: each group of channels over every non-batch axis', () => {
    const shape = [2, 3, 6];
    const x = kiln.random.normal(shape, { seed: 3 });
    const layer = new GroupNormalization({ groups: 3 });
    layer.apply(x);
    const [gamma, beta] = randomize(layer);
    const want = normalizedLoop(values(x), shape, (i) => `${i[0]},${Math.floor(i[2] / 2)}`, 1e-3, (i) => gamma[i[2]], (i) => beta[i[2]]);
    expectClose(values(layer.apply(x)), want);
    const first = new GroupNormalization({ groups: 2, axis: 1, epsilon: 0.1 });
    const xf = kiln.random.normal([2, 4, 3], { seed: 4 });
    first.apply(xf);
    const [g, b] = randomize(first);
    expectClose(values(first.apply(xf)), normalizedLoop(values(xf), [2, 4, 3], (i) => `${i[0]},${Math.floor(i[1] / 2)}`, 0.1, (i) => g[i[1]], (i) => b[i[1]]));
  });

  it('RMSNormalization and UnitNormalization', () => {
    const shape = [2, 3, 4];
    const x = kiln.random.normal(shape, { seed: 5 });
    for (const axis of [[2], [1, 2]]) {
      const layer = new RMSNormalization({ axis });
      layer.apply(x);
      const [scale] = randomize(layer);
      expectClose(values(layer.apply(x)), rmsLoop(values(x), shape, over(axis), 1e-6, spanning(scale, shape, axis)));
      const norms = rmsLoop(values(x), shape, over(axis), 0).map((v, k) => v / values(x)[k]);
      const count = axis.reduce((n, a) => n * shape[a], 1);
      // x / ||x||: the root mean square is ||x|| / sqrt(count)
      expectClose(values(new UnitNormalization({ axis }).apply(x)), values(x).map((v, k) => (v * norms[k]) / Math.sqrt(count)));
    }
  });

  it('constant inputs (variance 0) give beta; a single element too; epsilon keeps the scale finite', () => {
    const x = kiln.tensor([[2, 2, 2], [-1, -1, -1]]);
    const ln = new LayerNormalization();
    ln.apply(x);
    ln.setWeights([[1, 2, 3], [0.5, -1, 4]]);
    // Keras's x · inv + (beta - mean · inv) rounds: beta to within float32's precision at x · inv
    // (±32 here, where epsilon 1e-3 is all that keeps inv finite)
    expectClose(values(ln.apply(x)), [0.5, -1, 4, 0.5, -1, 4], 1e-5);
    const one = new LayerNormalization();
    one.apply(kiln.tensor([[7]]));
    one.setWeights([[3], [0.25]]);
    expectClose(values(one.apply(kiln.tensor([[7], [-3]]))), [0.25, 0.25], 1e-6);
    const gn = new GroupNormalization({ groups: 2, center: false });
    expectClose(values(gn.apply(kiln.tensor([[5, 5, 1, 1]]))), [0, 0, 0, 0], 1e-6);
    // a batch of one in training: every feature is its own mean
    const bn = new BatchNormalization();
    bn.apply(kiln.zeros([1, 2]));
    bn.setWeights([[2, 2], [1, -1], [0, 0], [1, 1]]);
    expectClose(values(bn.apply(kiln.tensor([[3, -8]]), { training: true })), [1, -1], 1e-6);
    // RMS and unit normalization of zeros stay zero; of one element x: x / sqrt(x² + epsilon)
    expect(values(new RMSNormalization().apply(kiln.zeros([1, 3])))).toEqual([0, 0, 0]);
    expect(values(new UnitNormalization().apply(kiln.zeros([1, 3])))).toEqual([0, 0, 0]);
    expectClose(values(new RMSNormalization({ epsilon: 0.5 }).apply(kiln.tensor([[1]]))), [1 / Math.sqrt(1.5)]);
    expect(values(new UnitNormalization().apply(kiln.tensor([[-4]])))).toEqual([-1]);
  });

  it('hand-computed: (x - mean) / sqrt(variance + epsilon) with Keras\'s default epsilons', () => {
    // mean 2, variance 1 over [1, 3]; epsilon 1e-3 (layers) and 1e-7 (the ops' default)
    expectClose(values(new LayerNormalization().apply(kiln.tensor([[1, 3]]))), [-1 / Math.sqrt(1.001), 1 / Math.sqrt(1.001)]);
    expectClose(values(ops.layerNormalization(kiln.tensor([1, 3]))), [-1 / Math.sqrt(1 + 1e-7), 1 / Math.sqrt(1 + 1e-7)]);
    expectClose(values(ops.batchNormalization(kiln.tensor([[1, 2], [3, 6]]), [2, 4], [1, 4], -1)), [-1 / Math.sqrt(1.001), -2 / Math.sqrt(4.001), 1 / Math.sqrt(1.001), 2 / Math.sqrt(4.001)]);
    // [3, 4]: mean square 12.5
    expectClose(values(ops.rmsNormalization(kiln.tensor([3, 4]), { epsilon: 0 })), [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)]);
    expectClose(values(new UnitNormalization().apply(kiln.tensor([[3, 4]]))), [0.6, 0.8]);
  });
});

describe('the ops, as keras.ops has them', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('infer shapes symbolically, with the batch unknown', () => {
    const x = Input({ shape: [3, 4] }) as unknown as kiln.Tensor;
    const shapes = [
      ops.batchNormalization(x, [0, 0, 0], [1, 1, 1], 1),
      ops.batchNormalization(x, kiln.zeros([4]), kiln.ones([4]), -1, { scale: kiln.ones([4]), offset: kiln.zeros([4]) }),
      ops.layerNormalization(x, { axis: [1, 2], gamma: kiln.ones([3, 4]) }),
      ops.rmsNormalization(x, { axis: 1 }),
    ].map((t) => [...(t as unknown as kiln.SymbolicTensor).shape]);
    expect(shapes).toEqual([[null, 3, 4], [null, 3, 4], [null, 3, 4], [null, 3, 4]]);
  });

  it('normalize integers in float32, and weights of another float dtype in the input\'s', () => {
    const y = ops.layerNormalization(kiln.tensor([[1, 3]], undefined, 'int32'), { epsilon: 0 });
    expect(y.dtype).toBe('float32');
    expect(values(y)).toEqual([-1, 1]);
    const x64 = kiln.tensor([[1, 3]], undefined, 'float64');
    const z = ops.batchNormalization(x64, kiln.tensor([0, 2]), kiln.tensor([1, 4]), -1, { epsilon: 0 });
    expect(z.dtype).toBe('float64');
    expect(values(z)).toEqual([1, 0.5]);
  });

  it('give gradients that match float64 finite differences, through the statistics', () => {
    const x = kiln.random.normal([3, 4], { seed: 21, dtype: 'float64' });
    const g = kiln.random.normal([4], { seed: 22, dtype: 'float64' });
    const r = kiln.random.normal([3, 4], { seed: 23, dtype: 'float64' });
    const loss = (xv: kiln.Tensor, gv: kiln.Tensor) => kiln.tidy(() => ops.sum(ops.multiply(ops.add(
      ops.layerNormalization(xv, { gamma: gv, epsilon: 0.1 }),
      ops.rmsNormalization(xv, { scale: gv, axis: 0, epsilon: 0.1 }),
    ), r)));
    const [dx, dg] = kiln.grad((xv: kiln.Tensor, gv: kiln.Tensor) => loss(xv, gv))(x, g) as kiln.Tensor[];
    for (const [source, analytic, at] of [[x, dx, (t: kiln.Tensor) => loss(t, g)], [g, dg, (t: kiln.Tensor) => loss(x, t)]] as const) {
      const base = values(source);
      base.forEach((_, i) => {
        const shifted = (d: number) => {
          const v = [...base];
          v[i] += d;
          return values(at(kiln.tensor(v, [...source.shape], 'float64')))[0];
        };
        const numeric = (shifted(1e-6) - shifted(-1e-6)) / 2e-6;
        expect(Math.abs(values(analytic)[i] - numeric)).toBeLessThan(1e-6 + 1e-5 * Math.abs(numeric));
      });
    }
  });

  it('explain bad operands', () => {
    const x = kiln.zeros([2, 3]);
    expect(() => ops.batchNormalization(x, [0, 0], [1, 1, 1], -1)).toThrow('batchNormalization: mean must be a vector of length x.shape[-1] = 3 (x has shape [2,3]), got shape [2]');
    expect(() => ops.batchNormalization(x, [0, 0, 0], [1, 1, 1], 2)).toThrow('batchNormalization: axis 2 is out of range for a tensor of rank 2');
    expect(() => ops.batchNormalization(x, [0, 0, 0], [1, 1, 1], -1, { scale: [[1, 1, 1]] })).toThrow('scale must be a vector of length x.shape[-1] = 3');
    expect(() => ops.batchNormalization(x, [0, 0, 0], [1, 1, 1], -1, { epsilon: -1 })).toThrow('batchNormalization: epsilon must be a finite number >= 0, got -1');
    expect(() => ops.layerNormalization(x, { gamma: [1, 1] })).toThrow("layerNormalization: gamma must have the normalized axes' shape [3] (axes [1] of x's shape [2,3]) or x's rank, got shape [2]");
    expect(() => ops.layerNormalization(x, { axis: [1, -1] })).toThrow('layerNormalization: repeated axis in [1,-1]');
    expect(() => ops.rmsNormalization(x, { axis: 'last' as never })).toThrow('rmsNormalization: axis must be an integer or a list of integers, got "last"');
  });
});

describe('BatchNormalization in training', () => {
  beforeAll(() => kiln.setBackend('reference'));

  /** 24 samples of 3 features, far from mean 0 and variance 1 so that the statistics move. */
  const data = (): [kiln.Tensor, kiln.Tensor] => kiln.tidy(() => [
    ops.add(ops.multiply(kiln.random.normal([24, 3], { seed: 31 }), kiln.tensor([2, 0.5, 1])), kiln.tensor([1, -3, 0])),
    kiln.random.normal([24, 1], { seed: 32 }),
  ]);

  /** The moving statistics after `steps` batches of `batch` rows, in order, from zeros and ones. */
  function movingLoop(x: number[], features: number, batch: number, steps: number, momentum: number): [number[], number[]] {
    const mean = new Array<number>(features).fill(0);
    const variance = new Array<number>(features).fill(1);
    const rows = x.length / features;
    for (let s = 0; s < steps; s++) {
      const start = (s * batch) % rows;
      for (let f = 0; f < features; f++) {
        const col = Array.from({ length: batch }, (_, r) => x[(start + r) * features + f]);
        const m = col.reduce((a, b) => a + b, 0) / batch;
        const v = col.reduce((a, b) => a + (b - m) ** 2, 0) / batch;
        mean[f] = mean[f] * momentum + m * (1 - momentum);
        variance[f] = variance[f] * momentum + v * (1 - momentum);
      }
    }
    return [mean, variance];
  }

  const models: [string, () => [kiln.Model, BatchNormalization]][] = [
    ['Sequential', () => {
      const bn = new BatchNormalization({ momentum: 0.8 });
      return [new kiln.Sequential([Input({ shape: [3] }), bn, new Dense(1)]), bn];
    }],
    ['Functional', () => {
      const bn = new BatchNormalization({ momentum: 0.8 });
      const input = Input({ shape: [3] });
      const out = new Dense(1).apply(bn.apply(input)) as unknown as kiln.SymbolicTensor;
      return [new kiln.Model({ inputs: input, outputs: out }), bn];
    }],
  ];

  it.each(models)('folds the batch statistics in once per step of fit (%s), not in evaluate or predict', async (_, make) => {
    const [model, bn] = make();
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const [x, y] = data();
    await model.fit(x, y, { batchSize: 8, epochs: 2, shuffle: false, verbose: 0 });
    const [mean, variance] = movingLoop(values(x), 3, 8, 6, 0.8);
    expectClose(values(bn.movingMean!.value), mean);
    expectClose(values(bn.movingVariance!.value), variance);
    await model.evaluate(x, y, { batchSize: 8 });
    await model.predict(x, { batchSize: 8 });
    expectClose(values(bn.movingMean!.value), mean);
  });

  it('runs in inference mode when not trainable: the moving statistics, which fit leaves alone', async () => {
    const [model, bn] = models[0][1]();
    bn.trainable = false;
    expect(bn.trainableWeights).toEqual([]);
    randomize(bn);
    const before = bn.getWeights().map(values);
    const [x, y] = data();
    const inference = values(bn.apply(x));
    expect(values(bn.apply(x, { training: true }))).toEqual(inference);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await model.fit(x, y, { batchSize: 8, epochs: 1, verbose: 0 });
    expect(bn.getWeights().map(values)).toEqual(before);
  });

  it('differentiates the training form under a GradientTape, updating the moving statistics once', () => {
    const bn = new BatchNormalization({ dtype: 'float64', momentum: 0.5 });
    const x = kiln.random.normal([5, 2], { seed: 41, dtype: 'float64' });
    bn.apply(x);
    randomize(bn);
    bn.setWeights([...bn.getWeights().slice(0, 2), kiln.tensor([0, 0], undefined, 'float64'), kiln.tensor([1, 1], undefined, 'float64')]);
    const r = kiln.random.normal([5, 2], { seed: 42, dtype: 'float64' });
    const loss = (xv: kiln.Tensor) => ops.sum(ops.multiply(bn.apply(xv, { training: true }), r));
    const tape = new kiln.GradientTape();
    const value = tape.record(() => loss(x));
    const [dx, dGamma, dBeta] = tape.gradient(value, [x, bn.gamma!, bn.beta!]) as kiln.Tensor[];
    const [mean, variance] = movingLoop(values(x), 2, 5, 1, 0.5);
    expectClose(values(bn.movingMean!.value), mean, 1e-12);
    expectClose(values(bn.movingVariance!.value), variance, 1e-12);
    const numeric = (source: kiln.Tensor | kiln.Variable, i: number) => {
      const base = values(source instanceof kiln.Variable ? source.value : source);
      const at = (d: number) => {
        const v = [...base];
        v[i] += d;
        const t = kiln.tensor(v, [...source.shape], 'float64');
        if (!(source instanceof kiln.Variable)) return values(kiln.tidy(() => loss(t)))[0];
        source.assign(t);
        const out = values(kiln.tidy(() => loss(x)))[0];
        source.assign(kiln.tensor(base, [...source.shape], 'float64'));
        return out;
      };
      return (at(1e-6) - at(-1e-6)) / 2e-6;
    };
    for (const [source, analytic] of [[x, dx], [bn.gamma!, dGamma], [bn.beta!, dBeta]] as const) {
      values(analytic).forEach((a, i) => expect(Math.abs(a - numeric(source, i))).toBeLessThan(1e-6));
    }
  });

  it('holds no more tensors after 40 training steps than after 10', async () => {
    const [model] = models[1][1]();
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const [x, y] = data();
    const held = () => ({ numTensors: kiln.memory().numTensors, numBytes: kiln.memory().numBytes });
    for (let i = 0; i < 10; i++) await model.trainOnBatch(x, y);
    const early = held();
    for (let i = 0; i < 30; i++) await model.trainOnBatch(x, y);
    expect(held()).toEqual(early);
  });

  it('keeps training forced in a graph, and builds when that graph is nested symbolically', () => {
    const input = Input({ shape: [2] });
    const bn = new BatchNormalization();
    const inner = new kiln.Model({ inputs: input, outputs: bn.apply(input, { training: true }) as unknown as kiln.SymbolicTensor });
    const outer = Input({ shape: [2] });
    const model = new kiln.Model({ inputs: outer, outputs: inner.apply(outer) as unknown as kiln.SymbolicTensor });
    const y = model.apply(kiln.tensor([[1, 4], [3, 8]])) as kiln.Tensor;
    expectClose(values(y), [-1 / Math.sqrt(1.001), -2 / Math.sqrt(4.001), 1 / Math.sqrt(1.001), 2 / Math.sqrt(4.001)]);
    expectClose(values(bn.movingMean!.value), [0.02, 0.06]);
  });

  it('saves and loads its moving statistics with the model', async () => {
    const [model, bn] = models[0][1]();
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const [x, y] = data();
    await model.fit(x, y, { batchSize: 8, epochs: 1, verbose: 0 });
    const dir = await mkdtemp(join(tmpdir(), 'kiln-bn-'));
    try {
      await model.save(join(dir, 'bn.kiln'));
      const loaded = await kiln.loadModel(join(dir, 'bn.kiln'));
      const twin = loaded.layers.find((l) => l instanceof BatchNormalization)!;
      expect(twin.getWeights().map(values)).toEqual(bn.getWeights().map(values));
      expect(values(await loaded.predict(x) as kiln.Tensor)).toEqual(values(await model.predict(x) as kiln.Tensor));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bad options and inputs', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('name the layer, the option and what was received', () => {
    expect(() => new GroupNormalization({ groups: 4, name: 'gn' }).apply(kiln.zeros([2, 6]))).toThrow("GroupNormalization 'gn': groups (4) must divide the number of channels: inputs of shape [2,6] have 6 on axis -1");
    expect(() => new GroupNormalization({ groups: 0, name: 'gn0' })).toThrow("GroupNormalization 'gn0': groups must be a positive integer (or -1 for one group per channel), got 0");
    expect(() => new GroupNormalization({ axis: 0, groups: 1, name: 'gnb' }).apply(kiln.zeros([2, 6]))).toThrow("GroupNormalization 'gnb': axis 0 is the batch axis of inputs of shape [2,6]; expected the channels axis");
    expect(() => new BatchNormalization({ axis: [1, 2] as never, name: 'bn' })).toThrow("BatchNormalization 'bn': axis must be an integer, got [1,2]");
    expect(() => new BatchNormalization({ momentum: 1.5, name: 'bn2' })).toThrow("BatchNormalization 'bn2': momentum must be a number in [0, 1], got 1.5");
    expect(() => new BatchNormalization({ gammaInitializer: 'onez' })).toThrow(/onez/);
    expect(() => new LayerNormalization({ axis: 3, name: 'ln' }).apply(kiln.zeros([2, 3]))).toThrow("LayerNormalization 'ln': axis 3 is out of range for inputs of shape [2,3] (rank 2)");
    expect(() => new LayerNormalization({ axis: [1, -1], name: 'ln2' }).apply(kiln.zeros([2, 3]))).toThrow("LayerNormalization 'ln2': axis [1,-1] names an axis twice (inputs of shape [2,3])");
    expect(() => new RMSNormalization({ epsilon: Number.NaN, name: 'rms' })).toThrow("RMSNormalization 'rms': epsilon must be a finite number >= 0, got null");
    expect(() => new UnitNormalization({ axis: [], name: 'un' })).toThrow("UnitNormalization 'un': axis must be an integer or a non-empty list of integers, got []");
  });

  it('refuse inputs other than the ones they were built for', () => {
    const bn = new BatchNormalization({ name: 'bn3' });
    bn.apply(kiln.zeros([2, 3]));
    expect(() => bn.apply(kiln.zeros([2, 4]))).toThrow("BatchNormalization 'bn3': was built for inputs of shape [null,3], got shape [2,4]");
    const ln = new LayerNormalization({ axis: [1, 2], name: 'ln3' });
    ln.apply(kiln.zeros([1, 2, 3]));
    expect(() => ln.apply(kiln.zeros([1, 2]))).toThrow("LayerNormalization 'ln3': was built for inputs of shape [null,2,3], got shape [1,2]");
    const sym = Input({ shape: [null, 3] });
    expect(() => new LayerNormalization({ axis: 1, name: 'ln4' }).apply(sym)).toThrow("LayerNormalization 'ln4': axis 1 must have known sizes, got inputs of shape [null,null,3]");
  });
});
