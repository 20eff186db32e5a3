/**
 * The native GEMM against the reference backend on large random matrices: odd sizes that leave
 * partial tiles on every edge, every transpose combination, broadcast batches, float32 and
 * float64; and each micro-kernel family (AVX-512, AVX2, portable) this CPU can run.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { findBackend } from '../../src/backends.js';
import { matmulTransposed } from '../../src/ops/matmul.js';
import type { DType } from '../../backends/contract.js';
import type { NativeBackend } from '../../backends/native/backend.js';

const ADDON = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'backends', 'native', 'build', 'Release', 'kiln_native.node');
const available = kiln.listBackends().some((b) => b.name === 'native' && b.available);
if (!available) console.log(`test/native/gemm: skipped, the native backend is unavailable: ${kiln.listBackends().find((b) => b.name === 'native')?.reason}`);

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** op(a)·op(b) on a backend; shapes are the stored ones (transposed operands stored transposed). */
async function product(backend: string, a: number[], sa: number[], b: number[], sb: number[], tA: boolean, tB: boolean, dtype: DType) {
  await kiln.setBackend(backend);
  const y = kiln.tidy(() => matmulTransposed(kiln.tensor(a, sa, dtype), kiln.tensor(b, sb, dtype), tA, tB));
  const data = await y.data();
  y.dispose();
  return data;
}

/** |x - y| within k·eps of the sum of |terms| bound, taken as k·eps·max|y| for values in [-1, 1). */
function expectNear(x: ArrayLike<number>, y: ArrayLike<number>, k: number, eps: number) {
  expect(x.length).toBe(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  expect(worst).toBeLessThanOrEqual(2 * k * eps);
}

const SHAPES: [number, number, number][] = [
  [131, 257, 97],
  [300, 451, 203],
  [1, 777, 1],
  [513, 1, 33],
  [64, 64, 64],
  [15, 1000, 33],
];

describe.runIf(available)('native GEMM against reference', () => {
  for (const [m, k, n] of SHAPES) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
      it(`[${m}x${k}] @ [${k}x${n}] transposeA=${tA} transposeB=${tB}`, async () => {
        const a = values(m * k, m + k);
        const b = values(k * n, n + 7);
        const sa = tA ? [k, m] : [m, k];
        const sb = tB ? [n, k] : [k, n];
        const ref = await product('reference', a, sa, b, sb, tA, tB, 'float32');
        const nat = await product('native', a, sa, b, sb, tA, tB, 'float32');
        expectNear(nat, ref, k, 2 ** -24);
      });
    }
  }

  it('float64, odd sizes, both transposed', async () => {
    const [m, k, n] = [77, 301, 45];
    const a = values(m * k, 3);
    const b = values(k * n, 4);
    const ref = await product('reference', a, [k, m], b, [n, k], true, true, 'float64');
    const nat = await product('native', a, [k, m], b, [n, k], true, true, 'float64');
    expectNear(nat, ref, k, 2 ** -53);
  });

  it('broadcast batches', async () => {
    const sa = [3, 1, 37, 45];
    const sb = [4, 45, 29];
    const a = values(3 * 37 * 45, 8);
    const b = values(4 * 45 * 29, 9);
    const ref = await product('reference', a, sa, b, sb, false, false, 'float32');
    const nat = await product('native', a, sa, b, sb, false, false, 'float32');
    expectNear(nat, ref, 45, 2 ** -24);
  });

  it('a shared right operand folds the batch into rows (a Dense layer on a sequence)', async () => {
    const a = values(5 * 67 * 129, 10);
    const b = values(129 * 70, 11);
    const ref = await product('reference', a, [5, 67, 129], b, [129, 70], false, false, 'float32');
    const nat = await product('native', a, [5, 67, 129], b, [129, 70], false, false, 'float32');
    expectNear(nat, ref, 129, 2 ** -24);
  });

  it('int32 wraps exactly as the reference does', async () => {
    const a = values(40 * 50, 12).map((v) => Math.round(v * 70000));
    const b = values(50 * 30, 13).map((v) => Math.round(v * 70000));
    const ref = await product('reference', a, [40, 50], b, [50, 30], false, false, 'int32');
    const nat = await product('native', a, [40, 50], b, [50, 30], false, false, 'int32');
    expect(Array.from(nat)).toEqual(Array.from(ref));
  });

  it('every micro-kernel family the CPU has agrees with a float64 product', async () => {
    const b = (await findBackend('native')) as NativeBackend;
    const families = ['portable', 'avx2', 'avx512'];
    const best = families.indexOf(b.addon.isa());
    // The check runs in a child per family: the family is fixed when the addon loads.
    const check = `
      const addon = require(${JSON.stringify(ADDON)});
      const run = (m, k, n, tA, tB) => {
        const A = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
        const B = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11));
        const ids = [addon.alloc(0, m * k), addon.alloc(0, k * n), addon.alloc(0, m * n)];
        addon.write(ids[0], A); addon.write(ids[1], B);
        const sa = tA ? [k, m] : [m, k], sb = tB ? [n, k] : [k, n];
        addon.run(addon.kernels.indexOf('matmul'), Int32Array.from([3, ids[0], 2, ...sa, ids[1], 2, ...sb, ids[2], 2, m, n, 2, +tA, +tB, 0]), new Float64Array(0));
        const C = addon.read(ids[2]);
        let worst = 0;
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += A[tA ? p * m + i : i * k + p] * B[tB ? j * k + p : p * n + j];
          worst = Math.max(worst, Math.abs(C[i * n + j] - s) / k);
        }
        ids.forEach((id) => addon.free(id));
        return worst;
      };
      const errs = [[67, 129, 45, false, false], [200, 400, 150, true, false], [33, 500, 70, false, true], [100, 90, 110, true, true]].map((c) => run(...c));
      console.log(JSON.stringify({ isa: addon.isa(), worst: Math.max(...errs) }));`;
    for (const family of families.slice(0, best + 1)) {
      const r = spawnSync(process.execPath, ['-e', check], { env: { ...process.env, KILN_GEMM_ISA: family }, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const { isa, worst } = JSON.parse(r.stdout);
      expect(isa).toBe(family);
      expect(worst).toBeLessThan(2 ** -22);
    }
  });
});
