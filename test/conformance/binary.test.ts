/**
 * Elementwise ops of two inputs: the 12 binary kernel rows and the ops composed from them, on
 * every dtype, with NumPy broadcasting, dtype promotion (weak JS scalars included), special values,
 * Python's mod/floor-division signs, int32 wrap-around and non-contiguous inputs.
 */
import * as kiln from '../../index.js';
import type { DType } from '../../backends/contract.js';
import { LAYOUTS, OPS, check, checkOp, describeBackends, expectClose, group, nest, stored } from './harness.js';
import { cPow, pyMod } from './math64.js';

const { ops } = kiln;

/** int32 wrap-around, as NumPy and every C backend do. */
const wrap = (v: number) => v | 0;

type Kind = 'arith' | 'divide' | 'minmax' | 'compare' | 'logical';

interface Row {
  op: string;
  kind: Kind;
  f: (a: number, b: number) => number;
  /** The int32 function when it differs from f (wrap-around, exact integer products). */
  fi?: (a: number, b: number) => number;
  floats: [number[], number[]];
  ints: [number[], number[]];
  /** bool operands, where defined (mod and floorDivide by false would divide by zero). */
  bools?: boolean;
}

const CMP_F: [number[], number[]] = [[1, 2, NaN, 1, -Infinity, Infinity, -0, 3, NaN], [2, 1, 1, NaN, 0, Infinity, 0, 3, NaN]];
const CMP_I: [number[], number[]] = [[1, 2, 3, -1, -2147483648], [2, 2, 1, -1, 2147483647]];
const LOGIC_F: [number[], number[]] = [[0, 1, 0, 2.5, NaN, -0], [0, 0, 3, -1, 1, 0]];
const LOGIC_I: [number[], number[]] = [[0, 1, 0, -2], [0, 0, 3, 7]];

const ROWS: Row[] = [
  {
    op: 'add', kind: 'arith', f: (a, b) => a + b, fi: (a, b) => wrap(a + b), bools: true,
    floats: [[1.5, -2, 1e30, Infinity, Infinity, NaN, 0.1, -0], [2.25, 2, 1e30, -Infinity, 1, 1, 0.2, 0]],
    ints: [[1, -2, 2147483647, -2147483648, 0, 5], [2, 2, 1, -1, 0, -7]],
  },
  {
    op: 'subtract', kind: 'arith', f: (a, b) => a - b, fi: (a, b) => wrap(a - b), bools: true,
    floats: [[1.5, -2, Infinity, Infinity, NaN, 3, 1e-30, 0], [2.25, 2, Infinity, 1, 1, -Infinity, 1e-30, -0]],
    ints: [[1, -2, -2147483648, 0, 5, 3], [2, 2, 1, 0, -7, 3]],
  },
  {
    op: 'multiply', kind: 'arith', f: (a, b) => a * b, fi: Math.imul, bools: true,
    floats: [[1.5, -2, Infinity, 0, NaN, 1e20, -3, 1e-30], [2, 2, 0, Infinity, 1, 1e20, -0.5, 1e-30]],
    ints: [[3, -4, 46341, 2147483647, 0, 65536], [5, 6, 46341, 2147483647, -3, 65536]],
  },
  {
    op: 'divide', kind: 'divide', f: (a, b) => a / b, bools: true,
    floats: [[1, -1, 0, Infinity, 7, -7, 1e-30, 3], [0, 0, 0, Infinity, 2, 2, 1e30, -0.5]],
    ints: [[7, -7, 1, 0, 6, 2147483647, 1, -1, 0], [2, 2, 3, 5, -4, 1, 0, 0, 0]],
  },
  {
    op: 'power', kind: 'arith', f: cPow, bools: true,
    floats: [[2, 2, -8, 0, 0, -2, -2, 1, 1, NaN, 4, 10], [0.5, -1, 1 / 3, 0, -1, 2, 3, NaN, Infinity, 0, 0.5, 39]],
    ints: [[2, -2, 0, 3, 1, 7], [10, 3, 0, 4, 100, 2]],
  },
  {
    op: 'maximum', kind: 'minmax', f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)), bools: true,
    floats: [[1, -1, NaN, 2, Infinity, -Infinity, 0.5, 3], [2, -2, 1, NaN, 1, 1, 0.5, -3]],
    ints: [[1, -5, 3, 0], [2, -7, 3, 2147483647]],
  },
  {
    op: 'minimum', kind: 'minmax', f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)), bools: true,
    floats: [[1, -1, NaN, 2, Infinity, -Infinity, 0.5, 3], [2, -2, 1, NaN, 1, 1, 0.5, -3]],
    ints: [[1, -5, 3, 0], [2, -7, 3, -2147483648]],
  },
  {
    op: 'mod', kind: 'arith', f: pyMod,
    floats: [[-7, 7, -7, 7, 6, -6, -7.5, 7.5, 5, 0.75, -1e-30, 5.5], [3, -3, -3, 3, 3, 3, 2, -2, 0, 0.25, 3, 2.5]],
    ints: [[-7, 7, -7, 7, 6, -6, 0, 9, -1], [3, -3, -3, 3, 3, 3, 5, 4, 2147483647]],
  },
  {
    op: 'floorDivide', kind: 'arith', f: (a, b) => Math.floor(a / b),
    floats: [[-7, 7, -7, 7, 1, -1, 0, 7.5, -7.5, 6], [2, -2, -2, 2, 0, 0, 0, 2, 2, 3]],
    ints: [[-7, 7, -7, 7, 6, -6, 0, 9, -1], [2, -2, -2, 2, 3, 3, 5, 4, 2147483647]],
  },
  { op: 'equal', kind: 'compare', f: (a, b) => Number(a === b), floats: CMP_F, ints: CMP_I, bools: true },
  { op: 'notEqual', kind: 'compare', f: (a, b) => Number(a !== b), floats: CMP_F, ints: CMP_I, bools: true },
  { op: 'less', kind: 'compare', f: (a, b) => Number(a < b), floats: CMP_F, ints: CMP_I, bools: true },
  { op: 'lessEqual', kind: 'compare', f: (a, b) => Number(a <= b), floats: CMP_F, ints: CMP_I, bools: true },
  { op: 'greater', kind: 'compare', f: (a, b) => Number(a > b), floats: CMP_F, ints: CMP_I, bools: true },
  { op: 'greaterEqual', kind: 'compare', f: (a, b) => Number(a >= b), floats: CMP_F, ints: CMP_I, bools: true },
  { op: 'logicalAnd', kind: 'logical', f: (a, b) => Number(truthy(a) && truthy(b)), floats: LOGIC_F, ints: LOGIC_I, bools: true },
  { op: 'logicalOr', kind: 'logical', f: (a, b) => Number(truthy(a) || truthy(b)), floats: LOGIC_F, ints: LOGIC_I, bools: true },
  { op: 'logicalXor', kind: 'logical', f: (a, b) => Number(truthy(a) !== truthy(b)), floats: LOGIC_F, ints: LOGIC_I, bools: true },
];

function truthy(v: number): boolean {
  return v !== 0; // NaN is true, as a cast to bool says
}

function outDType(kind: Kind, input: DType): DType {
  if (kind === 'compare' || kind === 'logical') return 'bool';
  if (input === 'float32' || input === 'float64') return input;
  if (kind === 'divide') return 'float32';
  if (kind === 'minmax') return input;
  return 'int32';
}

function expected(row: Row, a: readonly number[], b: readonly number[], input: DType): number[] {
  const out = outDType(row.kind, input);
  const f = input === 'float32' || input === 'float64' || row.kind === 'divide' ? row.f : row.fi ?? row.f;
  return a.map((x, i) => {
    const y = f(stored(x, input), stored(b[i], input));
    return out === 'int32' ? wrap(y) : stored(y, out);
  });
}

const BOOL_A = [0, 0, 1, 1];
const BOOL_B = [0, 1, 0, 1];

/** Row-major values of `shape` broadcast from `values` of `from`. */
function broadcastValues(values: readonly number[], from: readonly number[], shape: readonly number[]): number[] {
  const size = shape.reduce((p, d) => p * d, 1);
  const out: number[] = [];
  for (let k = 0; k < size; k++) {
    let rem = k;
    let src = 0;
    let stride = 1;
    const idx: number[] = [];
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
    }
    for (let d = from.length - 1; d >= 0; d--) {
      const i = from[d] === 1 ? 0 : idx[d + shape.length - from.length];
      src += i * stride;
      stride *= from[d];
    }
    out.push(values[src]);
  }
  return out;
}

const iota = (shape: readonly number[], start = 1) => Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => start + i);

/** [a's shape, b's shape, the broadcast shape] */
const BROADCASTS: [number[], number[], number[]][] = [
  [[2, 3], [3], [2, 3]],
  [[3], [2, 3], [2, 3]],
  [[2, 1], [1, 3], [2, 3]],
  [[3, 1, 2], [4, 1], [3, 4, 2]],
  [[1, 4], [3, 2, 1], [3, 2, 4]],
  [[], [2, 3], [2, 3]],
  [[2, 3], [], [2, 3]],
  [[1], [], [1]],
  [[2, 1, 1], [1, 1, 4], [2, 1, 4]],
  [[1, 1, 1, 5], [5], [1, 1, 1, 5]],
  [[2, 0], [1], [2, 0]],
  [[0], [], [0]],
  [[0, 3], [3], [0, 3]],
  [[2, 1], [2, 0], [2, 0]],
  [[1, 0], [3, 1], [3, 0]],
];

describeBackends('binary', () => {
  for (const row of ROWS) {
    group(row.op, () => {
      const f = (a: unknown, b: unknown) => OPS[row.op](a, b);
      for (const dt of ['float32', 'float64', 'int32'] as const) {
        const [a, b] = dt === 'int32' ? row.ints : row.floats;
        checkOp(dt, () => f(kiln.tensor(a, [a.length], dt), kiln.tensor(b, [b.length], dt)), expected(row, a, b, dt), {
          dtype: outDType(row.kind, dt), requires: [dt],
        });
      }
      if (row.bools) {
        checkOp('bool', () => f(kiln.tensor(BOOL_A, [4], 'bool'), kiln.tensor(BOOL_B, [4], 'bool')), expected(row, BOOL_A, BOOL_B, 'bool'), {
          dtype: outDType(row.kind, 'bool'),
        });
      }
      const [a, b] = row.floats;
      checkOp('scalars', () => f(kiln.tensor(a[0]), kiln.tensor(b[0])), expected(row, [a[0]], [b[0]], 'float32')[0], { dtype: outDType(row.kind, 'float32') });
      checkOp('size 0', () => f(kiln.zeros([0, 3]), kiln.ones([3])), [], { shape: [0, 3], dtype: outDType(row.kind, 'float32') });
      // every layout of `a` against a row broadcast from b and a transposed b
      const n = a.length - (a.length % 2);
      const [r, c] = [2, n / 2];
      const want = nest(expected(row, a.slice(0, n), b.slice(0, n), 'float32'), [r, c]);
      for (const layout of LAYOUTS.slice(1)) {
        checkOp(`${layout.name} inputs`, () => f(layout.make(a.slice(0, n), r, c, 'float32'), LAYOUTS[1].make(b.slice(0, n), r, c, 'float32')), want);
      }
      const firstRow = a.slice(0, c);
      checkOp('broadcastTo input', () => f(ops.broadcastTo(kiln.tensor(firstRow), [r, c]), kiln.tensor(b.slice(0, n), [r, c])),
        nest(expected(row, [...firstRow, ...firstRow], b.slice(0, n), 'float32'), [r, c]));
    });
  }

  group('broadcasting', () => {
    for (const [sa, sb, out] of BROADCASTS) {
      const a = iota(sa, 1);
      const b = iota(sb, 10).map((v) => v * 10);
      const name = `[${sa}] and [${sb}]`;
      const ab = broadcastValues(a, sa, out);
      const bb = broadcastValues(b, sb, out);
      checkOp(`add ${name}`, () => ops.add(kiln.tensor(a, sa), kiln.tensor(b, sb)), nest(ab.map((v, i) => v + bb[i]), out), { shape: out });
      checkOp(`subtract ${name}`, () => ops.subtract(kiln.tensor(a, sa), kiln.tensor(b, sb)), nest(ab.map((v, i) => v - bb[i]), out), { shape: out });
      const bi = iota(sb, 0).map((v) => 3 * v - 2);
      const bib = broadcastValues(bi, sb, out);
      checkOp(`less int32 ${name}`, () => ops.less(kiln.tensor(a, sa, 'int32'), kiln.tensor(bi, sb, 'int32')),
        nest(ab.map((v, i) => Number(v < bib[i])), out), { shape: out, dtype: 'bool' });
    }
    checkOp('transposed [3,2] and [2]', () => ops.subtract(ops.transpose(kiln.tensor([[1, 2, 3], [4, 5, 6]])), kiln.tensor([10, 20])),
      [[-9, -16], [-8, -15], [-7, -14]]);
    checkOp('flipped [2,1] and sliced [1,3]', () => ops.multiply(ops.flip(kiln.tensor([[1], [2]]), 0), ops.slice(kiln.tensor([[9, 3, 4, 5]]), [0, 1], [1, 3])),
      [[6, 8, 10], [3, 4, 5]]);
  });

  group('dtype promotion', () => {
    const i32 = () => kiln.tensor([1, 2, 3], [3], 'int32');
    const f32 = () => kiln.tensor([0.5, 1, 1.5], [3], 'float32');
    const f64 = () => kiln.tensor([0.25, 0.5, 0.75], [3], 'float64');
    const b = () => kiln.tensor([true, false, true]);
    checkOp('int32 + float32 is float32', () => ops.add(i32(), f32()), [1.5, 3, 4.5], { dtype: 'float32' });
    checkOp('float32 + int32 is float32', () => ops.add(f32(), i32()), [1.5, 3, 4.5], { dtype: 'float32' });
    checkOp('float32 + float64 is float64', () => ops.add(f32(), f64()), [0.75, 1.5, 2.25], { dtype: 'float64' });
    checkOp('int32 * float64 is float64', () => ops.multiply(i32(), f64()), [0.25, 1, 2.25], { dtype: 'float64' });
    checkOp('bool + bool is int32', () => ops.add(b(), b()), [2, 0, 2], { dtype: 'int32' });
    checkOp('bool + int32 is int32', () => ops.add(b(), i32()), [2, 2, 4], { dtype: 'int32' });
    checkOp('bool * float32 is float32', () => ops.multiply(b(), f32()), [0.5, 0, 1.5], { dtype: 'float32' });
    checkOp('int32 / int32 is float32', () => ops.divide(kiln.tensor([7, -7, 1], [3], 'int32'), kiln.tensor([2, 2, 3], [3], 'int32')), [3.5, -3.5, 1 / 3], { dtype: 'float32' });
    checkOp('float64 / int32 is float64', () => ops.divide(f64(), i32()), [0.25, 0.25, 0.25], { dtype: 'float64' });
    checkOp('int32 + 2 stays int32', () => ops.add(i32(), 2), [3, 4, 5], { dtype: 'int32' });
    checkOp('2 - int32 stays int32', () => ops.subtract(2, i32()), [1, 0, -1], { dtype: 'int32' });
    checkOp('int32 * 2.5 is float32', () => ops.multiply(i32(), 2.5), [2.5, 5, 7.5], { dtype: 'float32' });
    checkOp('float64 + 0.1 stays float64', () => ops.add(f64(), 0.1), [0.35, 0.6, 0.85], { dtype: 'float64' });
    checkOp('float32 + 0.1 stays float32', () => ops.add(f32(), 0.1), [0.6, 1.1, 1.6].map(Math.fround), { dtype: 'float32' });
    checkOp('bool + 1 is int32', () => ops.add(b(), 1), [2, 1, 2], { dtype: 'int32' });
    checkOp('int32 > 1.5 compares as float', () => ops.greater(i32(), 1.5), [false, true, true], { dtype: 'bool' });
    checkOp('int32 == float32 compares as float', () => ops.equal(i32(), kiln.tensor([1, 2.5, 3])), [true, false, true], { dtype: 'bool' });
    checkOp('number and number is float32', () => ops.add(1, 2), 3, { dtype: 'float32' });
    checkOp('nested array operand', () => ops.add([[1], [2]], kiln.tensor([10, 20], [2], 'int32')), [[11, 21], [12, 22]], { dtype: 'float32' });
    checkOp('typed array operand', () => ops.add(new Int32Array([1, 2]), kiln.tensor([10, 20], [2], 'int32')), [11, 22], { dtype: 'int32' });
    check('Variable operand', async () => {
      const v = new kiln.Variable(kiln.tensor([2, 3]));
      await expectClose(ops.multiply(v, 2), [4, 6], { dtype: 'float32' });
      v.dispose();
    });
  });

  check('no input is changed', async () => {
    const a = kiln.tensor([1, 2, 3]);
    const b = kiln.tensor([4, 5, 6]);
    ops.add(a, b).dispose();
    ops.multiply(a, a).dispose();
    await expectClose(a, [1, 2, 3]);
    await expectClose(b, [4, 5, 6]);
    kiln.dispose([a, b]);
  });
});
