/**
 * SpatialDropout1D/2D/3D and AlphaDropout: the layer harness (the identity at inference), whole
 * channels kept or dropped together, the fraction dropped over many draws within a statistical
 * bound, the scaling, AlphaDropout's mean and variance, gradients, seeds, and errors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { AlphaDropout, Input, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D } from '../../layers/index.js';
import { runLayerTest } from './harness.js';

const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const variance = (v: number[]): number => {
  const m = mean(v);
  return mean(v.map((x) => (x - m) ** 2));
};

/**
 * The values of each (sample, channel) feature map of a [N, ...S, C] (or [N, C, ...S]) output,
 * gathered by a loop over the flat data.
 */
function featureMaps(v: number[], shape: number[], channelsFirst: boolean): number[][] {
  const [n] = shape;
  const c = channelsFirst ? shape[1] : shape[shape.length - 1];
  const spatial = v.length / (n * c);
  const maps: number[][] = Array.from({ length: n * c }, () => []);
  for (let i = 0; i < v.length; i++) {
    const b = Math.floor(i / (c * spatial));
    const channel = channelsFirst ? Math.floor(i / spatial) % c : i % c;
    maps[b * c + channel].push(v[i]);
  }
  return maps;
}

describe('SpatialDropout1D / 2D / 3D', () => {
  it('pass the layer harness (the identity at inference)', () => {
    runLayerTest(SpatialDropout1D, { args: [0.3, { seed: 1 }], inputShape: [2, 5, 3], expectedOutputShape: [2, 5, 3] });
    runLayerTest(SpatialDropout2D, { args: [0.5], inputShape: [2, 3, 4, 2], expectedOutputShape: [2, 3, 4, 2] });
    runLayerTest(SpatialDropout2D, { args: [0.5, { dataFormat: 'channelsFirst' }], inputShape: [2, 2, 3, 4], expectedOutputShape: [2, 2, 3, 4] });
    runLayerTest(SpatialDropout3D, { args: [0.2, { seed: 4 }], inputShape: [1, 2, 3, 2, 3], expectedOutputShape: [1, 2, 3, 2, 3] });
  });

  it('are the identity at inference', () => {
    const x = kiln.random.normal([2, 3, 4, 5]);
    expect(values(new SpatialDropout2D(0.5).apply(x))).toEqual(values(x));
    expect(values(new SpatialDropout2D(0.5).apply(x, { training: false }))).toEqual(values(x));
  });

  const layouts: [string, () => kiln.Layer, number[], boolean][] = [
    ['1D', () => new SpatialDropout1D(0.3), [100, 4, 50], false],
    ['2D channels last', () => new SpatialDropout2D(0.3), [100, 3, 2, 50], false],
    ['2D channels first', () => new SpatialDropout2D(0.3, { dataFormat: 'channelsFirst' }), [100, 50, 3, 2], true],
    ['3D channels last', () => new SpatialDropout3D(0.3), [100, 2, 2, 2, 50], false],
    ['3D channels first', () => new SpatialDropout3D(0.3, { dataFormat: 'channelsFirst' }), [100, 50, 2, 1, 2], true],
  ];
  for (const [name, make, shape, channelsFirst] of layouts) {
    it(`${name}: drop whole feature maps, a fraction rate of them, and scale the rest by 1 / (1 - rate)`, () => {
      const y = values(make().apply(kiln.ones(shape), { training: true }));
      const maps = featureMaps(y, shape, channelsFirst);
      for (const map of maps) expect(new Set(map).size, 'one value per feature map').toBe(1);
      const kept = maps.filter((m) => m[0] !== 0);
      expect(new Set(kept.map((m) => m[0]))).toEqual(new Set([Math.fround(1 / 0.7)]));
      // 5 000 Bernoulli(0.7) draws: the kept fraction is within 4 standard deviations (0.0065 each)
      expect(Math.abs(kept.length / maps.length - 0.7)).toBeLessThan(0.026);
    });
  }

  it('draw independently for each sample', () => {
    const y = values(new SpatialDropout1D(0.5, { seed: 2 }).apply(kiln.ones([64, 3, 8]), { training: true }));
    const maps = featureMaps(y, [64, 3, 8], false);
    const masks = new Set(Array.from({ length: 64 }, (_, b) => maps.slice(b * 8, b * 8 + 8).map((m) => (m[0] ? 1 : 0)).join('')));
    // 64 samples of 8 fair coins: one mask shared by the batch would give a single pattern
    expect(masks.size).toBeGreaterThan(20);
  });

  it('are reproducible with a seed of their own, and with kiln.setSeed', () => {
    const draw = (layer: kiln.Layer): number[] => values(layer.apply(kiln.ones([4, 3, 3, 6]), { training: true }));
    const seeded = new SpatialDropout2D(0.5, { seed: 9 });
    const first = [draw(seeded), draw(seeded)];
    expect(first[1]).not.toEqual(first[0]);
    const again = new SpatialDropout2D(0.5, { seed: 9 });
    expect([draw(again), draw(again)]).toEqual(first);
    kiln.setSeed(5);
    const a = draw(new SpatialDropout2D(0.5));
    kiln.setSeed(5);
    expect(draw(new SpatialDropout2D(0.5))).toEqual(a);
  });

  it('pass gradients through the kept maps only, scaled', () => {
    const layer = new SpatialDropout1D(0.5, { seed: 3 });
    const x = kiln.ones([4, 3, 5]);
    const tape = new kiln.GradientTape();
    let y = x;
    const loss = tape.record(() => kiln.ops.sum((y = layer.apply(x, { training: true }) as kiln.Tensor)));
    expect(values(tape.gradient(loss, x)!)).toEqual(values(y));
  });

  it('save rate, seed and (2D, 3D) dataFormat, as Keras', () => {
    expect(new SpatialDropout1D(0.2, { seed: 1 }).getConfig()).toMatchObject({ rate: 0.2, seed: 1 });
    expect(new SpatialDropout1D(0.2).getConfig()).not.toHaveProperty('dataFormat');
    expect(new SpatialDropout2D(0.2, { dataFormat: 'channels_first' as 'channelsFirst' }).getConfig()).toMatchObject({ rate: 0.2, seed: null, dataFormat: 'channelsFirst' });
  });

  it('refuse bad options and inputs, naming the layer', () => {
    expect(() => new SpatialDropout2D(1.5, { name: 'sd' })).toThrow("SpatialDropout2D 'sd': rate must be a number in [0, 1], got 1.5");
    expect(() => new SpatialDropout2D(0.1, { name: 'sd2' }).apply(kiln.ones([2, 3, 4])))
      .toThrow("SpatialDropout2D 'sd2': expects inputs of rank 4 ([batch, height, width, channels]), got shape [2,3,4]");
    expect(() => new SpatialDropout1D(0.1, { name: 'sd1' }).apply(Input({ shape: [4] })))
      .toThrow("SpatialDropout1D 'sd1': expects inputs of rank 3 ([batch, steps, channels]), got shape [null,4]");
    expect(() => new SpatialDropout3D(0.1, { name: 'sd3', dataFormat: 'NCDHW' as 'channelsFirst' }))
      .toThrow(`SpatialDropout3D 'sd3': dataFormat must be 'channelsLast' or 'channelsFirst', got "NCDHW"`);
    expect(values(new SpatialDropout1D(1).apply(kiln.ones([1, 2, 2]), { training: true }))).toEqual([0, 0, 0, 0]);
  });
});

describe('AlphaDropout', () => {
  // SELU's constants and Keras's affine correction, written out independently of the layer
  const alphaP = -1.6732632423543772 * 1.0507009873554805;
  const affine = (rate: number) => {
    const a = 1 / Math.sqrt((1 - rate) * (1 + rate * alphaP * alphaP));
    return { a, b: -a * alphaP * rate };
  };

  it('passes the layer harness (the identity at inference)', () => {
    runLayerTest(AlphaDropout, { args: [0.2, { seed: 1 }], inputShape: [3, 4], expectedOutputShape: [3, 4] });
    runLayerTest(AlphaDropout, { args: [0.5, { noiseShape: [null, 1, null] }], inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4] });
  });

  it('is the identity at inference', () => {
    const x = kiln.random.normal([3, 4]);
    expect(values(new AlphaDropout(0.5).apply(x))).toEqual(values(x));
    expect(values(new AlphaDropout(0.5).apply(x, { training: false }))).toEqual(values(x));
  });

  it('keeps mean 0 and variance 1 of standard normal inputs over many draws', () => {
    const n = 200_000;
    const x = kiln.random.normal([n], { seed: 11 });
    const y = values(new AlphaDropout(0.3, { seed: 2 }).apply(x, { training: true }));
    // standard errors: 1 / sqrt(n) = 0.0022 for the mean, about 0.004 for the variance
    expect(Math.abs(mean(y))).toBeLessThan(0.01);
    expect(Math.abs(variance(y) - 1)).toBeLessThan(0.02);
  });

  it('sets dropped units to a·alpha\' + b and maps kept ones to a·x + b, a fraction rate dropped', () => {
    const rate = 0.4;
    const { a, b } = affine(rate);
    const x = kiln.random.uniform([10_000], { minval: 1, maxval: 2, seed: 3 });
    const xv = values(x);
    const y = values(new AlphaDropout(rate).apply(x, { training: true }));
    let dropped = 0;
    y.forEach((v, i) => {
      if (Math.abs(v - (a * alphaP + b)) < 1e-5) dropped++;
      else expect(v).toBeCloseTo(a * xv[i] + b, 5);
    });
    // 10 000 Bernoulli(0.4) draws: within 4 standard deviations (0.0049 each)
    expect(Math.abs(dropped / y.length - rate)).toBeLessThan(0.02);
  });

  it('shares draws along the axes where noiseShape is 1', () => {
    const y = values(new AlphaDropout(0.5, { noiseShape: [null, 1] }).apply(kiln.zeros([50, 6]), { training: true }));
    for (let r = 0; r < 50; r++) expect(new Set(y.slice(r * 6, r * 6 + 6)).size).toBe(1);
    expect(() => new AlphaDropout(0.5, { noiseShape: [2, 3], name: 'ad' }).apply(kiln.ones([4, 3]), { training: true }))
      .toThrow("AlphaDropout 'ad': noiseShape [2,3] does not broadcast to the input shape [4,3]");
  });

  it('passes a gradient of a to kept units and none to dropped ones', () => {
    const rate = 0.5;
    const { a, b } = affine(rate);
    const x = kiln.ones([40]);
    const tape = new kiln.GradientTape();
    let y = x;
    const loss = tape.record(() => kiln.ops.sum((y = new AlphaDropout(rate, { seed: 4 }).apply(x, { training: true }) as kiln.Tensor)));
    const g = values(tape.gradient(loss, x)!);
    values(y).forEach((v, i) => expect(g[i]).toBeCloseTo(Math.abs(v - (a + b)) < 1e-5 ? a : 0, 5));
  });

  it('is reproducible with a seed of its own', () => {
    const draw = (layer: AlphaDropout): number[] => values(layer.apply(kiln.ones([30]), { training: true }));
    const first = new AlphaDropout(0.5, { seed: 8 });
    const again = new AlphaDropout(0.5, { seed: 8 });
    expect([draw(again), draw(again)]).toEqual([draw(first), draw(first)]);
  });

  it('saves rate, noiseShape and seed; refuses a rate outside [0, 1)', () => {
    expect(new AlphaDropout(0.1, { noiseShape: [null, 1], seed: 2 }).getConfig()).toMatchObject({ rate: 0.1, noiseShape: [null, 1], seed: 2 });
    expect(() => new AlphaDropout(1, { name: 'ad1' })).toThrow("AlphaDropout 'ad1': rate must be a number in [0, 1), got 1");
    expect(() => new AlphaDropout(-0.1, { name: 'ad2' })).toThrow("AlphaDropout 'ad2': rate must be a number in [0, 1), got -0.1");
  });
});

describe('SpatialDropout and AlphaDropout in models', () => {
  it('save and load with their configs, and predict as the identity', async () => {
    const model = new kiln.Sequential([
      Input({ shape: [4, 3, 2] }),
      new SpatialDropout2D(0.3, { dataFormat: 'channelsFirst', seed: 1 }),
      new kiln.layers.Reshape([12, 2]),
      new SpatialDropout1D(0.2),
      new AlphaDropout(0.1, { noiseShape: [null, 1, null], seed: 5 }),
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'kiln-dropout-'));
    try {
      await model.save(join(dir, 'dropout.kiln'));
      const loaded = await kiln.loadModel(join(dir, 'dropout.kiln'));
      expect(loaded.layers.map((l) => l.getConfig())).toEqual(model.layers.map((l) => l.getConfig()));
      const x = kiln.random.normal([2, 4, 3, 2], { seed: 3 });
      expect(values(loaded.predictOnBatch(x))).toEqual(values(x));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('train: a fit step runs through both', async () => {
    const model = new kiln.Sequential([
      Input({ shape: [6, 4] }),
      new SpatialDropout1D(0.5, { seed: 2 }),
      new kiln.layers.Dense(3, { activation: 'selu' }),
      new AlphaDropout(0.2, { seed: 3 }),
      new kiln.layers.Dense(1),
    ]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const history = await model.fit(kiln.random.normal([16, 6, 4], { seed: 1 }), kiln.zeros([16, 6, 1]), { epochs: 2, batchSize: 8, verbose: 0 });
    expect(history.history.loss.every((l: number) => Number.isFinite(l))).toBe(true);
  });
});
