/**
 * Seeded random numbers: the same seed gives the same draws (globally with setSeed and per call
 * with `seed`), and the draws have the distribution they claim, within bounds that a correct
 * generator fails with probability far below 1e-6.
 */
import { expect } from 'vitest';
import * as kiln from '../../index.js';
import { check, describeBackends } from './harness.js';

const { random } = kiln;

async function values(t: kiln.Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

function stats(v: number[]): { mean: number; std: number; min: number; max: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return { mean, std, min: Math.min(...v), max: Math.max(...v) };
}

const N = 10_000;

/** Each kind of draw, made twice after the same setSeed. */
const DRAWS: [string, () => kiln.Tensor][] = [
  ['normal', () => random.normal([50])],
  ['uniform', () => random.uniform([50])],
  ['truncatedNormal', () => random.truncatedNormal([50])],
  ['randint', () => random.randint([50], 0, 1000)],
  ['shuffle', () => random.shuffle(kiln.range(50))],
];

describeBackends('random', () => {
  for (const [name, draw] of DRAWS) {
    check(`setSeed makes ${name} reproducible`, async () => {
      kiln.setSeed(1234);
      const a = await values(draw());
      const a2 = await values(draw());
      kiln.setSeed(1234);
      const b = await values(draw());
      const b2 = await values(draw());
      expect(b).toEqual(a);
      expect(b2).toEqual(a2);
      expect(a2).not.toEqual(a);
      kiln.setSeed(1235);
      expect(await values(draw())).not.toEqual(a);
    });
  }

  check('a per-call seed ignores the global stream', async () => {
    kiln.setSeed(1);
    const a = await values(random.normal([20], { seed: 42 }));
    random.uniform([7]).dispose();
    const b = await values(random.normal([20], { seed: 42 }));
    expect(b).toEqual(a);
    expect(await values(random.normal([20], { seed: 43 }))).not.toEqual(a);
  });

  check('normal: mean and stddev of 10k draws', async () => {
    kiln.setSeed(7);
    const s = stats(await values(random.normal([N])));
    // the sample mean has sd 1/sqrt(N) = 0.01, the sample std about 0.007: bounds at 5 sd
    expect(Math.abs(s.mean)).toBeLessThan(0.05);
    expect(Math.abs(s.std - 1)).toBeLessThan(0.035);
    const t = stats(await values(random.normal([N], { mean: 3, stddev: 2 })));
    expect(Math.abs(t.mean - 3)).toBeLessThan(0.1);
    expect(Math.abs(t.std - 2)).toBeLessThan(0.07);
  });

  check('normal: float64 and shapes', async () => {
    const t = random.normal([2, 3, 0]);
    expect([t.shape, t.dtype]).toEqual([[2, 3, 0], 'float32']);
    t.dispose();
    const d = random.normal([4], { dtype: 'float64', seed: 3 });
    expect(d.dtype).toBe('float64');
    expect((await values(d)).every(Number.isFinite)).toBe(true);
  }, { requires: ['float64'] });

  check('truncatedNormal stays within 2 stddev', async () => {
    kiln.setSeed(8);
    const v = await values(random.truncatedNormal([N], { mean: 1, stddev: 0.5 }));
    const s = stats(v);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThanOrEqual(2);
    expect(Math.abs(s.mean - 1)).toBeLessThan(0.03);
    // a normal truncated at ±2 sd has sd 0.8796 of the untruncated one
    expect(Math.abs(s.std - 0.5 * 0.8796)).toBeLessThan(0.02);
  });

  check('uniform stays in [minval, maxval) and fills it', async () => {
    kiln.setSeed(9);
    const v = await values(random.uniform([N], { minval: -2, maxval: 3 }));
    const s = stats(v);
    expect(s.min).toBeGreaterThanOrEqual(-2);
    expect(s.max).toBeLessThan(3);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(0.08);
    expect(Math.abs(s.std - 5 / Math.sqrt(12))).toBeLessThan(0.05);
    const deciles = new Array(10).fill(0);
    for (const x of v) deciles[Math.floor((x + 2) / 0.5)]++;
    for (const c of deciles) expect(Math.abs(c - N / 10)).toBeLessThan(150);
  });

  check('randint covers [minval, maxval) with int32', async () => {
    const t = random.randint([N], -3, 4, { seed: 5 });
    expect(t.dtype).toBe('int32');
    const v = await values(t);
    expect(new Set(v)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
  });

  check('shuffle is a permutation of rows', async () => {
    kiln.setSeed(10);
    const x = kiln.tensor(Array.from({ length: 20 }, (_, i) => [i, i * 10]));
    const s = random.shuffle(x);
    const rows = (await s.array()) as number[][];
    expect(rows.every(([a, b]) => b === a * 10)).toBe(true);
    expect(rows.map((r) => r[0]).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(rows.map((r) => r[0])).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
    const cols = random.shuffle(kiln.tensor([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32'), { axis: 1, seed: 2 });
    expect(cols.dtype).toBe('int32');
    expect(((await cols.array()) as number[][])[0].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    kiln.dispose([x, s, cols]);
  });
});
