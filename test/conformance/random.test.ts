/**
 * Seeded random numbers: the same seed gives the same draws (globally with setSeed and per call
 * with `seed`), and the draws have the distribution they claim, within bounds that a correct
 * generator fails with probability far below 1e-6.
 */
import { expect, vi } from 'vitest';
import * as kiln from '../../index.js';
import type { DType, RandomDist } from '../../backends/contract.js';
import { findBackend } from '../../src/backends.js';
import { Generator } from '../../src/random.js';
import { check, close, describeBackends, group } from './harness.js';

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

// ---------------------------------------------------------------------------------------------
// An oracle for the random kernel, written from the Philox paper's definition with BigInt
// arithmetic (nothing shared with any backend), and held to Random123's published answers.

const MASK = 0xffffffffn;

/** Philox 4x32-10 of `counter` under `key`: ten rounds, the key bumped by the Weyl constants before each but the first. */
function philoxOracle(counter: readonly number[], key: readonly number[]): number[] {
  let c = counter.map(BigInt);
  let k = key.map(BigInt);
  for (let round = 0; round < 10; round++) {
    if (round > 0) k = [(k[0] + 0x9e3779b9n) & MASK, (k[1] + 0xbb67ae85n) & MASK];
    const p0 = 0xd2511f53n * c[0];
    const p1 = 0xcd9e8d57n * c[2];
    c = [((p1 >> 32n) ^ c[1] ^ k[0]) & MASK, p1 & MASK, ((p0 >> 32n) ^ c[3] ^ k[1]) & MASK, p0 & MASK];
  }
  return c.map(Number);
}

/** Random123's tests/kat_vectors, the three `philox4x32 10` lines: counter, key, the four words. */
const KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

/** The contract's element i from the four words of block floor(i / 4), in float64. */
function fromWords(dist: RandomDist, w: readonly number[], j: number): number {
  if (dist === 'uniform') return Math.floor(w[j] / 256) / 2 ** 24;
  const pair = j - (j % 2);
  const u1 = (Math.floor(w[pair] / 256) + 1) / 2 ** 24;
  const u2 = Math.floor(w[pair + 1] / 256) / 2 ** 24;
  const r = Math.sqrt(-2 * Math.log(u1));
  return j % 2 === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
}

function randomOracle(dist: RandomDist, key: readonly number[], size: number): number[] {
  const out: number[] = [];
  for (let block = 0; block * 4 < size; block++) {
    const w = philoxOracle([block, 0, 0, 0], key);
    for (let j = 0; j < 4 && out.length < size; j++) out.push(fromWords(dist, w, j));
  }
  return out;
}

/** The random kernel run directly on a buffer, read back. */
async function randomKernel(backend: string, dist: RandomDist, key: [number, number], size: number, dtype: DType = 'float32'): Promise<number[]> {
  const b = await findBackend(backend);
  const id = b.alloc(dtype, size);
  try {
    b.random(dist, key, { id, shape: [size], dtype });
    return Array.from(await b.read(id));
  } finally {
    b.free(id);
  }
}

/** Every element within tolerance of the float64 oracle (uniform is exact: 24 bits fit a float32). */
function expectOracle(got: readonly number[], want: readonly number[], dist: RandomDist, dtype: DType, what: string): void {
  expect(got.length, what).toBe(want.length);
  const [rtol, atol] = dist === 'uniform' ? [0, 0] : dtype === 'float32' ? [1e-5, 1e-5] : [1e-12, 1e-12];
  const bad = got.findIndex((g, i) => !close(g, dtype === 'float32' ? Math.fround(want[i]) : want[i], rtol, atol));
  expect(bad, `${what}: element ${bad} is ${got[bad]}, the oracle says ${want[bad]}`).toBe(-1);
}

/** Each kind of draw, made twice after the same setSeed. */
const DRAWS: [string, () => kiln.Tensor][] = [
  ['normal', () => random.normal([50])],
  ['uniform', () => random.uniform([50])],
  ['truncatedNormal', () => random.truncatedNormal([50])],
  ['randint', () => random.randint([50], 0, 1000)],
  ['shuffle', () => random.shuffle(kiln.range(50))],
];

describeBackends('random', (backend) => {
  group('Philox kernel', () => {
    check('the oracle gives Random123\'s known answers', () => {
      for (const [counter, key, words] of KAT) expect(philoxOracle(counter, key)).toEqual(words);
    });
    check('key [0, 0], block 0: the known answer\'s words', async () => {
      const words = KAT[0][2];
      expect(await randomKernel(backend, 'uniform', [0, 0], 4)).toEqual(words.map((w) => Math.floor(w / 256) / 2 ** 24));
      expectOracle(await randomKernel(backend, 'normal', [0, 0], 4), [0, 1, 2, 3].map((j) => fromWords('normal', words, j)), 'normal', 'float32', 'normal');
    });
    for (const dist of ['uniform', 'normal'] as const) {
      for (const dtype of ['float32', 'float64'] as const) {
        check(`${dist} ${dtype} matches the oracle, partial blocks included`, async () => {
          for (const key of [[0, 0], [1, 0], [0, 1], [0xffffffff, 0xffffffff], [0xa4093822, 0x299f31d0]] as [number, number][]) {
            for (const size of [1, 2, 3, 5, 6, 7, 4097]) {
              expectOracle(await randomKernel(backend, dist, key, size, dtype), randomOracle(dist, key, size), dist, dtype, `${dist} key ${key} size ${size}`);
            }
          }
        }, { requires: [dtype] });
      }
    }
    check('100,003 draws match the oracle, across threads', async () => {
      const key: [number, number] = [0x12345678, 0x9abcdef0];
      for (const dist of ['uniform', 'normal'] as const) expectOracle(await randomKernel(backend, dist, key, 100_003), randomOracle(dist, key, 100_003), dist, 'float32', dist);
    });
    check('a prefix of a longer draw is the shorter draw', async () => {
      const long = await randomKernel(backend, 'normal', [7, 9], 1001);
      expect(await randomKernel(backend, 'normal', [7, 9], 13)).toEqual(long.slice(0, 13));
    });
  });

  group('Philox statistics', () => {
    const M = 100_000;
    check('uniform: 24-bit values in [0, 1), mean 1/2, variance 1/12', async () => {
      const v = await randomKernel(backend, 'uniform', [2024, 11], M);
      expect(v.every((x) => x >= 0 && x < 1 && Number.isInteger(x * 2 ** 24))).toBe(true);
      const s = stats(v);
      // the sample mean has sd sqrt(1/12 / M) = 0.00091; the variance's sd is about 0.00024: bounds at 5 sd
      expect(Math.abs(s.mean - 0.5)).toBeLessThan(0.0046);
      expect(Math.abs(s.std ** 2 - 1 / 12)).toBeLessThan(0.0012);
    });
    check('normal: mean 0, variance 1, the tails of a normal, no correlation within a pair', async () => {
      const v = await randomKernel(backend, 'normal', [5, 77], M);
      const s = stats(v);
      // mean: sd 1/sqrt(M) = 0.0032; variance: sd sqrt(2/M) = 0.0045; bounds at 5 sd
      expect(Math.abs(s.mean)).toBeLessThan(0.016);
      expect(Math.abs(s.std ** 2 - 1)).toBeLessThan(0.023);
      // P(|z| > 2) = 0.0455 (count sd 66), P(|z| > 3) = 0.0027 (sd 16.4), P(|z| > 4) = 6.3e-5
      const beyond = (t: number) => v.filter((x) => Math.abs(x) > t).length;
      expect(Math.abs(beyond(2) - 0.0455 * M)).toBeLessThan(330);
      expect(Math.abs(beyond(3) - 0.0027 * M)).toBeLessThan(82);
      expect(beyond(4)).toBeLessThan(25);
      // the largest magnitude Box–Muller can give from 24 bits is sqrt(2·24·ln 2) = 5.77
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(48 * Math.LN2) + 1e-6);
      let cov = 0;
      for (let i = 0; i + 1 < M; i += 2) cov += v[i] * v[i + 1];
      // the cosine and sine of one pair are uncorrelated: sd of the mean product is 1/sqrt(M/2) = 0.0045
      expect(Math.abs(cov / (M / 2))).toBeLessThan(0.023);
    });
  });

  check('uniform and normal draw on the device: no upload', async () => {
    const b = await findBackend(backend);
    const write = vi.spyOn(b, 'write');
    try {
      const made = [random.uniform([100]), random.uniform([3], { minval: -1, maxval: 1 }), random.normal([100]), random.normal([5], { mean: 2, stddev: 3, seed: 4 })];
      expect(write).not.toHaveBeenCalled();
      kiln.dispose(made);
    } finally {
      write.mockRestore();
    }
  });

  check('a seed gives the Philox draws of its generator\'s key, through the ops\' scale and shift', async () => {
    // the key is the next two words of the seed's xoshiro stream (the Generator kiln seeds)
    expect(await values(random.uniform([9], { seed: 11 }))).toEqual(randomOracle('uniform', new Generator(11).key(), 9));
    // a mean and a stddev act on the kernel's draws as ops do (a float32 multiply, then an add)
    const z = await values(random.normal([6], { seed: 11 }));
    const scaled = await values(random.normal([6], { seed: 11, mean: 1, stddev: 3 }));
    expect(scaled).toEqual(z.map((x) => Math.fround(Math.fround(x * 3) + 1)));
    const u = await values(random.uniform([6], { seed: 11 }));
    const ranged = await values(random.uniform([6], { seed: 11, minval: -2, maxval: 2 }));
    expect(ranged).toEqual(u.map((x) => Math.fround(Math.fround(x * 4) - 2)));
  });

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
