/**
 * The optional fused kernels (FusedKernels in the contract), called directly on each backend's
 * buffers and compared with float64 oracles written plainly below. A backend without a fused
 * kernel says so once and is not failed: core composes that kernel from the primitive ones
 * (fused-paths.test.ts holds the two paths to each other).
 *
 * Every case also checks that the kernel wrote every element of its outputs and nothing else:
 * inputs read back unchanged, outputs it was not given (denseGrad's null ones) and guard buffers
 * allocated after each buffer keep their sentinel, and no buffer is left allocated.
 */
import { expect } from 'vitest';
import * as kiln from '../../index.js';
import { findBackend } from '../../src/backends.js';
import {
  FUSED_ACTIVATIONS, FUSED_KERNELS, POOL_OPS, sizeOf,
  type Backend, type DType, type FusedActivation, type FusedKernels, type TensorInfo, type UpdateRule,
} from '../../backends/contract.js';
import { TOLERANCE, check, close, describeBackends, group, stored } from './harness.js';
import { convGradRef, convRef, outShapeOf, prod, type ConvGeometryRef } from './conv-oracle.js';
import { kerasGeometry, pooledShape, poolGradRef, poolRef, type PoolGeometryRef } from './pool-oracle.js';
import { attentionGradOracle, attentionOracle, type AttentionCase, type Broadcast } from './attention-oracle.js';
import { GATES, drawCase, mixedMask, oracle, type RnnCase } from '../recurrent-oracle.js';

const { ops } = kiln;

const BACKENDS = new Map<string, Backend>(
  await Promise.all(kiln.listBackends().filter((b) => b.available).map(async (b) => [b.name, await findBackend(b.name)] as const)),
);

const FLOATS: readonly ('float32' | 'float64')[] = ['float32', 'float64'];
/** Keras's crossentropy epsilon, the one losses pass. */
const EPSILON = 1e-7;

// ---------------------------------------------------------------------------------------------
// Inputs

/** Deterministic values in [lo, hi) (a linear congruential generator, so cases are repeatable). */
function values(count: number, seed: number, lo = -1, hi = 1): number[] {
  let s = (seed * 2654435761 + 1) >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

const storedAll = (vs: readonly number[], dtype: DType) => vs.map((v) => stored(v, dtype));

// ---------------------------------------------------------------------------------------------
// Buffers, and what a kernel may touch

/** A value no case produces, left in outputs before the call to show which elements were written. */
const SENTINEL = 8191.75;

/** The buffers of one case, and the checks that the kernel stayed inside its outputs. */
class Buffers {
  private readonly all: number[] = [];
  private readonly inputs: { info: TensorInfo; values: readonly number[] }[] = [];
  private readonly outputs: { info: TensorInfo; wanted: boolean }[] = [];
  /** A small buffer allocated right after each one, where an overrun past its end could land. */
  private readonly guards: { guard: TensorInfo; after: number }[] = [];

  constructor(readonly backend: Backend) {}

  /** An input buffer holding `vs` (already in the dtype's precision). */
  input(vs: readonly number[], shape: readonly number[], dtype: DType): TensorInfo {
    const info = this.alloc(vs, shape, dtype);
    this.inputs.push({ info, values: vs });
    return info;
  }

  /** An output buffer filled with the sentinel; `wanted` false for one the kernel is not given. */
  output(shape: readonly number[], dtype: DType, wanted = true): TensorInfo {
    const info = this.alloc(new Array<number>(sizeOf(shape)).fill(SENTINEL), shape, dtype);
    this.outputs.push({ info, wanted });
    return info;
  }

  async read(info: TensorInfo): Promise<number[]> {
    return Array.from(await this.backend.read(info.id));
  }

  /** Checks inputs, unwanted outputs and guards, and that every wanted output element was written. */
  async expectContained(): Promise<void> {
    for (const { info, values: vs } of this.inputs) {
      expect(sameValues(await this.read(info), vs), `input buffer ${info.id} [${info.shape}] was changed`).toBe(true);
    }
    for (const { info, wanted } of this.outputs) {
      const got = await this.read(info);
      expect(got.length, `output buffer ${info.id} size`).toBe(sizeOf(info.shape));
      const left = got.filter((v) => v === SENTINEL).length;
      if (wanted) expect(left, `elements of output ${info.id} [${info.shape}] never written`).toBe(0);
      else expect(left, `an output not asked for (buffer ${info.id}) was written`).toBe(got.length);
    }
    for (const { guard, after } of this.guards) {
      const kept = (await this.read(guard)).every((v) => v === stored(SENTINEL, guard.dtype));
      expect(kept, `the guard buffer allocated after buffer ${after} was written`).toBe(true);
    }
  }

  free(): void {
    for (const id of this.all) this.backend.free(id);
  }

  private alloc(vs: readonly number[], shape: readonly number[], dtype: DType): TensorInfo {
    const id = this.backend.alloc(dtype, vs.length);
    this.all.push(id);
    this.backend.write(id, typed(vs, dtype));
    const guard = this.backend.alloc(dtype, 16);
    this.all.push(guard);
    this.backend.write(guard, typed(new Array<number>(16).fill(SENTINEL), dtype));
    this.guards.push({ guard: { id: guard, shape: [16], dtype }, after: id });
    return { id, shape, dtype };
  }
}

function typed(vs: readonly number[], dtype: DType) {
  switch (dtype) {
    case 'float32': return Float32Array.from(vs);
    case 'float64': return Float64Array.from(vs);
    case 'int32': return Int32Array.from(vs);
    // as a bool tensor stores them, so the guards' sentinel reads back as stored() gives it
    case 'bool': return Uint8Array.from(vs, (v) => stored(v, 'bool'));
  }
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i])));
}

/**
 * Runs one case with fresh buffers: `body` makes them, calls the kernel and compares; then the
 * containment checks, and the backend must hold as many buffers as before.
 */
async function withBuffers(backend: string, body: (io: Buffers) => Promise<void>): Promise<void> {
  const b = BACKENDS.get(backend)!;
  const before = b.memory().numBuffers;
  const io = new Buffers(b);
  try {
    await body(io);
    await io.expectContained();
  } finally {
    io.free();
  }
  expect(b.memory().numBuffers, 'buffers left allocated by the kernel').toBe(before);
}

function fusedOf(backend: string): Partial<FusedKernels> {
  return BACKENDS.get(backend)!.fused ?? {};
}

type Kind = 'elementwise' | 'reduction';

/** Elementwise comparison with the harness's tolerances (or `tol`), naming the first misses. */
function expectValues(actual: readonly number[], expected: readonly number[], dtype: DType, kind: Kind, what: string, tol = TOLERANCE[kind][dtype]): void {
  expect(actual.length, `${what}: size`).toBe(expected.length);
  const misses: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    if (!close(actual[i], expected[i], tol.rtol, tol.atol)) misses.push(`[${i}] expected ${expected[i]}, got ${actual[i]}`);
  }
  if (misses.length > 0) {
    throw new Error(`${what}: ${misses.length} of ${actual.length} values differ (rtol ${tol.rtol}, atol ${tol.atol}):\n  ${misses.slice(0, 6).join('\n  ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Oracles, in float64

const ACT: Record<FusedActivation, (z: number) => number> = {
  linear: (z) => z,
  relu: (z) => (z <= 0 ? 0 : z),
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  tanh: Math.tanh,
};

/** dy · act'(y) from the output y. */
const ACT_BACK: Record<FusedActivation, (dy: number, y: number) => number> = {
  linear: (dy) => dy,
  relu: (dy, y) => (y > 0 ? dy : 0),
  sigmoid: (dy, y) => dy * y * (1 - y),
  tanh: (dy, y) => dy * (1 - y * y),
};

/** a [m, k] · b [k, n], either operand read transposed. */
function matmulRef(a: readonly number[], b: readonly number[], m: number, k: number, n: number, ta = false, tb = false): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = s;
    }
  }
  return out;
}

function denseRef(x: number[], w: number[], bias: number[] | null, act: FusedActivation, m: number, k: number, n: number): number[] {
  return matmulRef(x, w, m, k, n).map((z, o) => ACT[act](bias ? z + bias[o % n] : z));
}

function denseGradRef(dy: number[], y: number[], x: number[], w: number[], act: FusedActivation, m: number, k: number, n: number) {
  const dz = dy.map((d, i) => ACT_BACK[act](d, y[i]));
  const dBias = Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m; i++) s += dz[i * n + j];
    return s;
  });
  return { dx: matmulRef(dz, w, m, n, k, false, true), dw: matmulRef(x, dz, k, m, n, true, false), dBias };
}

function softmaxRef(x: number[], n: number, log: boolean): number[] {
  const out: number[] = [];
  for (let o = 0; o < x.length; o += n) {
    const row = x.slice(o, o + n);
    const max = Math.max(...row);
    const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
    for (const v of row) out.push(log ? v - max - Math.log(sum) : Math.exp(v - max) / sum);
  }
  return out;
}

function softmaxGradRef(dy: number[], y: number[], n: number, log: boolean): number[] {
  const out: number[] = [];
  for (let o = 0; o < y.length; o += n) {
    let s = 0;
    for (let j = o; j < o + n; j++) s += log ? dy[j] : dy[j] * y[j];
    for (let j = o; j < o + n; j++) out.push(log ? dy[j] - Math.exp(y[j]) * s : y[j] * (dy[j] - s));
  }
  return out;
}

/** Crossentropy's inputs; labels are class indices when `sparse`, else rows like pred. */
interface CE {
  pred: number[];
  labels: number[];
  sparse: boolean;
  fromLogits: boolean;
  rows: number;
  n: number;
  /** The clip bounds as pred's dtype holds them. */
  lo: number;
  hi: number;
}

/** The label weights of row r, or null for an out-of-range class index. */
function weightsOf(c: CE, r: number): number[] | null {
  if (!c.sparse) return c.labels.slice(r * c.n, (r + 1) * c.n);
  const label = c.labels[r];
  if (!(label >= 0 && label < c.n)) return null;
  return Array.from({ length: c.n }, (_, j) => (j === label ? 1 : 0));
}

/** Per-row crossentropy, written out from the definition. */
function ceRef(c: CE): number[] {
  return Array.from({ length: c.rows }, (_, r) => {
    const t = weightsOf(c, r);
    if (!t) return NaN;
    const p = c.pred.slice(r * c.n, (r + 1) * c.n);
    const logP = c.fromLogits
      ? softmaxRef(p, c.n, true)
      : p.map((v) => Math.log(Math.min(Math.max(v / p.reduce((s, u) => s + u, 0), c.lo), c.hi)));
    // a class index picks its one log-probability; weights multiply each (0·-Infinity is NaN)
    return c.sparse ? -logP[c.labels[r]] : -t.reduce((s, tj, j) => s + tj * logP[j], 0);
  });
}

/**
 * crossEntropy's gradient, written out by hand. From probabilities, q = p / S, and the clip
 * minimum(maximum(q, lo), hi) passes its gradient where q >= lo (maximum's tie goes to its first
 * argument) and maximum(q, lo) <= hi (so does minimum's).
 */
function ceGradRef(c: CE, dy: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < c.rows; r++) {
    const t = weightsOf(c, r);
    if (!t) {
      out.push(...new Array<number>(c.n).fill(NaN));
      continue;
    }
    const p = c.pred.slice(r * c.n, (r + 1) * c.n);
    if (c.fromLogits) {
      const s = softmaxRef(p, c.n, false);
      const total = t.reduce((a, b) => a + b, 0);
      out.push(...s.map((sj, j) => dy[r] * (sj * total - t[j])));
      continue;
    }
    const S = p.reduce((a, b) => a + b, 0);
    const g = p.map((v, j) => {
      const q = v / S;
      const passes = q >= c.lo && Math.max(q, c.lo) <= c.hi ? 1 : 0;
      return ((-dy[r] * t[j]) / Math.min(Math.max(q, c.lo), c.hi)) * passes;
    });
    const gp = g.reduce((s, gj, j) => s + gj * p[j], 0);
    out.push(...g.map((gj) => gj / S - gp / (S * S)));
  }
  return out;
}

/** Σ_r dy_r · crossentropy_r by float64 central differences of the oracle. */
function ceGradFiniteDifferences(c: CE, dy: number[]): number[] {
  const loss = (pred: number[]) => ceRef({ ...c, pred }).reduce((s, v, r) => s + dy[r] * v, 0);
  return c.pred.map((v, i) => {
    const h = 1e-6 * Math.max(1, Math.abs(v));
    const plus = c.pred.slice();
    const minus = c.pred.slice();
    plus[i] = v + h;
    minus[i] = v - h;
    // the step actually taken: v ± h rounds, by a large part of h when |v| is large
    return (loss(plus) - loss(minus)) / (plus[i] - minus[i]);
  });
}

/** One optimizer step by the formulas in the contract's UpdateRule comment: [w', ...slots']. */
function updateRef(rule: UpdateRule, hyper: readonly number[], w: number[], g: number[], slots: number[][]): number[][] {
  const each = (f: (i: number) => number[]) => {
    const rows = w.map((_, i) => f(i));
    return rows[0].map((_, k) => rows.map((row) => row[k]));
  };
  switch (rule) {
    case 'sgd': {
      const [lr, momentum, nesterov] = hyper;
      if (momentum === 0) return each((i) => [w[i] - lr * g[i]]);
      return each((i) => {
        const m = momentum * slots[0][i] - lr * g[i];
        return [nesterov ? w[i] + momentum * m - lr * g[i] : w[i] + m, m];
      });
    }
    case 'adam': {
      const [alpha, beta1, beta2, epsilon] = hyper;
      const amsgrad = slots.length === 3;
      return each((i) => {
        const m = slots[0][i] + (g[i] - slots[0][i]) * (1 - beta1);
        const v = slots[1][i] + (g[i] * g[i] - slots[1][i]) * (1 - beta2);
        const vHat = amsgrad ? Math.max(slots[2][i], v) : v;
        const w1 = w[i] - (alpha * m) / (Math.sqrt(vHat) + epsilon);
        return amsgrad ? [w1, m, v, vHat] : [w1, m, v];
      });
    }
    case 'rmsprop': {
      const [lr, rho, momentum, epsilon, centered] = hyper;
      return each((i) => {
        const vel = rho * slots[0][i] + (1 - rho) * g[i] * g[i];
        const avg = centered ? rho * slots[slots.length - 1][i] + (1 - rho) * g[i] : 0;
        const inc = (lr * g[i]) / Math.sqrt((centered ? vel - avg * avg : vel) + epsilon);
        const mom = momentum > 0 ? momentum * slots[1][i] + inc : 0;
        return [momentum > 0 ? w[i] - mom : w[i] - inc, vel, ...(momentum > 0 ? [mom] : []), ...(centered ? [avg] : [])];
      });
    }
    case 'adagrad': {
      const [lr, epsilon] = hyper;
      return each((i) => {
        const acc = slots[0][i] + g[i] * g[i];
        return [w[i] - (lr * g[i]) / Math.sqrt(acc + epsilon), acc];
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The cases

/** [m, k, n]: batch 1, sizes below, at and across 4- and 8-wide tile edges. */
const DENSE_SHAPES: readonly [number, number, number][] = [[1, 7, 3], [1, 65, 33], [5, 7, 3], [8, 16, 8], [33, 65, 17]];
const GRAD_SHAPES: readonly [number, number, number][] = [[1, 7, 3], [5, 7, 3], [33, 65, 17]];

/** A dense layer's inputs in `dtype`, and its output y as the oracle computes it, stored. */
function denseCase(dtype: DType, act: FusedActivation, m: number, k: number, n: number, seed: number) {
  const x = storedAll(values(m * k, seed), dtype);
  const w = storedAll(values(k * n, seed + 1, -0.5, 0.5), dtype);
  const bias = storedAll(values(n, seed + 2), dtype);
  return { x, w, bias, y: storedAll(denseRef(x, w, bias, act, m, k, n), dtype) };
}

function denseCases(backend: string): void {
  const dense = () => fusedOf(backend).dense!;
  const run = (dtype: DType, x: number[], w: number[], bias: number[] | null, act: FusedActivation, m: number, k: number, n: number, kind: Kind = 'reduction') =>
    withBuffers(backend, async (io) => {
      const out = io.output([m, n], dtype);
      dense()(io.input(x, [m, k], dtype), io.input(w, [k, n], dtype), bias && io.input(bias, [n], dtype), act, out);
      expectValues(await io.read(out), denseRef(x, w, bias, act, m, k, n), dtype, kind, `dense ${act}`);
    });
  for (const dtype of FLOATS) {
    for (const act of FUSED_ACTIVATIONS) {
      for (const withBias of [true, false]) {
        for (const [m, k, n] of DENSE_SHAPES) {
          check(`${dtype} ${act} ${withBias ? 'bias' : 'no bias'} ${m}x${k}x${n}`, () => {
            const { x, w, bias } = denseCase(dtype, act, m, k, n, m + k + n);
            return run(dtype, x, w, withBias ? bias : null, act, m, k, n);
          }, { requires: [dtype] });
        }
      }
    }
  }
  check('float32 relu bias 128x784x256', () => {
    const { x, w, bias } = denseCase('float32', 'relu', 128, 784, 256, 3);
    return run('float32', x, w, bias, 'relu', 128, 784, 256);
  });
  check('relu keeps NaN', () => run('float32', [NaN, 1, -1, 2], [1, 1], null, 'relu', 2, 2, 1));
  check('sigmoid of large |z| does not overflow', () => run('float32', [1000, -1000, 0], [1], null, 'sigmoid', 3, 1, 1, 'elementwise'));
}

/** Which of dx, dw, dBias a case asks for. */
const WANTS: readonly { name: string; dx: boolean; dw: boolean; dBias: boolean }[] = [
  { name: 'all outputs', dx: true, dw: true, dBias: true },
  { name: 'dx only', dx: true, dw: false, dBias: false },
  { name: 'dw and dBias', dx: false, dw: true, dBias: true },
  { name: 'dBias only', dx: false, dw: false, dBias: true },
];

function denseGradCases(backend: string): void {
  const cases: { shape: [number, number, number]; wants: (typeof WANTS)[number] }[] = [
    ...GRAD_SHAPES.map((shape) => ({ shape, wants: WANTS[0] })),
    ...WANTS.slice(1).map((wants) => ({ shape: [5, 7, 3] as [number, number, number], wants })),
  ];
  for (const dtype of FLOATS) {
    for (const act of FUSED_ACTIVATIONS) {
      for (const { shape: [m, k, n], wants } of cases) {
        check(`${dtype} ${act} ${m}x${k}x${n} ${wants.name}`, () => withBuffers(backend, async (io) => {
          const { x, w, y } = denseCase(dtype, act, m, k, n, 2 * m + k);
          const dy = storedAll(values(m * n, m * n), dtype);
          const dx = io.output([m, k], dtype, wants.dx);
          const dw = io.output([k, n], dtype, wants.dw);
          const dBias = io.output([n], dtype, wants.dBias);
          fusedOf(backend).denseGrad!(
            io.input(dy, [m, n], dtype), io.input(y, [m, n], dtype), io.input(x, [m, k], dtype), io.input(w, [k, n], dtype), act,
            wants.dx ? dx : null, wants.dw ? dw : null, wants.dBias ? dBias : null,
          );
          const want = denseGradRef(dy, y, x, w, act, m, k, n);
          if (wants.dx) expectValues(await io.read(dx), want.dx, dtype, 'reduction', 'dx');
          if (wants.dw) expectValues(await io.read(dw), want.dw, dtype, 'reduction', 'dw');
          if (wants.dBias) expectValues(await io.read(dBias), want.dBias, dtype, 'reduction', 'dBias');
        }), { requires: [dtype] });
      }
    }
  }
}

/** Softmax inputs: [rows, n] values, random and special. */
const SOFTMAX_INPUTS: readonly { name: string; x: number[]; n: number }[] = [
  { name: '4x10', x: values(40, 1, -3, 3), n: 10 },
  { name: '3x33', x: values(99, 2, -3, 3), n: 33 },
  { name: 'one class', x: [2.5, -1], n: 1 },
  { name: 'large logits', x: [1000, 1000, -1000, 1000, 1000, 999], n: 2 },
  { name: '-Infinity', x: [-Infinity, 0, 1, 1000, 999, -Infinity], n: 3 },
];

function softmaxCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const log of [false, true]) {
      for (const { name, x: raw, n } of SOFTMAX_INPUTS) {
        check(`${dtype} ${log ? 'log-softmax' : 'softmax'} ${name}`, () => withBuffers(backend, async (io) => {
          const x = storedAll(raw, dtype);
          const out = io.output([x.length / n, n], dtype);
          fusedOf(backend).softmax!(io.input(x, [x.length / n, n], dtype), log, out);
          expectValues(await io.read(out), softmaxRef(x, n, log), dtype, 'elementwise', 'softmax');
        }), { requires: [dtype] });
      }
    }
  }
}

function softmaxGradCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const log of [false, true]) {
      for (const { name, x: raw, n } of SOFTMAX_INPUTS.slice(0, 3)) {
        check(`${dtype} ${log ? 'log-softmax' : 'softmax'} ${name}`, () => withBuffers(backend, async (io) => {
          const shape = [raw.length / n, n];
          const y = storedAll(softmaxRef(storedAll(raw, dtype), n, log), dtype);
          const dy = storedAll(values(raw.length, n, -2, 2), dtype);
          const out = io.output(shape, dtype);
          fusedOf(backend).softmaxGrad!(io.input(dy, shape, dtype), io.input(y, shape, dtype), log, out);
          expectValues(await io.read(out), softmaxGradRef(dy, y, n, log), dtype, 'reduction', 'softmaxGrad');
        }), { requires: [dtype] });
      }
    }
  }
}

/**
 * A crossentropy case in `dtype`: logits in [-3, 3] or unnormalized probabilities in
 * [0.05, 1.05]; labels as class indices or as rows of weights in [0, 1) that need not sum to 1
 * (so that the gradient's Σt shows).
 */
function ceCase(dtype: DType, rows: number, n: number, sparse: boolean, fromLogits: boolean, seed: number): CE {
  const pred = storedAll(fromLogits ? values(rows * n, seed, -3, 3) : values(rows * n, seed, 0.05, 1.05), dtype);
  const labels = sparse
    ? Array.from({ length: rows }, (_, r) => (r * 7 + seed) % n)
    : storedAll(values(rows * n, seed + 1, 0, 1), dtype);
  return { pred, labels, sparse, fromLogits, rows, n, lo: stored(EPSILON, dtype), hi: stored(1 - EPSILON, dtype) };
}

/**
 * Probability rows at the clip's edges: q exactly ε (kept: maximum's tie passes the gradient),
 * exactly 1 - ε (kept: so does minimum's), below ε and above 1 - ε (clipped). The first row is
 * built to sum to exactly 1, so that q = p in every precision.
 */
function clipCase(dtype: DType, sparse: boolean): CE {
  const lo = stored(EPSILON, dtype);
  const hi = stored(1 - EPSILON, dtype);
  const rest = Math.max(0, 1 - hi - lo);
  if (lo + hi + rest !== 1) throw new Error(`the tie row [${lo}, ${hi}, ${rest}] does not sum to 1 in ${dtype}`);
  const pred = [lo, hi, rest, 0.5, 1e-9, 0.5, 1, 0, 1e-9].map((v) => stored(v, dtype));
  const labels = sparse ? [0, 1, 0] : storedAll([0.25, 0.5, 0.25, 0.5, 0.25, 0.25, 0.3, 0.3, 0.4], dtype);
  return { pred, labels, sparse, fromLogits: false, rows: 3, n: 3, lo, hi };
}

/** Special cases, each for both dtypes. */
const CE_SPECIAL: readonly { name: string; make(dtype: DType): CE; smooth: boolean }[] = [
  {
    name: 'logits out-of-range class index',
    make: (dt) => ({ ...ceCase(dt, 4, 5, true, true, 3), labels: [-1, 5, 2, 1000] }),
    smooth: false,
  },
  {
    name: 'probabilities out-of-range class index',
    make: (dt) => ({ ...ceCase(dt, 4, 5, true, false, 3), labels: [1, -3, 5, 4] }),
    smooth: false,
  },
  { name: 'probabilities at and past the clip bounds, class index', make: (dt) => clipCase(dt, true), smooth: false },
  { name: 'probabilities at and past the clip bounds, label rows', make: (dt) => clipCase(dt, false), smooth: false },
  {
    name: 'large logits',
    make: (dt) => ({ ...ceCase(dt, 3, 3, true, true, 0), pred: [1000, -1000, 0, 1000, 1000, -1000, -1000, 999, 1000], labels: [0, 1, 1] }),
    smooth: true,
  },
  {
    name: '-Infinity logits, class index',
    make: (dt) => ({ ...ceCase(dt, 2, 3, true, true, 0), pred: [-Infinity, 0, 1, 2, -Infinity, -Infinity], labels: [1, 0] }),
    smooth: false,
  },
];

/**
 * Every combination of logits or probabilities and class indices or label rows at three sizes,
 * then the special cases; `smooth` where finite differences apply.
 */
function ceCases(dtype: DType): { name: string; make(): CE; smooth: boolean }[] {
  const out: { name: string; make(): CE; smooth: boolean }[] = [];
  for (const fromLogits of [true, false]) {
    for (const sparse of [true, false]) {
      for (const [rows, n] of [[4, 5], [1, 3], [3, 33]]) {
        const name = `${fromLogits ? 'logits' : 'probabilities'} ${sparse ? 'class index' : 'label rows'} ${rows}x${n}`;
        out.push({ name, make: () => ceCase(dtype, rows, n, sparse, fromLogits, rows + n), smooth: true });
      }
    }
  }
  return [...out, ...CE_SPECIAL.map((s) => ({ name: s.name, make: () => s.make(dtype), smooth: s.smooth }))];
}

const labelsDType = (c: CE, dtype: DType): DType => (c.sparse ? 'int32' : dtype);
const labelsShape = (c: CE): number[] => (c.sparse ? [c.rows] : [c.rows, c.n]);

function crossEntropyCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const { name, make } of ceCases(dtype)) {
      check(`${dtype} ${name}`, () => withBuffers(backend, async (io) => {
        const c = make();
        const out = io.output([c.rows], dtype);
        fusedOf(backend).crossEntropy!(
          io.input(c.pred, [c.rows, c.n], dtype), io.input(c.labels, labelsShape(c), labelsDType(c, dtype)), c.fromLogits, EPSILON, out,
        );
        expectValues(await io.read(out), ceRef(c), dtype, 'reduction', 'crossEntropy');
      }), { requires: [dtype, 'int32'] });
    }
  }
}

/** Finite differences in float64 are good to about 1e-8 here; float32 results get the reduction tolerance. */
const FD_TOLERANCE: Record<'float32' | 'float64', { rtol: number; atol: number }> = {
  float32: TOLERANCE.reduction.float32,
  float64: { rtol: 1e-6, atol: 1e-7 },
};

function crossEntropyGradCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const { name, make, smooth } of ceCases(dtype)) {
      check(`${dtype} ${name}`, () => withBuffers(backend, async (io) => {
        const c = make();
        const dy = storedAll(values(c.rows, c.n, -1.5, 1.5), dtype);
        const out = io.output([c.rows, c.n], dtype);
        fusedOf(backend).crossEntropyGrad!(
          io.input(c.pred, [c.rows, c.n], dtype), io.input(c.labels, labelsShape(c), labelsDType(c, dtype)), c.fromLogits, EPSILON,
          io.input(dy, [c.rows], dtype), out,
        );
        const got = await io.read(out);
        expectValues(got, ceGradRef(c, dy), dtype, 'reduction', 'crossEntropyGrad against the oracle');
        // finite differences only where the loss is smooth around pred (no clip edge, no infinity)
        if (smooth) expectValues(got, ceGradFiniteDifferences(c, dy), dtype, 'reduction', 'crossEntropyGrad against finite differences', FD_TOLERANCE[dtype as 'float32' | 'float64']);
      }), { requires: [dtype, 'int32'] });
    }
  }
  // The oracle's tie rules are kiln's: its gradient at the clip's edges is the composed one.
  check('the oracle agrees with the composed gradient at the clip bounds', async () => {
    for (const sparse of [true, false]) {
      const c = clipCase('float64', sparse);
      const dy = [0.5, -1.25, 2];
      const t = sparse ? weightsFromIndices(c) : c.labels;
      const composed = kiln.tidy(() => kiln.grad((p) => {
        const q = ops.clip(ops.divide(p, ops.sum(p, -1, true)), EPSILON, 1 - EPSILON);
        const rowLoss = ops.neg(ops.sum(ops.multiply(kiln.tensor(t, [c.rows, c.n], 'float64'), ops.log(q)), -1));
        return ops.sum(ops.multiply(rowLoss, kiln.tensor(dy, [c.rows], 'float64')));
      })(kiln.tensor(c.pred, [c.rows, c.n], 'float64')) as kiln.Tensor);
      expectValues(Array.from(await composed.data()), ceGradRef(c, dy), 'float64', 'reduction', `composed gradient (${sparse ? 'class index' : 'label rows'})`);
      composed.dispose();
    }
  }, { requires: ['float64'] });
}

function weightsFromIndices(c: CE): number[] {
  return Array.from({ length: c.rows }, (_, r) => weightsOf(c, r)!).flat();
}

/** Every rule with every option that changes its slots or its formula. */
const UPDATES: readonly { name: string; rule: UpdateRule; hyper: number[]; slots: number }[] = [
  { name: 'sgd', rule: 'sgd', hyper: [0.1, 0, 0], slots: 0 },
  { name: 'sgd momentum', rule: 'sgd', hyper: [0.1, 0.9, 0], slots: 1 },
  { name: 'sgd nesterov', rule: 'sgd', hyper: [0.1, 0.9, 1], slots: 1 },
  // alpha = lr·sqrt(1 - beta2^t) / (1 - beta1^t) at t = 3
  { name: 'adam', rule: 'adam', hyper: [(0.01 * Math.sqrt(1 - 0.999 ** 3)) / (1 - 0.9 ** 3), 0.9, 0.999, 1e-7], slots: 2 },
  { name: 'adam amsgrad', rule: 'adam', hyper: [(0.01 * Math.sqrt(1 - 0.999 ** 3)) / (1 - 0.9 ** 3), 0.9, 0.999, 1e-7], slots: 3 },
  { name: 'rmsprop', rule: 'rmsprop', hyper: [0.01, 0.9, 0, 1e-7, 0], slots: 1 },
  { name: 'rmsprop momentum', rule: 'rmsprop', hyper: [0.01, 0.9, 0.5, 1e-7, 0], slots: 2 },
  { name: 'rmsprop centered', rule: 'rmsprop', hyper: [0.01, 0.9, 0, 1e-7, 1], slots: 2 },
  { name: 'rmsprop momentum centered', rule: 'rmsprop', hyper: [0.01, 0.9, 0.5, 1e-7, 1], slots: 3 },
  { name: 'adagrad', rule: 'adagrad', hyper: [0.1, 1e-7], slots: 1 },
];

/**
 * Slot values a real optimizer could hold: second moments and accumulators are positive, and
 * centered rmsprop's velocity is above its squared average.
 */
function slotValues(rule: UpdateRule, hyper: readonly number[], count: number, size: number, seed: number): number[][] {
  const slots = Array.from({ length: count }, (_, s) => values(size, seed + s, -1, 1));
  const nonNegative = rule === 'adagrad' || rule === 'rmsprop' ? [0] : rule === 'adam' ? [1, 2] : [];
  // kept from 0 so that float32's rounding of a small denominator does not swamp the tolerance
  for (const s of nonNegative) if (s < count) slots[s] = slots[s].map((v) => 0.1 + Math.abs(v));
  if (rule === 'rmsprop' && hyper[4]) slots[0] = slots[0].map((v, i) => v + slots[count - 1][i] ** 2);
  return slots;
}

function updateCases(backend: string): void {
  const size = 1031;
  for (const dtype of FLOATS) {
    for (const { name, rule, hyper, slots: count } of UPDATES) {
      check(`${dtype} ${name}`, () => withBuffers(backend, async (io) => {
        const w = storedAll(values(size, 11), dtype);
        const g = storedAll(values(size, 12), dtype);
        const slots = slotValues(rule, hyper, count, size, 13).map((s) => storedAll(s, dtype));
        const outs = Array.from({ length: count + 1 }, () => io.output([size], dtype));
        fusedOf(backend).applyUpdate!(
          rule, hyper, io.input(w, [size], dtype), io.input(g, [size], dtype), slots.map((s) => io.input(s, [size], dtype)), outs,
        );
        const want = updateRef(rule, hyper, w, g, slots);
        for (let k = 0; k < outs.length; k++) {
          expectValues(await io.read(outs[k]), want[k], dtype, 'elementwise', k === 0 ? "w'" : `slot ${k - 1}'`);
        }
      }), { requires: [dtype] });
    }
  }
}

/** Convolution geometries: 1 to 3 spatial axes, strides, dilation, groups, windows in the padding, GEMM-sized channels. */
const CONV_GEOMETRIES: readonly (ConvGeometryRef & { name: string })[] = [
  { name: '1D strides 2, pad 1', xShape: [2, 9, 3], wShape: [3, 3, 4], strides: [2], dilations: [1], padsBefore: [1], outSpatial: [5], groups: 1 },
  { name: '2D dilation [2, 1], 2 groups', xShape: [1, 7, 6, 4], wShape: [2, 3, 2, 6], strides: [1, 1], dilations: [2, 1], padsBefore: [0, 1], outSpatial: [5, 6], groups: 2 },
  { name: '2D one group per channel', xShape: [2, 5, 5, 8], wShape: [3, 3, 1, 16], strides: [1, 1], dilations: [1, 1], padsBefore: [1, 1], outSpatial: [5, 5], groups: 8 },
  { name: '3D strides [1, 2, 1]', xShape: [1, 3, 4, 3, 2], wShape: [2, 2, 2, 2, 3], strides: [1, 2, 1], dilations: [1, 1, 1], padsBefore: [0, 0, 1], outSpatial: [2, 2, 4], groups: 1 },
  { name: '1D a window wholly in the padding', xShape: [1, 2, 2], wShape: [2, 2, 1], strides: [1], dilations: [1], padsBefore: [3], outSpatial: [4], groups: 1 },
  { name: '2D 1x1, 65 channels to 33', xShape: [3, 4, 4, 65], wShape: [1, 1, 65, 33], strides: [1, 1], dilations: [1, 1], padsBefore: [0, 0], outSpatial: [4, 4], groups: 1 },
  { name: '2D 3x3 same, 16 channels to 32', xShape: [2, 8, 8, 16], wShape: [3, 3, 16, 32], strides: [1, 1], dilations: [1, 1], padsBefore: [1, 1], outSpatial: [8, 8], groups: 1 },
];

/** A convolution's inputs in `dtype`, and its output y as the oracle computes it, stored. */
function convCase(dtype: DType, act: FusedActivation, g: ConvGeometryRef, seed: number) {
  const x = storedAll(values(prod(g.xShape), seed), dtype);
  const w = storedAll(values(prod(g.wShape), seed + 1, -0.5, 0.5), dtype);
  const bias = storedAll(values(g.wShape[g.wShape.length - 1], seed + 2), dtype);
  return { x, w, bias, y: storedAll(convRef(x, w, bias, g).map(ACT[act]), dtype) };
}

/** The contract's geometry of an oracle case. */
const geometryOf = (g: ConvGeometryRef) => ({ strides: g.strides, dilations: g.dilations, padsBefore: g.padsBefore, groups: g.groups });

function convCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const act of FUSED_ACTIVATIONS) {
      for (const [i, g] of CONV_GEOMETRIES.entries()) {
        for (const withBias of i < 2 ? [true, false] : [true]) {
          check(`${dtype} ${act} ${withBias ? 'bias' : 'no bias'} ${g.name}`, () => withBuffers(backend, async (io) => {
            const { x, w, bias } = convCase(dtype, act, g, i + 1);
            const out = io.output(outShapeOf(g), dtype);
            fusedOf(backend).conv!(
              io.input(x, g.xShape, dtype), io.input(w, g.wShape, dtype), withBias ? io.input(bias, [bias.length], dtype) : null,
              geometryOf(g), act, out,
            );
            expectValues(await io.read(out), convRef(x, w, withBias ? bias : null, g).map(ACT[act]), dtype, 'reduction', `conv ${act}`);
          }), { requires: [dtype] });
        }
      }
    }
  }
  check('relu keeps NaN, and only where it is read', () => withBuffers(backend, async (io) => {
    const g = CONV_GEOMETRIES[0];
    const x = values(prod(g.xShape), 9).map((v, i) => (i === 4 ? NaN : v));
    const w = storedAll(values(prod(g.wShape), 10), 'float32');
    const out = io.output(outShapeOf(g), 'float32');
    fusedOf(backend).conv!(io.input(storedAll(x, 'float32'), g.xShape, 'float32'), io.input(w, g.wShape, 'float32'), null, geometryOf(g), 'relu', out);
    expectValues(await io.read(out), convRef(storedAll(x, 'float32'), w, null, g).map(ACT.relu), 'float32', 'reduction', 'conv relu');
  }));
}

function convGradCases(backend: string): void {
  const cases = [
    ...CONV_GEOMETRIES.map((g) => ({ g, wants: WANTS[0] })),
    ...WANTS.slice(1).map((wants) => ({ g: CONV_GEOMETRIES[1], wants })),
  ];
  for (const dtype of FLOATS) {
    for (const act of FUSED_ACTIVATIONS) {
      for (const [i, { g, wants }] of cases.entries()) {
        check(`${dtype} ${act} ${g.name} ${wants.name}`, () => withBuffers(backend, async (io) => {
          const { x, w, y } = convCase(dtype, act, g, 2 * i + 1);
          const outShape = outShapeOf(g);
          const dy = storedAll(values(y.length, y.length + i), dtype);
          const F = g.wShape[g.wShape.length - 1];
          const dx = io.output(g.xShape, dtype, wants.dx);
          const dw = io.output(g.wShape, dtype, wants.dw);
          const dBias = io.output([F], dtype, wants.dBias);
          fusedOf(backend).convGrad!(
            io.input(dy, outShape, dtype), io.input(y, outShape, dtype), io.input(x, g.xShape, dtype), io.input(w, g.wShape, dtype),
            geometryOf(g), act, wants.dx ? dx : null, wants.dw ? dw : null, wants.dBias ? dBias : null,
          );
          const want = convGradRef(dy.map((d, j) => ACT_BACK[act](d, y[j])), x, w, g);
          if (wants.dx) expectValues(await io.read(dx), want.dx, dtype, 'reduction', 'dx');
          if (wants.dw) expectValues(await io.read(dw), want.dw, dtype, 'reduction', 'dw');
          if (wants.dBias) expectValues(await io.read(dBias), want.dBias, dtype, 'reduction', 'dBias');
        }), { requires: [dtype] });
      }
    }
  }
}

/** Pooling inputs: 1 to 3 spatial axes, strides other than the window, padding at one end and at both, a window larger than the input. */
const POOL_INPUTS: readonly { name: string; shape: number[]; g: PoolGeometryRef; x?: number[] }[] = [
  { name: '1D same, window 3 stride 2', shape: [2, 7, 3], g: kerasGeometry([7], [3], [2], 'same') },
  { name: '1D same, window 5 over 3 steps', shape: [1, 3, 2], g: kerasGeometry([3], [5], [1], 'same') },
  { name: '2D same, window [2, 3] strides [2, 1]', shape: [2, 5, 6, 4], g: kerasGeometry([5, 6], [2, 3], [2, 1], 'same') },
  { name: '2D valid 2x2, 33 channels', shape: [3, 8, 8, 33], g: kerasGeometry([8, 8], [2, 2], [2, 2], 'valid') },
  { name: '3D valid, window [3, 2, 2] strides [1, 2, 1]', shape: [1, 4, 5, 3, 2], g: kerasGeometry([4, 5, 3], [3, 2, 2], [1, 2, 1], 'valid') },
  { name: '2D same 3x3 stride 1, ties', shape: [1, 4, 4, 2], g: kerasGeometry([4, 4], [3, 3], [1, 1], 'same'), x: values(32, 4).map((v) => Math.round(v)) },
  {
    name: '1D same, ±Infinity and NaN',
    shape: [1, 7, 1],
    g: kerasGeometry([7], [3], [1], 'same'),
    x: [-Infinity, -Infinity, 2, Infinity, -Infinity, NaN, 1],
  },
];

/** The contract's geometry of an oracle case. */
const poolGeometryOf = (g: PoolGeometryRef) => ({ window: g.window, strides: g.strides, padsBefore: g.padsBefore });

function poolCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const op of POOL_OPS) {
      for (const [i, { name, shape, g, x: given }] of POOL_INPUTS.entries()) {
        check(`${dtype} ${op} ${name}`, () => withBuffers(backend, async (io) => {
          const x = storedAll(given ?? values(sizeOf(shape), i + 1), dtype);
          const out = io.output(pooledShape(shape, g), dtype);
          fusedOf(backend).pool!(op, io.input(x, shape, dtype), poolGeometryOf(g), out);
          expectValues(await io.read(out), poolRef(op, x, shape, g), dtype, 'reduction', `pool ${op}`);
        }), { requires: [dtype] });
      }
    }
  }
}

function poolGradCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const op of POOL_OPS) {
      for (const [i, { name, shape, g, x: given }] of POOL_INPUTS.entries()) {
        check(`${dtype} ${op} ${name}`, () => withBuffers(backend, async (io) => {
          const x = storedAll(given ?? values(sizeOf(shape), i + 1), dtype);
          const outShape = pooledShape(shape, g);
          const y = storedAll(poolRef(op, x, shape, g), dtype);
          const dy = storedAll(values(y.length, y.length + i), dtype);
          const dx = io.output(shape, dtype);
          fusedOf(backend).poolGrad!(op, io.input(dy, outShape, dtype), io.input(x, shape, dtype), io.input(y, outShape, dtype), poolGeometryOf(g), dx);
          expectValues(await io.read(dx), poolGradRef(op, dy, x, shape, g), dtype, 'reduction', `poolGrad ${op}`);
        }), { requires: [dtype] });
      }
    }
  }
}

/** Normalization inputs [rows, C] (any leading shape): a constant channel, one row, a large mean, and one past the native threads' split. */
const NORM_INPUTS: readonly { name: string; shape: number[]; x?: (count: number) => number[] }[] = [
  { name: '2D [3, 5]', shape: [3, 5] },
  { name: '4D [2, 3, 4, 7]', shape: [2, 3, 4, 7] },
  { name: 'one row (variance 0)', shape: [1, 4] },
  { name: 'a constant channel', shape: [6, 3], x: (n) => values(n, 31).map((v, i) => (i % 3 === 1 ? 2.5 : v)) },
  { name: 'mean 1000, spread 0.5', shape: [8, 2], x: (n) => values(n, 32).map((v) => 1000 + v / 2) },
  { name: 'past the threads split [40, 30, 33]', shape: [40, 30, 33] },
];

/** Per-channel mean (stored in the dtype) and the variance around it, in float64: the contract's moments. */
function momentsRef(x: readonly number[], C: number, dtype: DType): { mean: number[]; variance: number[] } {
  const rows = x.length / C;
  const mean = Array.from({ length: C }, (_, c) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * C + c];
    return stored(s / rows, dtype);
  });
  const variance = mean.map((m, c) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += (x[r * C + c] - m) ** 2;
    return s / rows;
  });
  return { mean, variance };
}

function momentsCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const [i, { name, shape, x: given }] of NORM_INPUTS.entries()) {
      check(`${dtype} ${name}`, () => withBuffers(backend, async (io) => {
        const C = shape[shape.length - 1];
        const x = storedAll(given ? given(sizeOf(shape)) : values(sizeOf(shape), 40 + i), dtype);
        const out = io.output([2, C], dtype);
        fusedOf(backend).moments!(io.input(x, shape, dtype), out);
        const { mean, variance } = momentsRef(x, C, dtype);
        expectValues(await io.read(out), [...mean, ...variance], dtype, 'reduction', 'moments');
      }), { requires: [dtype] });
    }
  }
}

function momentsGradCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const [i, { name, shape, x: given }] of NORM_INPUTS.entries()) {
      check(`${dtype} ${name}`, () => withBuffers(backend, async (io) => {
        const C = shape[shape.length - 1];
        const rows = sizeOf(shape) / C;
        const x = storedAll(given ? given(sizeOf(shape)) : values(sizeOf(shape), 50 + i), dtype);
        const { mean, variance } = momentsRef(x, C, dtype);
        const y = storedAll([...mean, ...variance], dtype);
        const dy = storedAll(values(2 * C, 60 + i), dtype);
        const dx = io.output(shape, dtype);
        fusedOf(backend).momentsGrad!(io.input(dy, [2, C], dtype), io.input(y, [2, C], dtype), io.input(x, shape, dtype), dx);
        const want = x.map((v, j) => dy[j % C] / rows + (dy[C + (j % C)] * 2 * (v - y[j % C])) / rows);
        expectValues(await io.read(dx), want, dtype, 'reduction', 'momentsGrad dx');
      }), { requires: [dtype] });
    }
  }
}

/** Statistics, gamma and beta for a normalization case: variances >= 0, a zero one, a zero gamma. */
function normStatistics(C: number, seed: number, dtype: DType) {
  return {
    mean: storedAll(values(C, seed), dtype),
    variance: storedAll(values(C, seed + 1, 0, 2).map((v, c) => (c === 0 ? 0 : v)), dtype),
    gamma: storedAll(values(C, seed + 2, -2, 2).map((v, c) => (c === 1 ? 0 : v)), dtype),
    beta: storedAll(values(C, seed + 3), dtype),
  };
}

const AFFINES = [
  { name: 'gamma and beta', gamma: true, beta: true },
  { name: 'beta only', gamma: false, beta: true },
  { name: 'gamma only', gamma: true, beta: false },
  { name: 'neither', gamma: false, beta: false },
];

function batchNormCases(backend: string): void {
  const epsilon = 1e-3;
  for (const dtype of FLOATS) {
    for (const [i, { name, shape }] of NORM_INPUTS.entries()) {
      for (const affine of i < 2 ? AFFINES : AFFINES.slice(0, 1)) {
        check(`${dtype} ${name} ${affine.name}`, () => withBuffers(backend, async (io) => {
          const C = shape[shape.length - 1];
          const x = storedAll(values(sizeOf(shape), 70 + i, -3, 3), dtype);
          const st = normStatistics(C, 80 + i, dtype);
          const out = io.output(shape, dtype);
          fusedOf(backend).batchNorm!(
            io.input(x, shape, dtype), io.input(st.mean, [C], dtype), io.input(st.variance, [C], dtype),
            affine.gamma ? io.input(st.gamma, [C], dtype) : null, affine.beta ? io.input(st.beta, [C], dtype) : null, epsilon, out,
          );
          // the contract's rounding: inv, shift and x · inv each stored in the dtype
          const inv = st.variance.map((v, c) => stored(stored(1 / Math.sqrt(stored(v + epsilon, dtype)), dtype) * (affine.gamma ? st.gamma[c] : 1), dtype));
          const shift = inv.map((s, c) => stored(stored(-st.mean[c] * s, dtype) + (affine.beta ? st.beta[c] : 0), dtype));
          expectValues(await io.read(out), x.map((v, j) => stored(v * inv[j % C], dtype) + shift[j % C]), dtype, 'elementwise', 'batchNorm');
        }), { requires: [dtype] });
      }
    }
  }
}

const NORM_WANTS = [
  { name: 'all gradients', dx: true, stats: true, affine: true },
  { name: 'dx only', dx: true, stats: false, affine: false },
  { name: 'dGamma and dBeta only', dx: false, stats: false, affine: true },
];

function batchNormGradCases(backend: string): void {
  const epsilon = 1e-3;
  for (const dtype of FLOATS) {
    for (const [i, { name, shape }] of NORM_INPUTS.entries()) {
      for (const wants of i === 0 ? NORM_WANTS : NORM_WANTS.slice(0, 1)) {
        for (const withGamma of i === 0 ? [true, false] : [true]) {
          check(`${dtype} ${name} ${wants.name}${withGamma ? '' : ', no gamma'}`, () => withBuffers(backend, async (io) => {
            const C = shape[shape.length - 1];
            const x = storedAll(values(sizeOf(shape), 90 + i, -3, 3), dtype);
            const dy = storedAll(values(sizeOf(shape), 100 + i), dtype);
            const st = normStatistics(C, 110 + i, dtype);
            const dx = io.output(shape, dtype, wants.dx);
            const [dMean, dVariance] = [io.output([C], dtype, wants.stats), io.output([C], dtype, wants.stats)];
            const [dGamma, dBeta] = [io.output([C], dtype, wants.affine && withGamma), io.output([C], dtype, wants.affine)];
            fusedOf(backend).batchNormGrad!(
              io.input(dy, shape, dtype), io.input(x, shape, dtype), io.input(st.mean, [C], dtype), io.input(st.variance, [C], dtype),
              withGamma ? io.input(st.gamma, [C], dtype) : null, epsilon,
              wants.dx ? dx : null, wants.stats ? dMean : null, wants.stats ? dVariance : null,
              wants.affine && withGamma ? dGamma : null, wants.affine ? dBeta : null,
            );
            // out = (x - mean) · r · gamma + beta, r = (variance + epsilon)^-½, differentiated by hand
            const r = st.variance.map((v) => 1 / Math.sqrt(v + epsilon));
            const g = (c: number) => (withGamma ? st.gamma[c] : 1);
            const sumDy = new Array<number>(C).fill(0);
            const sumCentred = new Array<number>(C).fill(0);
            dy.forEach((d, j) => {
              sumDy[j % C] += d;
              sumCentred[j % C] += d * (x[j] - st.mean[j % C]);
            });
            if (wants.dx) expectValues(await io.read(dx), dy.map((d, j) => d * r[j % C] * g(j % C)), dtype, 'reduction', 'dx');
            if (wants.stats) {
              expectValues(await io.read(dMean), sumDy.map((s, c) => -s * r[c] * g(c)), dtype, 'reduction', 'dMean');
              expectValues(await io.read(dVariance), sumCentred.map((s, c) => -0.5 * s * g(c) * r[c] ** 3), dtype, 'reduction', 'dVariance');
            }
            if (wants.affine && withGamma) expectValues(await io.read(dGamma), sumCentred.map((s, c) => s * r[c]), dtype, 'reduction', 'dGamma');
            if (wants.affine) expectValues(await io.read(dBeta), sumDy, dtype, 'reduction', 'dBeta');
          }), { requires: [dtype] });
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// layerNorm, layerNormGrad: over the last axis of [rows, C]

/**
 * Layer normalization inputs: C of 1 (every row constant), C past no SIMD width, a constant row,
 * a large mean (values 1000 + k/64, whose sums are exact in any order), NaN and Infinity, and
 * one past the native kernels' thread split (69,300 elements: two blocks of rows for the gradient
 * sums).
 */
const LAYER_INPUTS: readonly { name: string; shape: number[]; x?: (count: number) => number[] }[] = [
  { name: '2D [3, 5]', shape: [3, 5] },
  { name: '4D [2, 3, 4, 7]', shape: [2, 3, 4, 7] },
  { name: 'C = 1', shape: [4, 1] },
  { name: 'C = 17, one constant row', shape: [5, 17], x: (n) => values(n, 33, -3, 3).map((v, i) => (Math.floor(i / 17) === 2 ? -1.25 : v)) },
  { name: 'mean 1000, spread 0.5', shape: [4, 16], x: (n) => values(n, 34).map((v) => 1000 + Math.round(v * 32) / 64) },
  { name: 'a NaN and an Infinity in two rows (those rows NaN)', shape: [4, 9], x: (n) => values(n, 35, -3, 3).map((v, i) => (i === 10 ? NaN : i === 30 ? Infinity : v)) },
  { name: 'past the threads split [30, 70, 33]', shape: [30, 70, 33] },
];

/** Per row of x [rows, C]: the mean and variance as the contract rounds them. */
function layerMomentsRef(x: readonly number[], C: number, dtype: DType): { mean: number; variance: number }[] {
  const rows = x.length / C;
  return Array.from({ length: rows }, (_, r) => {
    const row = x.slice(r * C, (r + 1) * C);
    const mean = stored(stored(row.reduce((a, b) => a + b, 0), dtype) / C, dtype);
    const squares = row.reduce((a, v) => a + stored(stored(v - mean, dtype) ** 2, dtype), 0);
    return { mean, variance: stored(stored(squares, dtype) / C, dtype) };
  });
}

function layerInput(i: number, seed: number, dtype: DType): { shape: number[]; C: number; x: number[] } {
  const { shape, x: given } = LAYER_INPUTS[i];
  const C = shape[shape.length - 1];
  return { shape, C, x: storedAll(given ? given(sizeOf(shape)) : values(sizeOf(shape), seed + i, -3, 3), dtype) };
}

function layerNormCases(backend: string): void {
  const epsilon = 1e-3;
  for (const dtype of FLOATS) {
    for (const [i, { name }] of LAYER_INPUTS.entries()) {
      for (const affine of i < 4 ? AFFINES : AFFINES.slice(0, 1)) {
        check(`${dtype} ${name} ${affine.name}`, () => withBuffers(backend, async (io) => {
          const { shape, C, x } = layerInput(i, 120, dtype);
          const st = normStatistics(C, 130 + i, dtype);
          const out = io.output(shape, dtype);
          fusedOf(backend).layerNorm!(
            io.input(x, [x.length / C, C], dtype), affine.gamma ? io.input(st.gamma, [C], dtype) : null,
            affine.beta ? io.input(st.beta, [C], dtype) : null, epsilon, out,
          );
          const moments = layerMomentsRef(x, C, dtype);
          const want = x.map((v, j) => {
            const { mean, variance } = moments[Math.floor(j / C)];
            const c = j % C;
            const r = stored(1 / stored(Math.sqrt(stored(variance + stored(epsilon, dtype), dtype)), dtype), dtype);
            const inv = affine.gamma ? stored(r * st.gamma[c], dtype) : r;
            const shift = stored(stored(-mean * inv, dtype) + (affine.beta ? st.beta[c] : 0), dtype);
            return stored(stored(v * inv, dtype) + shift, dtype);
          });
          expectValues(await io.read(out), want, dtype, 'elementwise', 'layerNorm');
        }), { requires: [dtype] });
      }
    }
  }
}

const LAYER_WANTS = [
  { name: 'all gradients', dx: true, dGamma: true, dBeta: true },
  { name: 'dx only', dx: true, dGamma: false, dBeta: false },
  { name: 'dGamma only', dx: false, dGamma: true, dBeta: false },
  { name: 'dBeta only', dx: false, dGamma: false, dBeta: true },
];

function layerNormGradCases(backend: string): void {
  const epsilon = 1e-3;
  for (const dtype of FLOATS) {
    for (const [i, { name }] of LAYER_INPUTS.entries()) {
      for (const wants of i === 0 || i === LAYER_INPUTS.length - 1 ? LAYER_WANTS : LAYER_WANTS.slice(0, 1)) {
        for (const withGamma of i < 4 ? [true, false] : [true]) {
          if (wants.dGamma && !wants.dx && !withGamma) continue;
          check(`${dtype} ${name} ${wants.name}${withGamma ? '' : ', no gamma'}`, () => withBuffers(backend, async (io) => {
            const { shape, C, x } = layerInput(i, 140, dtype);
            const rows = x.length / C;
            const dy = storedAll(values(x.length, 150 + i), dtype);
            const gamma = normStatistics(C, 160 + i, dtype).gamma;
            const dGammaWanted = wants.dGamma && withGamma;
            const dx = io.output(shape, dtype, wants.dx);
            const [dGamma, dBeta] = [io.output([C], dtype, dGammaWanted), io.output([C], dtype, wants.dBeta)];
            fusedOf(backend).layerNormGrad!(
              io.input(dy, [rows, C], dtype), io.input(x, [rows, C], dtype), withGamma ? io.input(gamma, [C], dtype) : null, epsilon,
              wants.dx ? dx : null, dGammaWanted ? dGamma : null, wants.dBeta ? dBeta : null,
            );
            // y = x̂ · gamma + beta per row, x̂ = (x - mean) · rstd, differentiated by hand
            const moments = layerMomentsRef(x, C, dtype);
            const wantDx = new Array<number>(x.length);
            const wantDGamma = new Array<number>(C).fill(0);
            const wantDBeta = new Array<number>(C).fill(0);
            for (let r = 0; r < rows; r++) {
              const { mean, variance } = moments[r];
              const rstd = 1 / Math.sqrt(variance + stored(epsilon, dtype));
              const xHat = Array.from({ length: C }, (_, c) => (x[r * C + c] - mean) * rstd);
              const g = Array.from({ length: C }, (_, c) => dy[r * C + c] * (withGamma ? gamma[c] : 1));
              const meanG = g.reduce((a, b) => a + b, 0) / C;
              const meanGXHat = g.reduce((a, b, c) => a + b * xHat[c], 0) / C;
              for (let c = 0; c < C; c++) {
                wantDx[r * C + c] = rstd * (g[c] - meanG - xHat[c] * meanGXHat);
                wantDGamma[c] += dy[r * C + c] * xHat[c];
                wantDBeta[c] += dy[r * C + c];
              }
            }
            if (wants.dx) expectValues(await io.read(dx), wantDx, dtype, 'reduction', 'dx');
            if (dGammaWanted) expectValues(await io.read(dGamma), wantDGamma, dtype, 'reduction', 'dGamma');
            if (wants.dBeta) expectValues(await io.read(dBeta), wantDBeta, dtype, 'reduction', 'dBeta');
          }), { requires: [dtype] });
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// attention, attentionGrad: past the native kernel's 32-row query blocks (T = 33, 65), with more
// tasks than threads, H of 5 and 17 (no SIMD width), every mask form [Bm, Nm, T, S], causal with
// T < S and T > S, and rows with every key masked (Keras averages all values there)

interface AttentionInput {
  name: string;
  dims: AttentionCase['dims'];
  /** The mask's [Bm, Nm] (T and S follow) and the chance of a true, or none. */
  mask?: { lead: [number, number]; pTrue: number };
  causal?: boolean;
  scale?: number;
}

const ATTENTION_INPUTS: readonly AttentionInput[] = [
  { name: 'one of everything', dims: { B: 1, T: 1, S: 1, N: 1, K: 1, H: 1 } },
  { name: 'T < S, H 5', dims: { B: 2, T: 3, S: 7, N: 2, K: 2, H: 5 } },
  { name: 'grouped heads, causal, T > S', dims: { B: 1, T: 9, S: 4, N: 4, K: 2, H: 3 }, causal: true },
  { name: 'T 33, S 70 past a row block, mask [1, 1, T, S]', dims: { B: 2, T: 33, S: 70, N: 3, K: 1, H: 17 }, mask: { lead: [1, 1], pTrue: 0.7 } },
  { name: 'T 65, causal, mask [B, N, T, S] with masked rows', dims: { B: 2, T: 65, S: 65, N: 2, K: 2, H: 8 }, causal: true, mask: { lead: [2, 2], pTrue: 0.3 }, scale: 0.3 },
  { name: 'causal, T = S = 70, no mask: keys past each row block never computed', dims: { B: 1, T: 70, S: 70, N: 2, K: 1, H: 6 }, causal: true },
  { name: 'causal, T 40 < S 75, no mask', dims: { B: 2, T: 40, S: 75, N: 1, K: 1, H: 4 }, causal: true },
  { name: 'mask [B, 1, T, S], multi-query', dims: { B: 3, T: 5, S: 6, N: 4, K: 1, H: 4 }, mask: { lead: [3, 1], pTrue: 0.5 } },
  { name: 'mask [1, N, T, S], grouped heads', dims: { B: 2, T: 3, S: 4, N: 4, K: 2, H: 3 }, mask: { lead: [1, 4], pTrue: 0.5 } },
  { name: 'mask [1, N, T, S], all false', dims: { B: 2, T: 4, S: 3, N: 2, K: 1, H: 2 }, mask: { lead: [1, 2], pTrue: 0 } },
];

/** A case's values in the dtype's precision, and its mask as 0/1 with the mask's shape. */
function attentionCase(input: AttentionInput, dtype: DType, seed: number): AttentionCase & { maskShape: number[] | null } {
  const { B, T, S, N, K, H } = input.dims;
  const maskShape = input.mask ? [...input.mask.lead, T, S] : null;
  const mask: Broadcast | undefined = input.mask && maskShape
    ? { values: values(sizeOf(maskShape), seed + 3).map((u) => (u < 2 * input.mask!.pTrue - 1 ? 1 : 0)), shape: maskShape }
    : undefined;
  return {
    dims: input.dims,
    q: storedAll(values(B * T * N * H, seed, -2, 2), dtype),
    k: storedAll(values(B * S * K * H, seed + 1, -2, 2), dtype),
    v: storedAll(values(B * S * K * H, seed + 2, -3, 3), dtype),
    mask, maskShape, causal: input.causal, scale: input.scale,
  };
}

const scaleOf = (c: AttentionCase) => c.scale ?? 1 / Math.sqrt(c.dims.H);

function attentionCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const [i, input] of ATTENTION_INPUTS.entries()) {
      check(`${dtype} ${input.name}`, () => withBuffers(backend, async (io) => {
        const c = attentionCase(input, dtype, 120 + 4 * i);
        const { B, T, S, N, K, H } = c.dims;
        const out = io.output([B, T, N, H], dtype);
        fusedOf(backend).attention!(
          io.input(c.q as number[], [B, T, N, H], dtype), io.input(c.k as number[], [B, S, K, H], dtype), io.input(c.v as number[], [B, S, K, H], dtype),
          c.mask ? io.input(c.mask.values as number[], c.maskShape!, 'bool') : null, scaleOf(c), c.causal ?? false, out,
        );
        expectValues(await io.read(out), Array.from(attentionOracle(c)), dtype, 'reduction', 'attention');
      }), { requires: [dtype] });
    }
  }
}

const ATTENTION_WANTS: readonly { name: string; dq: boolean; dk: boolean; dv: boolean }[] = [
  { name: 'all', dq: true, dk: true, dv: true },
  { name: 'dq', dq: true, dk: false, dv: false },
  { name: 'dk', dq: false, dk: true, dv: false },
  { name: 'dv', dq: false, dk: false, dv: true },
];

function attentionGradCases(backend: string): void {
  for (const dtype of FLOATS) {
    for (const [i, input] of ATTENTION_INPUTS.entries()) {
      for (const wants of i === 4 ? ATTENTION_WANTS : ATTENTION_WANTS.slice(0, 1)) {
        check(`${dtype} ${input.name} ${wants.name}`, () => withBuffers(backend, async (io) => {
          const c = attentionCase(input, dtype, 150 + 4 * i);
          const { B, T, S, N, K, H } = c.dims;
          const [qShape, kShape] = [[B, T, N, H], [B, S, K, H]];
          const y = storedAll(Array.from(attentionOracle(c)), dtype);
          const dy = storedAll(values(B * T * N * H, 170 + i), dtype);
          const [dq, dk, dv] = [io.output(qShape, dtype, wants.dq), io.output(kShape, dtype, wants.dk), io.output(kShape, dtype, wants.dv)];
          fusedOf(backend).attentionGrad!(
            io.input(dy, qShape, dtype), io.input(y, qShape, dtype), io.input(c.q as number[], qShape, dtype),
            io.input(c.k as number[], kShape, dtype), io.input(c.v as number[], kShape, dtype),
            c.mask ? io.input(c.mask.values as number[], c.maskShape!, 'bool') : null, scaleOf(c), c.causal ?? false,
            wants.dq ? dq : null, wants.dk ? dk : null, wants.dv ? dv : null,
          );
          const want = attentionGradOracle(c, dy, y);
          if (wants.dq) expectValues(await io.read(dq), Array.from(want.dq), dtype, 'reduction', 'dq');
          if (wants.dk) expectValues(await io.read(dk), Array.from(want.dk), dtype, 'reduction', 'dk');
          if (wants.dv) expectValues(await io.read(dv), Array.from(want.dv), dtype, 'reduction', 'dv');
        }), { requires: [dtype] });
      }
    }
  }
}

// Recurrent: lstm, gru, simpleRnn and their backward kernels against the float64 loops of
// test/recurrent-oracle.ts; the backward kernels against central differences of that oracle's
// record (every element on small cases; on the large one, directional derivatives per input).

type Cell = RnnCase['cell'];

/** Shapes: small ones, and one past the native gate pass's thread split and the GEMM's k block (4U > 192 doubles). */
const RNN_SHAPES: readonly { name: string; B: number; T: number; U: number; large?: boolean }[] = [
  { name: 'B=3 T=4 U=3', B: 3, T: 4, U: 3 },
  { name: 'T=1', B: 2, T: 1, U: 2 },
  { name: 'B=1 U=1', B: 1, T: 3, U: 1 },
  { name: 'B=80 T=3 U=50', B: 80, T: 3, U: 50, large: true },
];

const RNN_MASKS: readonly { name: string; over: (B: number, T: number) => Partial<RnnCase> }[] = [
  { name: 'no mask', over: () => ({}) },
  { name: 'mixed mask', over: (B, T) => ({ mask: mixedMask(B, T) }) },
  { name: 'mixed mask, zeroOutputForMask', over: (B, T) => ({ mask: mixedMask(B, T), zeroOutputForMask: true }) },
  { name: 'mask all false', over: (B, T) => ({ mask: new Array<boolean>(B * T).fill(false) }) },
];

const RNN_VARIANTS: Record<Cell, readonly { name: string; over: Partial<RnnCase> }[]> = {
  lstm: [{ name: '', over: {} }],
  gru: [{ name: 'resetAfter', over: {} }, { name: 'resetAfter no bias', over: { bias: null } }, { name: 'reset before', over: { resetAfter: false } }],
  simpleRnn: [{ name: '', over: {} }],
};

const RNN_SLOTS: Record<Cell, number> = { lstm: 7, gru: 6, simpleRnn: 2 };

/** The case's tensors (stored in dtype), by name. */
function rnnTensors(c: RnnCase, dtype: DType): RnnCase {
  const s = (v: number[] | null | undefined) => (v ? storedAll(v, dtype) : v);
  return { ...c, xProj: s(c.xProj)!, h0: s(c.h0)!, c0: s(c.c0) ?? undefined, kernel: s(c.kernel)!, bias: s(c.bias) ?? null };
}

/**
 * Every recurrent case: variant × shape × mask (the large shape with a mixed mask only); `first`
 * marks the first small shape with a mixed mask, where backward cases also ask for each
 * gradient alone.
 */
function rnnCases(cell: Cell, dtype: DType, each: (name: string, c: RnnCase, large: boolean, first: boolean) => void): void {
  for (const variant of RNN_VARIANTS[cell]) {
    for (const shape of RNN_SHAPES) {
      for (const mask of shape.large ? RNN_MASKS.slice(1, 2) : RNN_MASKS) {
        const c = drawCase(cell, shape.B, shape.T, shape.U, 200 + shape.U, { ...variant.over, ...mask.over(shape.B, shape.T) });
        const name = `${dtype} ${variant.name ? `${variant.name} ` : ''}${shape.name} ${mask.name}`;
        each(name, rnnTensors(c, dtype), shape.large ?? false, shape === RNN_SHAPES[0] && mask === RNN_MASKS[1]);
      }
    }
  }
}

/** The kernel's inputs as buffers. */
function rnnInputs(io: Buffers, c: RnnCase, dtype: DType) {
  const G = GATES[c.cell];
  return {
    xProj: io.input(c.xProj, [c.B, c.T, G * c.U], dtype),
    h0: io.input(c.h0, [c.B, c.U], dtype),
    c0: c.c0 ? io.input(c.c0, [c.B, c.U], dtype) : null,
    kernel: io.input(c.kernel, [c.U, G * c.U], dtype),
    bias: c.bias ? io.input(c.bias, [3 * c.U], dtype) : null,
    mask: c.mask ? io.input(c.mask.map(Number), [c.B, c.T], 'bool') : null,
  };
}

function rnnForwardCases(cell: Cell): (backend: string) => void {
  return (backend) => {
    for (const dtype of FLOATS) {
      rnnCases(cell, dtype, (name, c) => check(name, () => withBuffers(backend, async (io) => {
        const t = rnnInputs(io, c, dtype);
        const out = io.output([c.B, c.T, RNN_SLOTS[cell] * c.U], dtype);
        const zero = c.zeroOutputForMask ?? false;
        const f = fusedOf(backend);
        if (cell === 'lstm') f.lstm!(t.xProj, t.h0, t.c0!, t.kernel, t.mask, zero, out);
        else if (cell === 'gru') f.gru!(t.xProj, t.h0, t.kernel, t.bias, t.mask, c.resetAfter ?? true, zero, out);
        else f.simpleRnn!(t.xProj, t.h0, t.kernel, t.mask, zero, out);
        expectValues(await io.read(out), oracle(c).record, dtype, 'reduction', 'record');
      }), { requires: [dtype] }));
    }
  };
}

/** The inputs a backward kernel differentiates, by its output's name. */
const RNN_GRAD_INPUTS: Record<Cell, readonly ('xProj' | 'h0' | 'c0' | 'kernel' | 'bias')[]> = {
  lstm: ['xProj', 'h0', 'c0', 'kernel'],
  gru: ['xProj', 'h0', 'kernel', 'bias'],
  simpleRnn: ['xProj', 'h0', 'kernel'],
};

/** Σ dy · record(c with `input` moved by ε·v): the loss whose gradient the backward kernel gives. */
function rnnLoss(c: RnnCase, dy: readonly number[], input: keyof RnnCase, v: readonly number[], eps: number): number {
  const moved = (c[input] as number[]).map((x, i) => x + eps * v[i]);
  return oracle({ ...c, [input]: moved }).record.reduce((s, r, i) => s + r * dy[i], 0);
}

function rnnBackwardCases(cell: Cell): (backend: string) => void {
  return (backend) => {
    for (const dtype of FLOATS) {
      rnnCases(cell, dtype, (name, c, large, first) => {
        const present = RNN_GRAD_INPUTS[cell].filter((n) => n !== 'bias' || c.bias);
        const alone = first ? present.map((n) => ({ name: `${n} only`, wants: new Set([n]) })) : [];
        for (const { name: wantName, wants } of [{ name: 'all', wants: new Set(present) }, ...alone]) {
          check(`${name} ${wantName}`, () => withBuffers(backend, async (io) => {
            const S = RNN_SLOTS[cell];
            const y = storedAll(oracle(c).record, dtype);
            const dy = storedAll(values(y.length, 300 + c.U), dtype);
            const t = rnnInputs(io, c, dtype);
            const G = GATES[cell];
            const shapes = { xProj: [c.B, c.T, G * c.U], h0: [c.B, c.U], c0: [c.B, c.U], kernel: [c.U, G * c.U], bias: [3 * c.U] };
            const outs = Object.fromEntries(present.map((n) => [n, io.output(shapes[n], dtype, wants.has(n))]));
            const o = (n: (typeof present)[number]) => (wants.has(n) ? outs[n] : null);
            const [dyT, yT] = [io.input(dy, [c.B, c.T, S * c.U], dtype), io.input(y, [c.B, c.T, S * c.U], dtype)];
            const zero = c.zeroOutputForMask ?? false;
            const f = fusedOf(backend);
            if (cell === 'lstm') f.lstmGrad!(dyT, yT, t.h0, t.c0!, t.kernel, t.mask, zero, o('xProj'), o('h0'), o('c0'), o('kernel'));
            else if (cell === 'gru') f.gruGrad!(dyT, yT, t.h0, t.kernel, t.mask, c.resetAfter ?? true, zero, o('xProj'), o('h0'), o('kernel'), o('bias'));
            else f.simpleRnnGrad!(dyT, yT, t.h0, t.kernel, t.mask, zero, o('xProj'), o('h0'), o('kernel'));
            // the oracle's derivatives, in float64 from the stored inputs: exact to ~1e-9
            const tol = { rtol: dtype === 'float64' ? 1e-6 : 1e-4, atol: dtype === 'float64' ? 1e-7 : 1e-4 };
            const eps = 1e-6;
            for (const n of present.filter((m) => wants.has(m))) {
              const got = await io.read(outs[n]);
              const size = (c[n] as number[]).length;
              if (!large) {
                const unit = (i: number) => Array.from({ length: size }, (_, k) => (k === i ? 1 : 0));
                const want = got.map((_, i) => (rnnLoss(c, dy, n, unit(i), eps) - rnnLoss(c, dy, n, unit(i), -eps)) / (2 * eps));
                expectValues(got, want, dtype, 'reduction', `d${n}`, tol);
              } else {
                for (const seed of [1, 2]) {
                  const v = values(size, 400 + seed);
                  const want = (rnnLoss(c, dy, n, v, eps) - rnnLoss(c, dy, n, v, -eps)) / (2 * eps);
                  expectValues([got.reduce((s, g, i) => s + g * v[i], 0)], [want], dtype, 'reduction', `d${n} along a direction`, tol);
                }
              }
            }
          }), { requires: [dtype] });
        }
      });
    }
  };
}

const CASES: Record<keyof FusedKernels, (backend: string) => void> = {
  dense: denseCases,
  denseGrad: denseGradCases,
  softmax: softmaxCases,
  softmaxGrad: softmaxGradCases,
  crossEntropy: crossEntropyCases,
  crossEntropyGrad: crossEntropyGradCases,
  applyUpdate: updateCases,
  conv: convCases,
  convGrad: convGradCases,
  pool: poolCases,
  poolGrad: poolGradCases,
  moments: momentsCases,
  momentsGrad: momentsGradCases,
  batchNorm: batchNormCases,
  batchNormGrad: batchNormGradCases,
  layerNorm: layerNormCases,
  layerNormGrad: layerNormGradCases,
  attention: attentionCases,
  attentionGrad: attentionGradCases,
  lstm: rnnForwardCases('lstm'),
  lstmGrad: rnnBackwardCases('lstm'),
  gru: rnnForwardCases('gru'),
  gruGrad: rnnBackwardCases('gru'),
  simpleRnn: rnnForwardCases('simpleRnn'),
  simpleRnnGrad: rnnBackwardCases('simpleRnn'),
};

describeBackends('fused', (backend) => {
  const fused = fusedOf(backend);
  check('has only contract fused kernels', () => {
    for (const [name, f] of Object.entries(fused)) {
      expect(FUSED_KERNELS, `unknown fused kernel '${name}'`).toContain(name);
      expect(typeof f, name).toBe('function');
    }
  });
  for (const name of FUSED_KERNELS) {
    if (fused[name]) group(name, () => CASES[name](backend));
    else console.log(`conformance: backend '${backend}' has no fused kernel '${name}': composed path only`);
  }
});
