/**
 * Activations, composed from the kernel rows: each checked against its float64 definition over
 * large, small, zero and special inputs (no overflow to NaN at ±1000; NaN stays NaN), on float32,
 * float64, int32 and non-contiguous inputs; softmax and logSoftmax on every axis form.
 */
import * as kiln from '../../index.js';
import type { DType } from '../../backends/contract.js';
import { LAYOUTS, OPS, checkOp, describeBackends, group, nest, stored } from './harness.js';
import { erf64 } from './math64.js';

const { ops } = kiln;

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const relu6 = (x: number) => (Number.isNaN(x) ? NaN : Math.min(Math.max(x, 0), 6));
const elu = (alpha: number) => (x: number) => (x > 0 ? x : alpha * Math.expm1(x));
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const hardSigmoid = (x: number) => relu6(x + 3) / 6;

const FINITE = [-1000, -20, -3, -1, -0.5, 0, 0.25, 1, 3, 6.5, 20, 1000];
const SPECIAL = [NaN, Infinity, -Infinity];

interface Row {
  name: string;
  call: (x: kiln.Tensor) => kiln.Tensor;
  f: (x: number) => number;
  /** Inputs beyond FINITE: the special values whose limit the formula computes. */
  special: number[];
  /** relu and relu6 keep integer dtypes; the others compute in float32. */
  keepsInt?: boolean;
}

const ROWS: Row[] = [
  { name: 'relu', call: (x) => ops.relu(x), f: (x) => (Number.isNaN(x) ? NaN : Math.max(x, 0)), special: SPECIAL, keepsInt: true },
  { name: 'relu6', call: (x) => ops.relu6(x), f: relu6, special: SPECIAL, keepsInt: true },
  { name: 'leakyRelu', call: (x) => ops.leakyRelu(x), f: (x) => (x > 0 ? x : 0.2 * x), special: SPECIAL },
  { name: 'leakyRelu slope 0.01', call: (x) => ops.leakyRelu(x, 0.01), f: (x) => (x > 0 ? x : 0.01 * x), special: SPECIAL },
  { name: 'elu', call: (x) => ops.elu(x), f: elu(1), special: SPECIAL },
  { name: 'elu alpha 0.5', call: (x) => OPS.elu(x, 0.5), f: elu(0.5), special: SPECIAL },
  { name: 'selu', call: (x) => ops.selu(x), f: (x) => SELU_SCALE * elu(SELU_ALPHA)(x), special: SPECIAL },
  {
    name: 'gelu', call: (x) => ops.gelu(x),
    f: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), special: [NaN, Infinity],
  },
  { name: 'gelu exact', call: (x) => ops.gelu(x, false), f: (x) => 0.5 * x * (1 + erf64(x / Math.SQRT2)), special: [NaN, Infinity] },
  { name: 'silu', call: (x) => ops.silu(x), f: (x) => x * sigmoid(x), special: [NaN, Infinity] },
  { name: 'hardSilu', call: (x) => OPS.hardSilu(x), f: (x) => x * hardSigmoid(x), special: [NaN, Infinity] },
  { name: 'sigmoid', call: (x) => ops.sigmoid(x), f: sigmoid, special: SPECIAL },
  { name: 'hardSigmoid', call: (x) => ops.hardSigmoid(x), f: hardSigmoid, special: SPECIAL },
  { name: 'softplus', call: (x) => ops.softplus(x), f: (x) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0), special: SPECIAL },
  { name: 'softsign', call: (x) => ops.softsign(x), f: (x) => x / (1 + Math.abs(x)), special: [NaN] },
];

function softmaxRows(rows: number[][]): number[][] {
  return rows.map((r) => {
    const m = Math.max(...r);
    const e = r.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

const logOf = (rows: number[][]) => rows.map((r) => r.map(Math.log));
const transpose2 = (rows: number[][]) => rows[0].map((_, j) => rows.map((r) => r[j]));

describeBackends('activations', () => {
  for (const row of ROWS) {
    group(row.name, () => {
      const values = [...FINITE, ...row.special];
      for (const dt of ['float32', 'float64'] as DType[]) {
        checkOp(dt, () => row.call(kiln.tensor(values, [values.length], dt)), values.map((v) => stored(row.f(stored(v, dt)), dt)), { dtype: dt, requires: [dt] });
      }
      const ints = [-3, -1, 0, 1, 2, 7];
      const intOut = row.keepsInt ? 'int32' : 'float32';
      checkOp('int32', () => row.call(kiln.tensor(ints, [6], 'int32')), ints.map((v) => stored(row.f(v), intOut)), { dtype: intOut });
      checkOp('scalar', () => row.call(kiln.tensor(-0.5)), Math.fround(row.f(Math.fround(-0.5))));
      checkOp('size 0', () => row.call(kiln.zeros([0, 4])), [], { shape: [0, 4] });
      for (const layout of LAYOUTS.slice(1)) {
        const v = FINITE.slice(1, 11);
        checkOp(`${layout.name} input`, () => row.call(layout.make(v, 2, 5, 'float32')), nest(v.map((x) => Math.fround(row.f(Math.fround(x)))), [2, 5]));
      }
    });
  }

  for (const name of ['softmax', 'logSoftmax'] as const) {
    const ref = (rows: number[][]) => (name === 'softmax' ? softmaxRows(rows) : logOf(softmaxRows(rows)));
    const f = (...args: unknown[]) => OPS[name](...args);
    group(name, () => {
      const x = [[1, 2, 3], [-1, 0, 4]];
      checkOp('last axis by default', () => f(kiln.tensor(x)), ref(x), { kind: 'reduction' });
      checkOp('axis 0', () => f(kiln.tensor(x), 0), transpose2(ref(transpose2(x))), { kind: 'reduction' });
      checkOp('axis -2', () => f(kiln.tensor(x), -2), transpose2(ref(transpose2(x))), { kind: 'reduction' });
      checkOp('all axes', () => f(kiln.tensor(x), [0, 1]), nest(ref([x.flat()])[0], [2, 3]), { kind: 'reduction' });
      checkOp('large inputs do not overflow', () => f(kiln.tensor([[1000, 1001, 1002], [-1000, -1001, -1002]])), ref([[0, 1, 2], [0, -1, -2]]), { kind: 'reduction' });
      checkOp('-inf entries', () => f(kiln.tensor([[-Infinity, 0, 0]])), ref([[-Infinity, 0, 0]]), { kind: 'reduction' });
      checkOp('NaN poisons its row only', () => f(kiln.tensor([[NaN, 0], [0, 0]])), [[NaN, NaN], ref([[0, 0]])[0]], { kind: 'reduction' });
      checkOp('float64', () => f(kiln.tensor(x, [2, 3], 'float64')), ref(x), { dtype: 'float64', kind: 'reduction' });
      checkOp('int32 input', () => f(kiln.tensor(x, [2, 3], 'int32')), ref(x), { dtype: 'float32', kind: 'reduction' });
      checkOp('one element', () => f(kiln.tensor([[5]])), name === 'softmax' ? [[1]] : [[0]]);
      checkOp('rank 1', () => f(kiln.tensor([0, Math.log(3)])), ref([[0, Math.log(3)]])[0], { kind: 'reduction' });
      checkOp('size 0', () => f(kiln.zeros([0, 3])), [], { shape: [0, 3] });
      for (const layout of LAYOUTS.slice(1)) {
        checkOp(`${layout.name} input`, () => f(layout.make(x.flat(), 2, 3, 'float32')), ref(x), { kind: 'reduction' });
      }
    });
  }
});
