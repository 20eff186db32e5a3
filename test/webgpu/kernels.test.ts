/**
 * The WebGPU kernels past the sizes the conformance suite uses, where their strategies change:
 * matmul tiles with ragged edges, batch broadcasting and transposes; reductions that take
 * several passes, the per-column path and the transposing path; long argmax rows; scatterAdd's
 * per-column path (more than 32 indices). Oracles are plain loops in this file, in float64.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { matmulTransposed } from '../../src/ops/matmul.js';
import { UNAVAILABLE, reportSkip } from './setup.js';

reportSkip('kernels.test.ts');

const { ops } = kiln;

const maxOf = (xs: readonly number[]) => xs.reduce((m, v) => Math.max(m, v), -Infinity);
const minOf = (xs: readonly number[]) => xs.reduce((m, v) => Math.min(m, v), Infinity);

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed * 12.9898 + i * 78.233) * 0.999));
}

function expectClose(got: ArrayLike<number>, want: readonly number[], rtol: number, atol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]);
    if (!ok) expect.fail(`element ${i}: got ${got[i]}, expected ${want[i]}`);
  }
}

describe.skipIf(UNAVAILABLE !== null)('webgpu kernels at larger sizes', () => {
  beforeAll(async () => {
    await kiln.setBackend('webgpu');
  });
  afterAll(async () => {
    await kiln.setBackend('reference');
  });

  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    it(`matmul [2, 1, 70, 33] x [3, 33, 65], ragged 64-tiles, batch broadcast, transposeA ${ta}, transposeB ${tb}`, async () => {
      const [m, k, n] = [70, 33, 65];
      const a = values(2 * m * k, 1);
      const b = values(3 * k * n, 2);
      const aAt = (batch: number, i: number, p: number) => a[batch * m * k + (ta ? p * m + i : i * k + p)];
      const bAt = (batch: number, p: number, j: number) => b[batch * k * n + (tb ? j * k + p : p * n + j)];
      const want: number[] = [];
      for (let x = 0; x < 2; x++) for (let y = 0; y < 3; y++) {
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += aAt(x, i, p) * bAt(y, p, j);
          want.push(s);
        }
      }
      // the kernel reads a transposed operand in place: a stored [.., k, m], b [.., n, k]
      const out = matmulTransposed(kiln.tensor(a, ta ? [2, 1, k, m] : [2, 1, m, k]), kiln.tensor(b, tb ? [3, n, k] : [3, k, n]), ta, tb);
      expect(out.shape).toEqual([2, 3, m, n]);
      expectClose(await out.data(), want, 1e-4, 1e-5);
    });
  }

  it('int32 matmul wraps as reference does', async () => {
    const a = kiln.tensor([65536, 3, -7, 2147483647], [2, 2], 'int32');
    const b = kiln.tensor([65536, 1, 2, 2], [2, 2], 'int32');
    expect(Array.from(await ops.matmul(a, b).data())).toEqual([(65536 * 65536 + 6) | 0, 65536 + 6, Math.imul(-7, 65536) + Math.imul(2147483647, 2) | 0, -7 + Math.imul(2147483647, 2) | 0]);
  });

  it('a sum of 300,007 elements takes two passes (74 chunks of 4096, then their partials)', async () => {
    const x = values(300_007, 3);
    const want = x.reduce((s, v) => s + v, 0);
    expectClose(await ops.sum(kiln.tensor(x)).data(), [want], 1e-4, 1e-3);
    const rows = [...x.slice(0, 150_000), ...x.slice(0, 150_000)];
    expectClose(await ops.max(kiln.tensor(rows, [2, 150_000]), 1).data(), [maxOf(x.slice(0, 150_000)), maxOf(x.slice(0, 150_000))], 0, 0);
  });

  it('NaN wins a long max and min, wherever it sits', async () => {
    const x = values(10_000, 4);
    x[7777] = NaN;
    expectClose(await ops.max(kiln.tensor(x)).data(), [NaN], 0, 0);
    expectClose(await ops.min(kiln.tensor(x, [100, 100]), 0).data(), Array.from({ length: 100 }, (_, j) => (j === 77 ? NaN : minOf(x.filter((_, i) => i % 100 === j)))), 0, 0);
  });

  it('reducing a middle axis: one thread per column, or a transpose when columns are few', async () => {
    for (const shape of [[3, 1000, 300], [2, 1000, 3]]) {
      const [o, r, c] = shape;
      const x = values(o * r * c, 5);
      const want: number[] = [];
      for (let i = 0; i < o; i++) for (let j = 0; j < c; j++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += x[(i * r + k) * c + j];
        want.push(s);
      }
      expectClose(await ops.sum(kiln.tensor(x, shape), 1).data(), want, 1e-4, 1e-4);
    }
    // axes 0 and 2 of [6, 5, 7]: not one run, so transposed to [5, 42] first
    const x = values(210, 6);
    const want = [0, 1, 2, 3, 4].map((j) => {
      let p = 1;
      for (let i = 0; i < 6; i++) for (let k = 0; k < 7; k++) p *= 1 + x[(i * 5 + j) * 7 + k] / 8;
      return p;
    });
    expectClose(await ops.prod(ops.add(ops.divide(kiln.tensor(x, [6, 5, 7]), 8), 1), [0, 2]).data(), want, 1e-4, 1e-6);
  });

  it('argmax and argmin of 100,000-long rows give the first extreme', async () => {
    const x = values(200_000, 7);
    x[150_000] = 5;
    x[160_000] = 5;
    x[20] = -5;
    const t = kiln.tensor(x, [2, 100_000]);
    expect(Array.from(await ops.argmax(t, 1).data())).toEqual([x.slice(0, 100_000).indexOf(maxOf(x.slice(0, 100_000))), 50_000]);
    expect(Array.from(await ops.argmin(t, 1).data())[0]).toBe(20);
  });

  it('scatterAdd with 100 indices (one thread per column) adds in index order, to the bit', async () => {
    const rows = 9;
    const inner = 5;
    const indices = Array.from({ length: 100 }, (_, t) => (t * 7) % rows);
    const updates = values(2 * 100 * inner, 8);
    const want = new Float32Array(2 * rows * inner);
    for (let o = 0; o < 2; o++) for (let t = 0; t < 100; t++) for (let i = 0; i < inner; i++) {
      want[(o * rows + indices[t]) * inner + i] += updates[(o * 100 + t) * inner + i];
    }
    // scatterAdd is take's gradient: the upstream gradient lands on the rows it was taken from
    const x = kiln.zeros([2, rows, inner]);
    const grad = kiln.grad((v: kiln.Tensor) => ops.sum(ops.multiply(ops.take(v, kiln.tensor(indices, [100], 'int32'), 1), kiln.tensor(updates, [2, 100, inner]))));
    expect(Array.from(await (grad(x) as kiln.Tensor).data())).toEqual(Array.from(want));
  });

  it('softmax, log-softmax and their gradients over 1000-long rows (one workgroup per row), NaN kept to its row', async () => {
    const [rows, n] = [3, 1000];
    const x = values(rows * n, 10).map((v) => v * 20);
    x[1500] = NaN;
    const dy = values(rows * n, 11);
    const row = (r: number) => x.slice(r * n, (r + 1) * n);
    const want = (log: boolean) => [0, 1, 2].flatMap((r) => {
      const v = row(r);
      const max = v.some(Number.isNaN) ? NaN : maxOf(v);
      const sum = v.reduce((s, e) => s + Math.exp(e - max), 0);
      return v.map((e) => (log ? e - max - Math.log(sum) : Math.exp(e - max) / sum));
    });
    for (const log of [false, true]) {
      const t = kiln.tensor(x, [rows, n]);
      const f = (v: kiln.Tensor) => (log ? ops.logSoftmax(v) : ops.softmax(v));
      expectClose(await f(t).data(), want(log), 1e-4, 1e-6);
      // d/dx Σ dy·f(x): y·(dy - Σ dy·y), or dy - exp(y)·Σ dy for log-softmax
      const y = want(log);
      const grad = [0, 1, 2].flatMap((r) => {
        const ys = y.slice(r * n, (r + 1) * n);
        const ds = dy.slice(r * n, (r + 1) * n);
        const s = ds.reduce((acc, d, j) => acc + (log ? d : d * ys[j]), 0);
        return ys.map((v, j) => (log ? ds[j] - Math.exp(v) * s : v * (ds[j] - s)));
      });
      const g = kiln.grad((v: kiln.Tensor) => ops.sum(ops.multiply(f(v), kiln.tensor(dy, [rows, n]))))(t) as kiln.Tensor;
      expectClose(await g.data(), grad, 1e-4, 1e-5);
    }
  });

  it('cumsum along a middle axis, reversed and exclusive', async () => {
    const x = values(4 * 300 * 3, 9);
    const got = await ops.cumsum(ops.flip(kiln.tensor(x, [4, 300, 3]), 1), 1).data();
    const want: number[] = new Array(x.length);
    for (let o = 0; o < 4; o++) for (let i = 0; i < 3; i++) {
      let s = 0;
      for (let k = 0; k < 300; k++) {
        s += x[(o * 300 + 299 - k) * 3 + i];
        want[(o * 300 + k) * 3 + i] = s;
      }
    }
    expectClose(got, want, 1e-4, 1e-4);
  });
});
