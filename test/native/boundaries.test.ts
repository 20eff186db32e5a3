/**
 * Native kernels at their internal boundaries, which the conformance suite's small cases do not
 * reach: work cut over threads (the one-row GEMM by columns, Dense's backward pass by column
 * blocks, a scalar operand of a large elementwise op), blocks (a reduction over leading axes in
 * blocks of 1,024 columns, the transpose's 32 x 32 tiles), special values of the vectorized math
 * (subnormal logs, exp past overflow), and the kernels' own index checks. The kernels are called
 * directly on the backend's buffers, with 4 threads so that the cuts happen on any machine, and
 * compared with float64 loops written here. Each case kills a mutant of scripts/mutate-native.mjs
 * that the rest of the suite let through (named in the test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { findBackend } from '../../src/backends.js';
import type { DType, TensorInfo, TypedArray } from '../../backends/contract.js';
import type { NativeBackend } from '../../backends/native/backend.js';

const available = kiln.listBackends().some((b) => b.name === 'native' && b.available);
if (!available) console.log(`test/native/boundaries: skipped, the native backend is unavailable: ${kiln.listBackends().find((b) => b.name === 'native')?.reason}`);

const EPS32 = 2 ** -24;

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

function typed(vs: ArrayLike<number>, dtype: DType): TypedArray {
  switch (dtype) {
    case 'float32': return Float32Array.from(vs);
    case 'float64': return Float64Array.from(vs);
    case 'int32': return Int32Array.from(vs);
    case 'bool': return Uint8Array.from(vs);
  }
}

describe.runIf(available)('native kernels at their internal boundaries', () => {
  let backend: NativeBackend;
  let threads = 1;
  const ids: number[] = [];

  beforeAll(async () => {
    backend = (await findBackend('native')) as NativeBackend;
    threads = backend.addon.numThreads();
    backend.addon.setNumThreads(4);
  });
  afterAll(() => {
    for (const id of ids) backend.free(id);
    backend.addon.setNumThreads(threads);
  });

  /** A buffer holding `vs` as `dtype` (freed after the file). */
  function input(vs: ArrayLike<number>, shape: number[], dtype: DType = 'float32'): TensorInfo {
    const id = backend.alloc(dtype, vs.length);
    ids.push(id);
    backend.write(id, typed(vs, dtype));
    return { id, shape, dtype };
  }

  function output(shape: number[], dtype: DType = 'float32'): TensorInfo {
    const size = shape.reduce((a, b) => a * b, 1);
    // NaN where the type has it: an element the kernel never writes cannot pass for a result
    return input(new Array<number>(size).fill(dtype === 'float32' || dtype === 'float64' ? NaN : -7), shape, dtype);
  }

  const read = async (t: TensorInfo) => Array.from(await backend.read(t.id));

  /** Every entry within 2·terms·eps of Σ|terms| (the classical bound for a sum in float32). */
  function expectSums(got: number[], want: number[], scale: number[], terms: number, what: string): void {
    const bad: string[] = [];
    for (let i = 0; i < want.length; i++) {
      if (!(Math.abs(got[i] - want[i]) <= 2 * terms * EPS32 * scale[i] + 1e-30)) bad.push(`[${i}] got ${got[i]}, want ${want[i]}`);
    }
    expect(bad.slice(0, 5), `${what}: ${bad.length} of ${want.length} wrong`).toEqual([]);
  }

  /** Exactly the wanted values; names the first misses (a diff of 100,000 elements takes minutes). */
  function expectSame(got: number[], want: number[], what: string): void {
    expect(got.length, `${what}: size`).toBe(want.length);
    const bad: string[] = [];
    for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) bad.push(`[${i}] got ${got[i]}, want ${want[i]}`);
    expect(bad.slice(0, 5), `${what}: ${bad.length} of ${want.length} wrong`).toEqual([]);
  }

  // mutant gemm-one-row-epilogue-column
  it('batch-1 Dense with k·n past the one-row threshold: each thread\'s columns get their own bias', async () => {
    // k·n = 512,000 > 131,072: the one-row product is cut by columns, 4 chunks of 256
    const [k, n] = [512, 1000];
    const x = Float32Array.from(values(k, 1));
    const w = Float32Array.from(values(k * n, 2)).map((v) => v / Math.sqrt(k));
    const bias = Float32Array.from(values(n, 3)).map((v) => v + 0.25 * Math.sign(v));
    for (const activation of ['linear', 'relu'] as const) {
      const out = output([1, n]);
      backend.fused.dense(input(x, [1, k]), input(w, [k, n]), input(bias, [n]), activation, out);
      const got = await read(out);
      const want: number[] = [];
      const scale: number[] = [];
      for (let j = 0; j < n; j++) {
        let s = bias[j];
        let a = Math.abs(bias[j]);
        for (let p = 0; p < k; p++) {
          s += x[p] * w[p * n + j];
          a += Math.abs(x[p] * w[p * n + j]);
        }
        want.push(activation === 'relu' ? Math.max(s, 0) : s);
        scale.push(a);
      }
      expectSums(got, want, scale, k, `dense ${activation}`);
    }
  });

  // mutant dense-grad-column-block
  it('Dense\'s backward pass cut into column blocks over threads: dz, dBias, dx and dw', async () => {
    // grain max(64, 32768 / 64) = 512 columns: 2,048 columns are 4 blocks
    const [m, k, n] = [64, 8, 2048];
    const dy = Float32Array.from(values(m * n, 4));
    // a relu output: zero where the pre-activation was negative
    const y = Float32Array.from(values(m * n, 5)).map((v) => Math.max(v, 0));
    const x = Float32Array.from(values(m * k, 6));
    const w = Float32Array.from(values(k * n, 7));
    const [dx, dw, dBias] = [output([m, k]), output([k, n]), output([n])];
    backend.fused.denseGrad(input(dy, [m, n]), input(y, [m, n]), input(x, [m, k]), input(w, [k, n]), 'relu', dx, dw, dBias);
    const dz = dy.map((d, i) => (y[i] > 0 ? d : 0));
    const sums = (len: number, count: number, term: (o: number, t: number) => number): [number[], number[]] => {
      const want = new Array<number>(len).fill(0);
      const scale = new Array<number>(len).fill(0);
      for (let o = 0; o < len; o++) {
        for (let t = 0; t < count; t++) {
          const v = term(o, t);
          want[o] += v;
          scale[o] += Math.abs(v);
        }
      }
      return [want, scale];
    };
    expectSums(await read(dBias), ...sums(n, m, (j, i) => dz[i * n + j]), m, 'dBias');
    expectSums(await read(dx), ...sums(m * k, n, (o, j) => dz[Math.floor(o / k) * n + j] * w[(o % k) * n + j]), n, 'dx');
    expectSums(await read(dw), ...sums(k * n, m, (o, i) => x[i * k + Math.floor(o / n)] * dz[i * n + (o % n)]), m, 'dw');
  });

  // mutant reduce-column-block-offset
  it('reductions over leading axes with rows longer than one block of 1,024 columns', async () => {
    for (const [shape, axes] of [[[3, 2500], [0]], [[4, 3, 2100], [1]], [[2, 2, 1030], [0, 1]]] as [number[], number[]][]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from(values(size, size));
      const cols = shape.at(-1)!;
      // the kept leading dims (before the reduced ones) times the columns
      const kept = shape.slice(0, -1).filter((_, d) => !axes.includes(d)).reduce((a, b) => a * b, 1);
      const reduced = size / (kept * cols);
      const stride = shape.slice(0, -1).map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      for (const op of ['sum', 'max'] as const) {
        const out = output(shape.filter((_, d) => !axes.includes(d)));
        backend.reduce(op, input(x, shape), axes, out);
        const got = await read(out);
        const want: number[] = [];
        for (let o = 0; o < kept * cols; o++) {
          const row = Math.floor(o / cols);
          let acc = op === 'sum' ? 0 : -Infinity;
          for (let r = 0; r < reduced; r++) {
            // the element at kept position `row`, reduced position `r` and column o % cols
            let at = o % cols;
            let [kr, rr] = [row, r];
            for (let d = shape.length - 2; d >= 0; d--) {
              if (axes.includes(d)) {
                at += (rr % shape[d]) * stride[d];
                rr = Math.floor(rr / shape[d]);
              } else {
                at += (kr % shape[d]) * stride[d];
                kr = Math.floor(kr / shape[d]);
              }
            }
            acc = op === 'sum' ? acc + x[at] : Math.max(acc, x[at]);
          }
          want.push(Math.fround(acc));
        }
        expectSame(got, want, `${op} of [${shape}] over ${axes}`);
      }
    }
  });

  // mutant transpose-tile-rows
  it('transposes copied in 32 x 32 tiles, with partial tiles on both edges', async () => {
    for (const [shape, perm, dtype] of [[[70, 45], [1, 0], 'float32'], [[3, 40, 50], [0, 2, 1], 'int32'], [[33, 65], [1, 0], 'float64']] as [number[], number[], DType][]) {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = Array.from({ length: size }, (_, i) => i);
      const outShape = perm.map((p) => shape[p]);
      const out = output(outShape, dtype);
      backend.transpose(input(x, shape, dtype), perm, out);
      const inStride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      const want = Array.from({ length: size }, (_, o) => {
        let at = 0;
        let rest = o;
        for (let d = outShape.length - 1; d >= 0; d--) {
          at += (rest % outShape[d]) * inStride[perm[d]];
          rest = Math.floor(rest / outShape[d]);
        }
        return x[at];
      });
      expectSame(await read(out), want, `transpose [${shape}] by [${perm}]`);
    }
  });

  // mutant binary-scalar-offset
  it('a size-1 left operand of an elementwise op large enough for threads', async () => {
    const n = 100_003;
    const x = Float32Array.from(values(n, 8));
    for (const shape of [[], [1, 1]]) {
      const out = output([n]);
      backend.binary('sub', input([2.5], shape), input(x, [n]), out);
      expectSame(await read(out), Array.from(x, (v) => Math.fround(2.5 - v)), `2.5 [${shape}] - x`);
    }
  });

  // mutant vlog-subnormal-exponent
  it('log of subnormal numbers', async () => {
    const cases: [DType, number[]][] = [
      ['float32', [2 ** -149, 1e-45, 3e-42, 1.17e-38, 2 ** -126]],
      ['float64', [2 ** -1074, 5e-324, 1e-310, 2.2e-308, 2 ** -1022]],
    ];
    for (const [dtype, xs] of cases) {
      const stored = Array.from(typed(xs, dtype));
      const out = output([xs.length], dtype);
      backend.unary('log', input(stored, [xs.length], dtype), out);
      const got = await read(out);
      // vmath.h's log is within 2 ulp; these are near -100 (float) and -700 (double)
      const ulp = dtype === 'float32' ? 2 ** -23 : 2 ** -52;
      stored.forEach((v, i) => expect(Math.abs(got[i] - Math.log(v)), `log(${v}) = ${got[i]}`).toBeLessThanOrEqual(4 * ulp * Math.abs(Math.log(v))));
    }
  });

  // mutant gather-bound
  it('gather and scatterAdd refuse an index outside the axis themselves (core checks first; this guards the buffers)', () => {
    const x = input(values(12, 9), [4, 3]);
    for (const bad of [4, -1]) {
      expect(() => backend.gather(x, input([0, bad], [2], 'int32'), 0, output([2, 3])), `gather index ${bad}`).toThrow(/out of range/);
      expect(() => backend.scatterAdd(input(values(6, 10), [2, 3]), input([bad, 1], [2], 'int32'), 0, output([4, 3])), `scatterAdd index ${bad}`).toThrow(/out of range/);
    }
    // the last index in range is fine
    const out = output([1, 3]);
    backend.gather(x, input([3], [1], 'int32'), 0, out);
    return read(out).then((got) => expectSame(got, Array.from(Float32Array.from(values(12, 9)).slice(9)), 'gather index 3'));
  });
});
