/**
 * Reductions (sum, prod, max, min and what is composed from them), argmax/argmin and cumsum: every
 * axis form (none, one, negative, several, keepdims), every dtype, empty axes, special values,
 * first-index ties, and the cumsum kernel's exclusive/reverse flags, which no public op sets.
 */
import * as kiln from '../../index.js';
import type { DType } from '../../backends/contract.js';
import { ENGINE } from '../../src/engine.js';
import { CUMSUM } from '../../src/ops/reduce.js';
import { LAYOUTS, OPS, checkOp, describeBackends, group, nest, stored, type Expected } from './harness.js';

const { ops } = kiln;

type Axis = number | number[] | undefined;

/** Reduces `values` of `shape` over `axis` with `f` (on the list of reduced values). */
function reduceRef(values: readonly number[], shape: readonly number[], axis: Axis, keepdims: boolean, f: (xs: number[]) => number): { value: Expected; shape: number[] } {
  const rank = shape.length;
  const axes = axis === undefined ? shape.map((_, i) => i) : (typeof axis === 'number' ? [axis] : axis).map((a) => (a < 0 ? a + rank : a));
  const outShape = shape.flatMap((d, i) => (axes.includes(i) ? (keepdims ? [1] : []) : [d]));
  const keptShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  values.forEach((v, k) => {
    let rem = k;
    let key = 0;
    let stride = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
      if (!axes.includes(d)) key += i * stride;
      stride *= keptShape[d];
    }
    groups.set(key, [...(groups.get(key) ?? []), v]);
  });
  const size = keptShape.reduce((p, d) => p * d, 1);
  const out = Array.from({ length: size }, (_, k) => f(groups.get(k) ?? []));
  return { value: nest(out, outShape), shape: outShape };
}

const total = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
const meanOf = (xs: number[]) => total(xs) / xs.length;
const nanOr = (xs: number[], f: (xs: number[]) => number) => (xs.some(Number.isNaN) ? NaN : f(xs));

/** name, f64 definition, kind of output dtype */
const REDUCTIONS: { op: string; f: (xs: number[]) => number; out: 'same' | 'float' | 'bool' | 'int' }[] = [
  { op: 'sum', f: total, out: 'int' },
  { op: 'prod', f: (xs) => xs.reduce((p, v) => p * v, 1), out: 'int' },
  { op: 'max', f: (xs) => nanOr(xs, (v) => Math.max(...v)), out: 'same' },
  { op: 'min', f: (xs) => nanOr(xs, (v) => Math.min(...v)), out: 'same' },
  { op: 'mean', f: meanOf, out: 'float' },
  { op: 'variance', f: (xs) => meanOf(xs.map((v) => (v - meanOf(xs)) ** 2)), out: 'float' },
  { op: 'std', f: (xs) => Math.sqrt(meanOf(xs.map((v) => (v - meanOf(xs)) ** 2))), out: 'float' },
  {
    op: 'logsumexp',
    f: (xs) => {
      const m = Math.max(...xs);
      return Number.isFinite(m) ? m + Math.log(total(xs.map((v) => Math.exp(v - m)))) : Math.log(total(xs.map(Math.exp)));
    },
    out: 'float',
  },
  { op: 'any', f: (xs) => Number(xs.some((v) => v !== 0)), out: 'bool' },
  { op: 'all', f: (xs) => Number(xs.every((v) => v !== 0)), out: 'bool' },
];

function outDType(out: 'same' | 'float' | 'bool' | 'int', input: DType): DType {
  if (out === 'bool') return 'bool';
  if (input === 'float32' || input === 'float64') return input;
  if (out === 'float') return 'float32';
  if (out === 'int') return 'int32';
  return input;
}

const SHAPE = [2, 3, 4];
// distinct values, so max/min and the arg ops have one answer
const VALUES = Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) / 4 - 3);
const INT_VALUES = Array.from({ length: 24 }, (_, i) => ((i * 5) % 24) - 11);
const AXES: Axis[] = [undefined, 0, 1, 2, -1, [0, 2], [2, 0], [0, 1, 2]];

const axisName = (a: Axis) => (a === undefined ? 'all axes' : `axis ${JSON.stringify(a)}`);

describeBackends('reduce', () => {
  for (const r of REDUCTIONS) {
    const f = (...args: unknown[]) => OPS[r.op](...args);
    group(r.op, () => {
      for (const axis of AXES) {
        for (const keepdims of [false, true]) {
          const want = reduceRef(VALUES.map(Math.fround), SHAPE, axis, keepdims, r.f);
          checkOp(`${axisName(axis)}${keepdims ? ' keepdims' : ''}`, () => f(kiln.tensor(VALUES, SHAPE), axis, keepdims), want.value, {
            shape: want.shape, dtype: outDType(r.out, 'float32'), kind: 'reduction',
          });
        }
      }
      const inputs: [DType, number[]][] = [['float64', VALUES], ['int32', INT_VALUES], ['bool', INT_VALUES.map((v) => Number(v > 0))]];
      for (const [dt, values] of inputs) {
        for (const axis of [undefined, 1] as Axis[]) {
          if (r.op === 'prod' && dt === 'int32' && axis === undefined) continue; // overflows int32
          const want = reduceRef(values.map((v) => stored(v, dt)), SHAPE, axis, false, r.f);
          const out = outDType(r.out, dt);
          checkOp(`${dt} ${axisName(axis)}`, () => f(kiln.tensor(values, SHAPE, dt), axis), want.value, {
            shape: want.shape, dtype: out, kind: 'reduction', requires: [dt],
          });
        }
      }
      const scalar = reduceRef([2.5], [], undefined, false, r.f);
      checkOp('scalar', () => f(kiln.tensor(2.5)), scalar.value, { shape: [] });
      // the sum of nothing is 0, its product 1, its mean NaN; logsumexp -inf; any false, all true
      if (r.op !== 'max' && r.op !== 'min') {
        const empty = reduceRef([], [2, 0], 1, false, r.f);
        checkOp('empty axis', () => f(kiln.zeros([2, 0]), 1), empty.value, { shape: [2] });
        checkOp('size 0, other axis', () => f(kiln.zeros([0, 3]), 1), [], { shape: [0] });
      }
      for (const layout of LAYOUTS.slice(1)) {
        const v = VALUES.slice(0, 12);
        const want = reduceRef(v.map(Math.fround), [3, 4], 0, false, r.f);
        checkOp(`${layout.name} input, axis 0`, () => f(layout.make(v, 3, 4, 'float32'), 0), want.value, { kind: 'reduction' });
      }
    });
  }

  group('special values', () => {
    checkOp('sum with NaN', () => ops.sum(kiln.tensor([1, NaN, 2])), NaN);
    checkOp('sum of inf and -inf', () => ops.sum(kiln.tensor([Infinity, -Infinity])), NaN);
    checkOp('max with NaN is NaN', () => ops.max(kiln.tensor([[1, NaN, 3], [4, 5, 6]]), 1), [NaN, 6]);
    checkOp('min with NaN is NaN', () => ops.min(kiln.tensor([[1, NaN, 3], [4, 5, 6]]), 1), [NaN, 4]);
    checkOp('max of -inf', () => ops.max(kiln.tensor([-Infinity, -Infinity])), -Infinity);
    checkOp('logsumexp large', () => ops.logsumexp(kiln.tensor([1000, 1000])), 1000 + Math.log(2));
    checkOp('logsumexp tiny', () => ops.logsumexp(kiln.tensor([-1000, -1000])), -1000 + Math.log(2));
    checkOp('logsumexp all -inf', () => ops.logsumexp(kiln.tensor([[-Infinity, -Infinity], [0, -Infinity]]), 1), [-Infinity, 0]);
    checkOp('logsumexp with +inf', () => ops.logsumexp(kiln.tensor([Infinity, 1])), Infinity);
    checkOp('float32 sum of 4096 tenths', () => ops.sum(kiln.fill([4096], 0.1)), 4096 * Math.fround(0.1), { kind: 'reduction' });
    checkOp('int32 sum wraps', () => ops.sum(kiln.tensor([2147483647, 1], [2], 'int32')), -2147483648, { dtype: 'int32' });
    checkOp('max of bool is bool', () => ops.max(kiln.tensor([[false, true], [false, false]]), 1), [true, false], { dtype: 'bool' });
    checkOp('variance of constant is 0', () => ops.variance(kiln.fill([5], 0.1)), 0, { atol: 1e-7 });
    checkOp('std of int32', () => ops.std(kiln.tensor([1, 3], [2], 'int32')), 1, { dtype: 'float32' });
  });

  group('argmax and argmin', () => {
    const x = [[3, 1, 3, 0], [2, 2, -1, -1], [0, 5, 5, 1]];
    for (const [op, pick] of [['argmax', (a: number, b: number) => a > b], ['argmin', (a: number, b: number) => a < b]] as const) {
      const first = (xs: number[]) => xs.reduce((best, v, i) => (pick(v, xs[best]) ? i : best), 0);
      const rows = x.map(first);
      const cols = [0, 1, 2, 3].map((j) => first(x.map((r) => r[j])));
      const flat = first(x.flat());
      const f = (...args: unknown[]) => OPS[op](...args);
      checkOp(`${op} ties take the first, axis 1`, () => f(kiln.tensor(x), 1), rows, { dtype: 'int32' });
      checkOp(`${op} ties take the first, axis -1`, () => f(kiln.tensor(x), -1), rows, { dtype: 'int32' });
      checkOp(`${op} axis 0`, () => f(kiln.tensor(x), 0), cols, { dtype: 'int32' });
      checkOp(`${op} flattened`, () => f(kiln.tensor(x)), flat, { dtype: 'int32', shape: [] });
      checkOp(`${op} keepdims`, () => f(kiln.tensor(x), 1, true), rows.map((v) => [v]), { dtype: 'int32' });
      checkOp(`${op} int32`, () => f(kiln.tensor(x, [3, 4], 'int32'), 1), rows, { dtype: 'int32' });
      checkOp(`${op} float64`, () => f(kiln.tensor(x, [3, 4], 'float64'), 1), rows, { dtype: 'int32', requires: ['float64'] });
      checkOp(`${op} bool`, () => f(kiln.tensor([[false, true, true], [false, false, false]]), 1), op === 'argmax' ? [1, 0] : [0, 0], { dtype: 'int32' });
      checkOp(`${op} with infinities`, () => f(kiln.tensor([-Infinity, 1, Infinity, Infinity, -Infinity])), op === 'argmax' ? 2 : 0, { dtype: 'int32' });
      checkOp(`${op} scalar`, () => f(kiln.tensor(7)), 0, { dtype: 'int32' });
      checkOp(`${op} size 0 on another axis`, () => f(kiln.zeros([0, 3]), 1), [], { dtype: 'int32', shape: [0] });
      checkOp(`${op} rank 3 middle axis`, () => f(kiln.tensor(VALUES, SHAPE), 1),
        reduceRef(VALUES, SHAPE, 1, false, (xs) => first(xs)).value, { dtype: 'int32' });
      for (const layout of LAYOUTS.slice(1)) {
        checkOp(`${op} ${layout.name} input`, () => f(layout.make(x.flat(), 3, 4, 'float32'), 1), rows, { dtype: 'int32' });
      }
    }
  });

  group('cumsum', () => {
    const x = [[1, 2, 3], [4, 5, 6]];
    checkOp('axis 0', () => ops.cumsum(kiln.tensor(x), 0), [[1, 2, 3], [5, 7, 9]]);
    checkOp('axis 1', () => ops.cumsum(kiln.tensor(x), 1), [[1, 3, 6], [4, 9, 15]]);
    checkOp('axis -1', () => ops.cumsum(kiln.tensor(x), -1), [[1, 3, 6], [4, 9, 15]]);
    checkOp('flattened', () => ops.cumsum(kiln.tensor(x)), [1, 3, 6, 10, 15, 21]);
    checkOp('int32', () => ops.cumsum(kiln.tensor(x, [2, 3], 'int32'), 1), [[1, 3, 6], [4, 9, 15]], { dtype: 'int32' });
    checkOp('float64', () => ops.cumsum(kiln.tensor([0.1, 0.2, 0.3], [3], 'float64')), [0.1, 0.1 + 0.2, 0.1 + 0.2 + 0.3], { dtype: 'float64' });
    checkOp('bool counts as int32', () => ops.cumsum(kiln.tensor([true, false, true])), [1, 1, 2], { dtype: 'int32' });
    checkOp('NaN carries forward', () => ops.cumsum(kiln.tensor([1, NaN, 2])), [1, NaN, NaN]);
    checkOp('scalar', () => ops.cumsum(kiln.tensor(4)), [4]);
    checkOp('size 0', () => ops.cumsum(kiln.zeros([2, 0]), 1), [[], []], { shape: [2, 0] });
    checkOp('rank 3 middle axis', () => ops.cumsum(kiln.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]), 1), [[[1, 2], [4, 6]], [[5, 6], [12, 14]]]);
    for (const layout of LAYOUTS.slice(1)) {
      checkOp(`${layout.name} input`, () => ops.cumsum(layout.make(x.flat(), 2, 3, 'float32'), 1), [[1, 3, 6], [4, 9, 15]]);
    }
    // the kernel's flags, reached directly: the gradient uses reverse, nothing public uses exclusive
    const flags: [boolean, boolean, number[][]][] = [
      [false, true, [[6, 5, 3], [15, 11, 6]]],
      [true, false, [[0, 1, 3], [0, 4, 9]]],
      [true, true, [[5, 3, 0], [11, 6, 0]]],
    ];
    for (const [exclusive, reverse, want] of flags) {
      checkOp(`kernel exclusive=${exclusive} reverse=${reverse}`, () => ENGINE.run(CUMSUM, [kiln.tensor(x)], { axis: 1, exclusive, reverse }), want);
      checkOp(`kernel exclusive=${exclusive} reverse=${reverse} axis 0 int32`, () => ENGINE.run(CUMSUM, [kiln.tensor(x, [2, 3], 'int32')], { axis: 0, exclusive, reverse }),
        exclusive ? (reverse ? [[4, 5, 6], [0, 0, 0]] : [[0, 0, 0], [1, 2, 3]]) : [[5, 7, 9], [4, 5, 6]], { dtype: 'int32' });
    }
  });
});
