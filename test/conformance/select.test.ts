/**
 * The where and cast kernel rows: broadcasting of all three where operands, branch promotion,
 * every cast between the four dtypes (float to int truncates toward zero, anything to bool is
 * != 0, NaN included), and clip, which is composed from them.
 */
import * as kiln from '../../index.js';
import type { DType } from '../../backends/contract.js';
import { LAYOUTS, checkOp, describeBackends, group } from './harness.js';

const { ops } = kiln;

/** [from, to, inputs, expected] */
const CASTS: [DType, DType, number[], number[]][] = [
  ['float32', 'int32', [-1.7, -0.5, -0, 0.5, 1.7, 1e9, -2147483520, 99.99], [-1, 0, 0, 0, 1, 1e9, -2147483520, 99]],
  ['float32', 'bool', [-1.7, -0, 0, 0.5, NaN, Infinity, -Infinity, 1e-40], [1, 0, 0, 1, 1, 1, 1, 1]],
  ['float32', 'float64', [0.1, -1 / 3, 1e30, NaN, Infinity, -0], [0.1, -1 / 3, 1e30, NaN, Infinity, -0].map(Math.fround)],
  ['float64', 'float32', [0.1, 1 / 3, 1e300, 1e-50, NaN, -Infinity], [0.1, 1 / 3, Infinity, 0, NaN, -Infinity].map(Math.fround)],
  ['float64', 'int32', [-2.9, 2.9, 1e9, -0.1, 2147483647.5, -2147483648], [-2, 2, 1e9, 0, 2147483647, -2147483648]],
  ['float64', 'bool', [0, -0, 1e-300, NaN, -5], [0, 0, 1, 1, 1]],
  ['int32', 'float32', [16777217, -3, 0, 2147483647], [16777216, -3, 0, 2147483648]],
  ['int32', 'float64', [16777217, -3, 0, 2147483647, -2147483648], [16777217, -3, 0, 2147483647, -2147483648]],
  ['int32', 'bool', [-3, 0, 1, 2147483647], [1, 0, 1, 1]],
  ['bool', 'int32', [1, 0, 1], [1, 0, 1]],
  ['bool', 'float32', [1, 0, 1], [1, 0, 1]],
  ['bool', 'float64', [0, 1], [0, 1]],
];

const T = true;
const F = false;

describeBackends('select', () => {
  group('cast', () => {
    for (const [from, to, inputs, want] of CASTS) {
      checkOp(`${from} to ${to}`, () => ops.cast(kiln.tensor(inputs, [inputs.length], from), to), want, { dtype: to, requires: [from, to] });
    }
    for (const dt of ['float32', 'int32', 'bool'] as const) {
      checkOp(`${dt} to itself`, () => ops.cast(kiln.tensor([1, 0, 1], [3], dt), dt), [1, 0, 1], { dtype: dt });
    }
    checkOp('scalar', () => ops.cast(kiln.tensor(-3.5), 'int32'), -3, { dtype: 'int32' });
    checkOp('size 0', () => ops.cast(kiln.zeros([3, 0]), 'int32'), [[], [], []], { dtype: 'int32', shape: [3, 0] });
    for (const layout of LAYOUTS.slice(1)) {
      const v = [1.5, -2.5, 0, 7.9, -0.1, 3];
      checkOp(`${layout.name} input`, () => ops.cast(layout.make(v, 2, 3, 'float32'), 'int32'), [[1, -2, 0], [7, 0, 3]], { dtype: 'int32' });
    }
  });

  group('where', () => {
    const c = () => kiln.tensor([T, F, T]);
    checkOp('float32', () => ops.where(c(), kiln.tensor([1, 2, 3]), kiln.tensor([4, 5, 6])), [1, 5, 3], { dtype: 'float32' });
    checkOp('float64', () => ops.where(c(), kiln.tensor([1, 2, 3], [3], 'float64'), kiln.tensor([4, 5, 6], [3], 'float64')), [1, 5, 3], { dtype: 'float64' });
    checkOp('int32', () => ops.where(c(), kiln.tensor([1, 2, 3], [3], 'int32'), kiln.tensor([-4, -5, -6], [3], 'int32')), [1, -5, 3], { dtype: 'int32' });
    checkOp('bool', () => ops.where(c(), kiln.tensor([F, F, F]), kiln.tensor([T, T, F])), [F, T, F], { dtype: 'bool' });
    checkOp('NaN in the other branch does not leak', () => ops.where(kiln.tensor([T, F]), kiln.tensor([1, NaN]), kiln.tensor([NaN, 2])), [1, 2]);
    checkOp('special values pass through', () => ops.where(kiln.tensor([T, F, T]), kiln.tensor([NaN, 0, -Infinity]), kiln.tensor([0, Infinity, 0])), [NaN, Infinity, -Infinity]);
    checkOp('condition [2,1], x [3], y scalar', () => ops.where(kiln.tensor([[T], [F]]), kiln.tensor([1, 2, 3]), kiln.tensor(0)), [[1, 2, 3], [0, 0, 0]]);
    checkOp('condition scalar', () => ops.where(kiln.tensor(F), kiln.tensor([[1, 2]]), kiln.tensor([[3], [4]])), [[3, 3], [4, 4]]);
    checkOp('condition [3], x [2,1], y [1,1,1]', () => ops.where(c(), kiln.tensor([[1], [2]]), kiln.tensor([[[9]]])), [[[1, 9, 1], [2, 9, 2]]]);
    checkOp('condition [1,3] x [2,3] y [2,1]', () => ops.where(kiln.tensor([[F, T, F]]), kiln.tensor([[1, 2, 3], [4, 5, 6]]), kiln.tensor([[-1], [-2]])), [[-1, 2, -1], [-2, 5, -2]]);
    checkOp('float condition means != 0', () => ops.where(kiln.tensor([0, -0.5, NaN, -0]), 1, 2), [2, 1, 1, 2]);
    checkOp('int32 condition', () => ops.where(kiln.tensor([0, 3, -1], [3], 'int32'), kiln.tensor([1, 2, 3]), 0), [0, 2, 3]);
    checkOp('int32 and float32 branches give float32', () => ops.where(c(), kiln.tensor([1, 2, 3], [3], 'int32'), kiln.tensor([0.5, 0.5, 0.5])), [1, 0.5, 3], { dtype: 'float32' });
    checkOp('weak scalar branch keeps int32', () => ops.where(c(), kiln.tensor([1, 2, 3], [3], 'int32'), 0), [1, 0, 3], { dtype: 'int32' });
    checkOp('fractional scalar branch promotes int32', () => ops.where(c(), 1.5, kiln.tensor([1, 2, 3], [3], 'int32')), [1.5, 2, 1.5], { dtype: 'float32' });
    checkOp('size 0', () => ops.where(kiln.zeros([0], 'bool'), kiln.zeros([0]), kiln.tensor(1)), [], { shape: [0] });
    checkOp('size 0 broadcast [2,0]', () => ops.where(kiln.zeros([2, 1], 'bool'), kiln.zeros([0]), kiln.tensor(1)), [[], []], { shape: [2, 0] });
    checkOp('non-contiguous operands', () => ops.where(
      LAYOUTS[1].make([1, 0, 0, 1, 1, 0], 2, 3, 'bool'),
      LAYOUTS[3].make([1, 2, 3, 4, 5, 6], 2, 3, 'float32'),
      LAYOUTS[2].make([-1, -2, -3, -4, -5, -6], 2, 3, 'float32'),
    ), [[1, -2, -3], [4, 5, -6]]);
    checkOp('broadcastTo operand', () => ops.where(kiln.tensor([[T, F], [F, T]]), ops.broadcastTo(kiln.tensor([1, 2]), [2, 2]), 0), [[1, 0], [0, 2]]);
  });

  group('clip', () => {
    checkOp('float32', () => ops.clip(kiln.tensor([-2, -0.5, 0, 0.5, 2, NaN, Infinity, -Infinity]), -1, 1), [-1, -0.5, 0, 0.5, 1, NaN, 1, -1]);
    checkOp('int32 stays int32', () => ops.clip(kiln.tensor([-5, 0, 5, 9], [4], 'int32'), 0, 6), [0, 0, 5, 6], { dtype: 'int32' });
    checkOp('float64', () => ops.clip(kiln.tensor([0.1, 0.7], [2], 'float64'), 0.2, 0.6), [0.2, 0.6], { dtype: 'float64' });
    checkOp('scalar', () => ops.clip(kiln.tensor(3.5), 0, 1), 1);
    checkOp('size 0', () => ops.clip(kiln.zeros([0, 2]), 0, 1), [], { shape: [0, 2] });
    checkOp('transposed input', () => ops.clip(LAYOUTS[1].make([-3, 0.5, 3, 1, 2, -2], 2, 3, 'float32'), -1, 1), [[-1, 0.5, 1], [1, 1, -1]]);
  });

});
