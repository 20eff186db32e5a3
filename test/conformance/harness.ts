/**
 * The conformance harness: one suite, run unchanged on every available backend.
 *
 * A family file (one per kernel family: unary.test.ts, binary.test.ts, …) reads
 *
 *   describeBackends('unary', () => {
 *     group('exp', () => {
 *       checkOp('float32', () => kiln.ops.exp(kiln.tensor([0, 1])), [1, Math.E]);
 *       check('anything else', async () => { ... });
 *     });
 *   });
 *
 * and gets, for each backend that kiln.listBackends() reports as available, a suite named
 * `unary > <backend>` that first switches to that backend; unavailable ones are printed with
 * their reason. A test's id is its full name as vitest prints it, suites joined by ' > ' without
 * the file: `unary > reference > exp > float32`. `backends/<name>/known-failures.json` maps such
 * ids to reasons; a listed test must fail, and the harness fails it when it passes (and fails the
 * file when an entry names no test), so the list only shrinks. Each family also checks that the
 * kernel rows it owns (FAMILY_ROWS, from the contract's KERNEL_FAMILIES; the fused families
 * FUSED_ROWS) were really called on the backend.
 */
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance, type RunnerTask, type RunnerTestSuite } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../../index.js';
import { findBackend } from '../../src/backends.js';
import {
  FUSED_ROWS, KERNEL_FAMILIES, KERNEL_ROWS, type DType, type FusedKernels, type TypedArray,
} from '../../backends/contract.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// Which backends run

/** Names of the backends to test; each unavailable one is reported with its reason. */
export function backendsUnderTest(): string[] {
  const names: string[] = [];
  for (const b of kiln.listBackends()) {
    if (b.available) names.push(b.name);
    else console.log(`conformance: backend '${b.name}' skipped: ${b.reason}`);
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Known failures

const knownCache = new Map<string, Record<string, string>>();

export function knownFailures(backend: string): Record<string, string> {
  const cached = knownCache.get(backend);
  if (cached) return cached;
  const file = join(ROOT, 'backends', backend, 'known-failures.json');
  const parsed: unknown = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${file}: expected an object mapping test ids to reasons`);
  }
  knownCache.set(backend, parsed as Record<string, string>);
  return parsed as Record<string, string>;
}

/** Runs `fn`, inverted when `reason` says it is a known failure. */
async function runExpectingOutcome(id: string, reason: string | undefined, fn: () => unknown): Promise<void> {
  if (reason === undefined) {
    await fn();
    return;
  }
  let passed = false;
  try {
    await fn();
    passed = true;
  } catch {
    // the listed failure still happens: the test is green
  }
  if (passed) {
    throw new Error(`'${id}' is listed as a known failure (${reason}) but passes: remove it from known-failures.json`);
  }
}

// ---------------------------------------------------------------------------------------------
// Suites, ids and the case counter

/** Cases run per backend in this file (each test file runs in its own worker). */
const counts = new Map<string, number>();

/** A test's id: its suites' names and its own, from the family down, joined by ' > '. */
function idOf(task: RunnerTask): string {
  const names: string[] = [];
  for (let t: RunnerTask | undefined = task; t && t !== t.file; t = t.suite) names.unshift(t.name);
  return names.join(' > ');
}

function testsIn(suite: RunnerTestSuite): RunnerTask[] {
  return suite.tasks.flatMap((t) => (t.type === 'suite' ? testsIn(t) : [t]));
}

/** The family's suite, once per available backend, each run with that backend current. */
export function describeBackends(family: string, body: (backend: string) => void): void {
  const names = backendsUnderTest();
  describe(family, () => {
    if (names.length === 0) it.skip('no backend available', () => {});
    describe.each(names)('%s', (backend) => {
      const coverage = spyKernels(backend);
      beforeAll(async () => {
        await kiln.setBackend(backend);
        await coverage.start();
      });
      afterAll((suite) => {
        coverage.stop();
        report(family, backend, counts.get(backend) ?? 0);
        const ids = testsIn(suite as RunnerTestSuite).map(idOf);
        const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
        if (repeated.length > 0) throw new Error(`conformance: repeated test ids (known failures could not tell them apart): ${repeated.join('; ')}`);
        const prefix = `${family} > ${backend} > `;
        const stale = Object.keys(knownFailures(backend)).filter((id) => id.startsWith(prefix) && !ids.includes(id));
        if (stale.length > 0) {
          throw new Error(`backends/${backend}/known-failures.json lists tests that do not exist: ${stale.join('; ')}`);
        }
      });
      body(backend);
      const rows = FAMILY_ROWS[family] ?? FUSED_FAMILY_ROWS[family];
      if (rows) check(`kernel rows ${family}`, () => coverage.expectCalled(rows));
    });
  });
}

/** A named group of cases inside describeBackends (a vitest describe, part of the test ids). */
export function group(name: string, body: () => void): void {
  describe(name, body);
}

export interface CheckOptions {
  /** Dtypes the case needs; skipped on a backend that does not store them (float64 is optional). */
  requires?: readonly DType[];
}

/**
 * One conformance case, inside describeBackends: counted, and inverted when its id is listed in
 * the backend's known-failures.json.
 */
export function check(name: string, fn: () => unknown, opts: CheckOptions = {}): void {
  it(name, async (test) => {
    const id = idOf(test.task);
    const backend = id.split(' > ')[1];
    if (!kiln.listBackends().some((b) => b.name === backend)) throw new Error(`conformance: check('${name}') must be called inside describeBackends()`);
    if (opts.requires) {
      const stores = (await findBackend(backend)).dtypes;
      const missing = opts.requires.filter((d) => !stores.includes(d));
      if (missing.length > 0) return test.skip(`backend '${backend}' does not store ${missing.join(', ')}`);
    }
    counts.set(backend, (counts.get(backend) ?? 0) + 1);
    await runExpectingOutcome(id, knownFailures(backend)[id], fn);
  });
}

/**
 * One case whose result is computed synchronously by `make` inside kiln.tidy (so its inputs and
 * intermediates are freed) and compared with `expected`; the tensor count must return to where
 * it was, so an op that leaks on some backend fails here.
 */
export function checkOp(name: string, make: () => kiln.Tensor, expected: Expected, opts: CloseOptions & CheckOptions = {}): void {
  const requires = [...(opts.requires ?? []), ...(opts.dtype === 'float64' ? ['float64' as const] : [])];
  check(name, async () => {
    const before = kiln.memory().numTensors;
    const y = kiln.tidy(make);
    try {
      await expectClose(y, expected, opts);
    } finally {
      y.dispose();
    }
    expect(kiln.memory().numTensors, 'tensors left behind').toBe(before);
  }, { requires });
}

/**
 * Prints this file's count, and once every conformance file of this run has reported, the total.
 * Files run in separate workers; they meet in a temporary file named after the vitest process.
 */
function report(family: string, backend: string, n: number): void {
  console.log(`conformance: ${n} cases ran on backend '${backend}' (${family})`);
  const ledger = join(tmpdir(), `kiln-conformance-${process.ppid}-${backend}.log`);
  const earlier = existsSync(ledger) ? readFileSync(ledger, 'utf8').trim().split('\n') : [];
  // each line is `<family> <count>`; a family name may hold spaces ('fused paths')
  const familyOf = (l: string) => l.slice(0, l.lastIndexOf(' '));
  // a family already there means the ledger is left from an earlier run (one that stopped early)
  const lines = [...(earlier.some((l) => familyOf(l) === family) ? [] : earlier), `${family} ${n}`];
  writeFileSync(ledger, `${lines.join('\n')}\n`);
  const files = readdirSync(HERE).filter((f) => f.endsWith('.test.ts')).length;
  if (lines.length === files) {
    const total = lines.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    console.log(`conformance: ${total} cases ran on backend '${backend}'`);
    rmSync(ledger, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Kernel coverage: every family says which contract rows it exercises, and the harness checks
// on each backend that those kernels really ran (so a composed op cannot silently bypass one).

export type KernelRow = string;

export { KERNEL_ROWS };

/** The rows each family file must exercise (the contract's families); together they are the whole contract. */
export const FAMILY_ROWS: Readonly<Record<string, readonly KernelRow[]>> = KERNEL_FAMILIES;

/**
 * The fused rows each of these families must exercise on a backend that has the fused kernel
 * (a backend without it composes, and is not failed for that).
 */
export const FUSED_FAMILY_ROWS: Readonly<Record<string, readonly KernelRow[]>> = {
  fused: FUSED_ROWS,
  'fused paths': FUSED_ROWS,
  // the pooling ops run the fused pool and its backward (a row per PoolOp) where the backend has them
  pool: FUSED_ROWS.filter((r) => r.startsWith('fused:pool')),
  // the convolution ops run the fused conv and its backward where the backend has them
  conv: ['fused:conv', 'fused:convGrad'],
};

/** `method` (or `fused:method`) and, where a row names an op, the methods whose first argument it is. */
function methodsOf(rows: readonly KernelRow[], prefix: string) {
  const split = rows.map((r) => r.slice(prefix.length).split(':'));
  return { all: [...new Set(split.map(([m]) => m))], withOp: new Set(split.filter((p) => p.length > 1).map(([m]) => m)) };
}

const KERNEL_METHODS = methodsOf(KERNEL_ROWS, '');
const FUSED_METHODS = methodsOf(FUSED_ROWS, 'fused:');

/** Spies on the backend's kernel methods and fused kernels (they still run) to tell which rows a family reached. */
function spyKernels(backend: string) {
  let spies: { row(args: unknown[]): KernelRow; spy: MockInstance }[] = [];
  let offered: Partial<FusedKernels> = {};
  const spyOn = (target: object, methods: ReturnType<typeof methodsOf>, prefix: string) =>
    methods.all.filter((m) => typeof (target as Record<string, unknown>)[m] === 'function').map((method) => ({
      row: (args: unknown[]) => `${prefix}${method}${methods.withOp.has(method) ? `:${String(args[0])}` : ''}`,
      spy: vi.spyOn(target as Record<string, () => void>, method) as unknown as MockInstance,
    }));
  return {
    async start() {
      const b = await findBackend(backend);
      offered = b.fused ?? {};
      spies = [...spyOn(b, KERNEL_METHODS, ''), ...spyOn(offered, FUSED_METHODS, 'fused:')];
    },
    stop() {
      for (const { spy } of spies) spy.mockRestore();
      spies = [];
    },
    /** Rows never called; a fused row counts only where the backend has that fused kernel. */
    expectCalled(rows: readonly KernelRow[]) {
      const seen = new Set<KernelRow>();
      for (const { row, spy } of spies) for (const args of spy.mock.calls) seen.add(row(args));
      const due = rows.filter((r) => !r.startsWith('fused:') || offered[r.split(':')[1] as keyof FusedKernels]);
      expect(due.filter((r) => !seen.has(r)), `kernel rows never called on backend '${backend}'`).toEqual([]);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Comparing results

export type Expected = number | boolean | readonly Expected[];

export interface CloseOptions {
  rtol?: number;
  atol?: number;
  /** The dtype the result must have. */
  dtype?: DType;
  /** The shape the result must have; needed when `expected` cannot say (e.g. [0, 3]). */
  shape?: readonly number[];
  /** Reductions and matmul accumulate rounding error: float32 gets a looser default tolerance. */
  kind?: 'elementwise' | 'reduction';
}

/** Default tolerances: NumPy's allclose test |a - e| <= atol + rtol * |e|. */
export const TOLERANCE: Record<'elementwise' | 'reduction', Record<DType, { rtol: number; atol: number }>> = {
  elementwise: {
    float32: { rtol: 1e-5, atol: 1e-6 },
    float64: { rtol: 1e-12, atol: 1e-12 },
    int32: { rtol: 0, atol: 0 },
    bool: { rtol: 0, atol: 0 },
  },
  reduction: {
    float32: { rtol: 1e-4, atol: 1e-5 },
    float64: { rtol: 1e-12, atol: 1e-12 },
    int32: { rtol: 0, atol: 0 },
    bool: { rtol: 0, atol: 0 },
  },
};

/** The shape of a nested array (the first element at each depth; raggedness is the caller's bug). */
export function shapeOf(e: Expected): number[] {
  const shape: number[] = [];
  let level: Expected = e;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

/** The values of a nested array, row-major, booleans as 0 and 1. */
export function flatten(e: Expected): number[] {
  if (Array.isArray(e)) return (e as Expected[]).flatMap(flatten);
  return [typeof e === 'boolean' ? Number(e) : (e as number)];
}

function fmt(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

function fmtShape(s: readonly number[]): string {
  return `[${s.join(',')}]`;
}

function indexOf(i: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]);
    i = Math.floor(i / shape[d]);
  }
  return fmtShape(idx);
}

function preview(values: ArrayLike<number>): string {
  const a = Array.from(values, fmt);
  return a.length > 24 ? `[${a.slice(0, 24).join(', ')}, … (${a.length} values)]` : `[${a.join(', ')}]`;
}

/** Whether a and e agree: NaN matches NaN, infinities match themselves. */
export function close(a: number, e: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(e) || Number.isNaN(a)) return Number.isNaN(e) && Number.isNaN(a);
  if (!Number.isFinite(e) || !Number.isFinite(a)) return a === e;
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/**
 * Checks a tensor's shape, dtype (when given) and values against `expected`, with a message that
 * shows where and by how much it differs.
 */
export async function expectClose(actual: kiln.Tensor, expected: Expected | TypedArray, opts: CloseOptions = {}): Promise<void> {
  expect(actual, 'expected a Tensor').toBeInstanceOf(kiln.Tensor);
  const isTyped = ArrayBuffer.isView(expected);
  const eShape = opts.shape ?? (isTyped ? [(expected as TypedArray).length] : shapeOf(expected as Expected));
  const eValues = isTyped ? Array.from(expected as TypedArray) : flatten(expected as Expected);
  const problems: string[] = [];
  if (fmtShape(actual.shape) !== fmtShape(eShape)) problems.push(`shape: expected ${fmtShape(eShape)}, got ${fmtShape(actual.shape)}`);
  if (opts.dtype && actual.dtype !== opts.dtype) problems.push(`dtype: expected ${opts.dtype}, got ${actual.dtype}`);
  const values = await actual.data();
  if (values.length !== eValues.length) {
    problems.push(`size: expected ${eValues.length} values, got ${values.length}`);
  } else {
    const base = TOLERANCE[opts.kind ?? 'elementwise'][actual.dtype];
    const rtol = opts.rtol ?? base.rtol;
    const atol = opts.atol ?? base.atol;
    let bad = 0;
    for (let i = 0; i < values.length; i++) {
      const a = values[i];
      const e = eValues[i];
      if (close(a, e, rtol, atol)) continue;
      if (bad++ < 6) {
        problems.push(`at ${indexOf(i, actual.shape)}: expected ${fmt(e)}, got ${fmt(a)} (|diff| ${Math.abs(a - e)} > ${atol} + ${rtol}·|expected|)`);
      }
    }
    if (bad > 6) problems.push(`… ${bad} mismatched values in all`);
  }
  if (problems.length > 0) {
    throw new Error(
      `tensor differs from expected:\n  ${problems.join('\n  ')}\n` +
      `  actual   ${actual.dtype} ${fmtShape(actual.shape)} ${preview(values)}\n` +
      `  expected ${opts.dtype ?? ''} ${fmtShape(eShape)} ${preview(eValues)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Building inputs

/** Flat values laid out as a nested array of `shape`. */
export function nest(values: readonly number[], shape: readonly number[]): Expected {
  if (shape.length === 0) return values[0];
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nest(values.slice(i * inner, (i + 1) * inner), shape.slice(1)));
}

/** What a dtype stores for `v` (float32 rounds, int32 truncates, bool is v != 0). */
export function stored(v: number, dtype: DType): number {
  switch (dtype) {
    case 'float32': return Math.fround(v);
    case 'float64': return v;
    case 'int32': return v | 0;
    case 'bool': return v !== 0 ? 1 : 0;
  }
}

/**
 * Ways to reach the same logical [rows, cols] tensor: straight from data, and as the result of a
 * transpose, a slice of a larger tensor, a flip and a reshape (a view of another tensor's
 * buffer). A backend with strided views gets its layout traps here; reference must not care.
 */
export const LAYOUTS: readonly { name: string; make(values: readonly number[], rows: number, cols: number, dtype: DType): kiln.Tensor }[] = [
  { name: 'contiguous', make: (v, r, c, dt) => kiln.tensor([...v], [r, c], dt) },
  {
    name: 'transposed',
    make: (v, r, c, dt) => {
      const t = Array.from({ length: r * c }, (_, k) => v[(k % r) * c + Math.floor(k / r)]);
      return kiln.ops.transpose(kiln.tensor(t, [c, r], dt));
    },
  },
  {
    name: 'sliced',
    make: (v, r, c, dt) => {
      const big = Array.from({ length: (r + 2) * (c + 3) }, (_, k) => {
        const i = Math.floor(k / (c + 3)) - 1;
        const j = (k % (c + 3)) - 2;
        return i >= 0 && i < r && j >= 0 && j < c ? v[i * c + j] : 7;
      });
      return kiln.ops.slice(kiln.tensor(big, [r + 2, c + 3], dt), [1, 2], [r, c]);
    },
  },
  {
    name: 'flipped',
    make: (v, r, c, dt) => {
      const rows = Array.from({ length: r }, (_, i) => v.slice(i * c, (i + 1) * c)).reverse().flat();
      return kiln.ops.flip(kiln.tensor(rows, [r, c], dt), 0);
    },
  },
  { name: 'reshaped view', make: (v, r, c, dt) => kiln.ops.reshape(kiln.tensor([...v], [r * c], dt), [r, c]) },
];

/** The ops namespace indexed by name, for tables of cases. */
export const OPS = kiln.ops as unknown as Record<string, (...args: any[]) => kiln.Tensor>;
