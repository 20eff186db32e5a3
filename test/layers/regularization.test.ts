import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { ActivityRegularization, Dropout, GaussianDropout, GaussianNoise } from '../../layers/index.js';
import { runLayerTest } from './harness.js';

const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const variance = (v: number[]): number => mean(v.map((x) => (x - mean(v)) ** 2));

describe('Dropout', () => {
  it('passes the layer harness (the identity at inference)', () => {
    runLayerTest(Dropout, { args: [0.3, { noiseShape: [null, 1], seed: 3 }], inputShape: [4, 3], expectedOutputShape: [4, 3] });
  });

  it('is the identity at inference', () => {
    const x = kiln.random.normal([3, 4]);
    expect(values(new Dropout(0.5).apply(x))).toEqual(values(x));
    expect(values(new Dropout(0.5).apply(x, { training: false }))).toEqual(values(x));
  });

  it('drops a fraction `rate` in training and scales the rest by 1 / (1 - rate)', () => {
    const y = values(new Dropout(0.25).apply(kiln.ones([100, 100]), { training: true }));
    const kept = y.filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / 0.75)]));
    // 10 000 Bernoulli(0.75) draws: the kept fraction is within 4 standard deviations (0.0043 each)
    expect(Math.abs(kept.length / y.length - 0.75)).toBeLessThan(0.018);
    expect(Math.abs(mean(y) - 1)).toBeLessThan(0.03);
  });

  it('drops whole slices along the axes where noiseShape is 1', () => {
    const y = new Dropout(0.5, { noiseShape: [null, 1, null] }).apply(kiln.ones([8, 5, 6]), { training: true }) as kiln.Tensor;
    const v = values(y);
    for (let b = 0; b < 8; b++) {
      for (let f = 0; f < 6; f++) {
        const column = [0, 1, 2, 3, 4].map((s) => v[b * 30 + s * 6 + f]);
        expect(new Set(column).size).toBe(1);
      }
    }
    expect(() => new Dropout(0.5, { noiseShape: [2, 3], name: 'dn' }).apply(kiln.ones([4, 3]), { training: true }))
      .toThrow("Dropout 'dn': noiseShape [2,3] does not broadcast to the input shape [4,3]");
  });

  it('is reproducible with kiln.setSeed, and with a seed of its own', () => {
    const draw = (layer: Dropout): number[] => values(layer.apply(kiln.ones([50]), { training: true }));
    kiln.setSeed(42);
    const a = draw(new Dropout(0.5));
    kiln.setSeed(42);
    const b = draw(new Dropout(0.5));
    expect(b).toEqual(a);
    const seeded = new Dropout(0.5, { seed: 9 });
    const first = [draw(seeded), draw(seeded)];
    expect(first[1]).not.toEqual(first[0]);
    const again = new Dropout(0.5, { seed: 9 });
    expect([draw(again), draw(again)]).toEqual(first);
  });

  it('passes gradients through the kept elements only', () => {
    const layer = new Dropout(0.5, { seed: 1 });
    const x = kiln.ones([20]);
    const tape = new kiln.GradientTape();
    let y = x;
    const loss = tape.record(() => kiln.ops.sum((y = layer.apply(x, { training: true }) as kiln.Tensor)));
    expect(values(tape.gradient(loss, x)!)).toEqual(values(y));
  });

  it('rejects a rate outside [0, 1]', () => {
    expect(() => new Dropout(1.5, { name: 'd' })).toThrow("Dropout 'd': rate must be a number in [0, 1], got 1.5");
    expect(values(new Dropout(1).apply(kiln.ones([3]), { training: true }))).toEqual([0, 0, 0]);
  });
});

describe('GaussianNoise', () => {
  it('passes the layer harness', () => {
    runLayerTest(GaussianNoise, { args: [0.1, { seed: 1 }], inputShape: [2, 3], expectedOutputShape: [2, 3] });
  });

  it('adds noise of the given stddev in training only', () => {
    const x = kiln.zeros([20000]);
    const layer = new GaussianNoise(0.5);
    expect(values(layer.apply(x))).toEqual(values(x));
    const noise = values(layer.apply(x, { training: true }));
    expect(Math.abs(mean(noise))).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(variance(noise)) - 0.5)).toBeLessThan(0.02);
    expect(() => new GaussianNoise(2)).toThrow(/stddev must be a number in \[0, 1\], got 2/);
  });
});

describe('GaussianDropout', () => {
  it('passes the layer harness', () => {
    runLayerTest(GaussianDropout, { args: [0.2, { seed: 1 }], inputShape: [2, 3], expectedOutputShape: [2, 3] });
  });

  it('multiplies by noise of mean 1 and variance rate / (1 - rate) in training only', () => {
    const x = kiln.ones([20000]);
    const layer = new GaussianDropout(0.5);
    expect(values(layer.apply(x))).toEqual(values(x));
    const y = values(layer.apply(x, { training: true }));
    expect(Math.abs(mean(y) - 1)).toBeLessThan(0.04);
    expect(Math.abs(variance(y) - 1)).toBeLessThan(0.05);
  });
});

describe('ActivityRegularization', () => {
  it('passes the layer harness', () => {
    runLayerTest(ActivityRegularization, { args: [{ l1: 0.1, l2: 0.01 }], inputShape: [2, 3], expectedOutputShape: [2, 3] });
  });

  it('passes its input through and adds (l1 · sum|x| + l2 · sum x²) / batch size to the layer losses', () => {
    const layer = new ActivityRegularization({ l1: 0.5, l2: 0.25 });
    const x = kiln.tensor([[1, -2], [3, 0]]);
    expect(values(layer.apply(x))).toEqual([1, -2, 3, 0]);
    expect(layer.losses).toHaveLength(1);
    // divided by the batch of 2, as Keras makes the strength independent of the batch size
    expect(layer.losses[0].dataSync()[0]).toBeCloseTo((0.5 * 6 + 0.25 * 14) / 2);
    expect(() => new ActivityRegularization({ l1: -1 })).toThrow(/l1 must be a finite number >= 0, got -1/);
  });
});
