/**
 * The native GEMM and the fused Dense past every blocking boundary, against a float64 product
 * written here. The driver blocks k by at most 384 floats (192 doubles), n by ~1 MiB B blocks
 * (~688–704 float32 columns at k = 384) and m by ~4 MiB A blocks (~2,736–2,744 rows), so the shapes
 * below have two or three blocks in every dimension and odd tails. Whole rows and whole columns
 * are checked (a row crosses every column block; a column crosses every row block), not every
 * entry: a float64 product of the whole result in JavaScript would take minutes.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Dense } from '../../layers/index.js';
import { matmulTransposed } from '../../src/ops/matmul.js';
import type { DType } from '../../backends/contract.js';

const available = kiln.listBackends().some((b) => b.name === 'native' && b.available);
if (!available) console.log(`test/native/gemm-blocks: skipped, the native backend is unavailable: ${kiln.listBackends().find((b) => b.name === 'native')?.reason}`);

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Rows and columns to check: both ends, and a spread between them that lands in every block. */
function picks(n: number, count: number): number[] {
  const out = new Set([0, 1, n - 2, n - 1]);
  for (let i = 1; i <= count; i++) out.add(Math.floor((i * (n - 1)) / (count + 1)) + (i % 3));
  return [...out].filter((i) => i >= 0 && i < n).sort((a, b) => a - b);
}

interface Product {
  /** The value native computed at (i, j). */
  got(i: number, j: number): number;
  /** The float64 value at (i, j) and the sum of the absolute terms (the error bound's scale). */
  want(i: number, j: number): [number, number];
}

/** Checks whole sampled rows and columns: |got - want| <= 2·k·eps·Σ|terms| (the classical bound). */
function expectProduct(p: Product, m: number, n: number, k: number, eps: number): void {
  const bad: string[] = [];
  const visit = (i: number, j: number) => {
    const [want, scale] = p.want(i, j);
    const got = p.got(i, j);
    if (!(Math.abs(got - want) <= 2 * k * eps * scale + 1e-30)) bad.push(`(${i}, ${j}): got ${got}, want ${want}`);
  };
  for (const i of picks(m, 12)) for (let j = 0; j < n; j++) visit(i, j);
  for (const j of picks(n, 12)) for (let i = 0; i < m; i++) visit(i, j);
  expect(bad.slice(0, 5), `${bad.length} wrong entries`).toEqual([]);
}

describe.runIf(available)('native GEMM past every blocking boundary', () => {
  const cases: [DType, number, number, number, boolean, boolean][] = [
    // float32: 3 k blocks (1,201 = 3 x 401 > 384), 3 column blocks, 2 row blocks
    ['float32', 2797, 1201, 1509, false, false],
    ['float32', 2797, 1201, 1509, true, true],
    ['float32', 1403, 777, 2051, false, true],
    ['float32', 1403, 777, 2051, true, false],
    // float64: k blocks of 192 doubles, so 391 is 3 blocks; n blocks ~ 704 at kc 131
    ['float64', 301, 391, 1459, false, false],
  ];
  for (const [dtype, m, k, n, tA, tB] of cases) {
    it(`${dtype} [${m}x${k}] @ [${k}x${n}] transposeA=${tA} transposeB=${tB}`, async () => {
      await kiln.setBackend('native');
      const a = values(m * k, m + k);
      const b = values(k * n, n + 3);
      const y = kiln.tidy(() => matmulTransposed(kiln.tensor(a, tA ? [k, m] : [m, k], dtype), kiln.tensor(b, tB ? [n, k] : [k, n], dtype), tA, tB));
      const out = await y.data();
      y.dispose();
      // the operands as native saw them: float32 rounds them first
      const [ar, br] = dtype === 'float32' ? [Float32Array.from(a), Float32Array.from(b)] : [a, b];
      const A = (i: number, p: number) => ar[tA ? p * m + i : i * k + p];
      const B = (p: number, j: number) => br[tB ? j * k + p : p * n + j];
      expectProduct({
        got: (i, j) => out[i * n + j],
        want: (i, j) => {
          let s = 0;
          let scale = 0;
          for (let p = 0; p < k; p++) {
            const t = A(i, p) * B(p, j);
            s += t;
            scale += Math.abs(t);
          }
          return [s, scale];
        },
      }, m, n, k, dtype === 'float32' ? 2 ** -24 : 2 ** -53);
    });
  }
});

describe.runIf(available)('native fused Dense past every blocking boundary', () => {
  const acts: Record<string, (z: number) => number> = {
    relu: (z) => Math.max(z, 0),
    sigmoid: (z) => 1 / (1 + Math.exp(-z)),
    tanh: Math.tanh,
    linear: (z) => z,
  };
  // 512 -> 2048 crosses the column blocks (the epilogue must add bias at the block's own
  // columns); 2,800 rows cross the row block.
  for (const [activation, m, k, n] of [['relu', 2800, 512, 2048], ['sigmoid', 97, 512, 2048], ['tanh', 2800, 200, 1500], ['linear', 33, 1025, 777]] as const) {
    it(`Dense(${k} -> ${n}, ${activation}) on ${m} rows, fused`, async () => {
      await kiln.setBackend('native');
      expect(kiln.fusedKernelsEnabled()).toBe(true);
      const x = Float32Array.from(values(m * k, 5));
      const w = Float32Array.from(values(k * n, 6)).map((v) => v / Math.sqrt(k));
      const bias = Float32Array.from(values(n, 7));
      const dense = new Dense(n, { activation });
      const out = await kiln.tidy(() => {
        dense.build([null, k]);
        dense.setWeights([kiln.tensor(w, [k, n]), kiln.tensor(bias, [n])]);
        return dense.apply(kiln.tensor(x, [m, k])) as kiln.Tensor;
      }).data();
      dense.dispose();
      const act = acts[activation];
      expectProduct({
        got: (i, j) => out[i * n + j],
        want: (i, j) => {
          let s = bias[j];
          let scale = Math.abs(bias[j]);
          for (let p = 0; p < k; p++) {
            const t = x[i * k + p] * w[p * n + j];
            s += t;
            scale += Math.abs(t);
          }
          // every activation here has slope <= 1, so the bound on z bounds act(z)
          return [act(s), scale];
        },
      }, m, n, k, 2 ** -24);
    });
  }
});
