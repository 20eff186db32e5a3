/**
 * Indexing: the gather and scatterAdd kernel rows, through take, takeAlongAxis, oneHot and take's
 * gradient: every index form (arrays, int32 and float tensors, typed arrays, negative, repeated,
 * scalar and multi-dimensional indices), every axis form and dtype, size-0 index sets.
 */
import * as kiln from '../../index.js';
import type { DType } from '../../backends/contract.js';
import { scatterAdd } from '../../src/ops/gather.js';
import { check, checkOp, describeBackends, expectClose, group } from './harness.js';

const { ops } = kiln;

const X = [[1, 2, 3], [4, 5, 6]];

describeBackends('index', () => {
  group('take', () => {
    checkOp('flattened', () => ops.take(kiln.tensor(X), [5, 0, 3]), [6, 1, 4]);
    checkOp('axis 0', () => ops.take(kiln.tensor(X), [1, 0, 1], 0), [[4, 5, 6], [1, 2, 3], [4, 5, 6]]);
    checkOp('axis 1', () => ops.take(kiln.tensor(X), [2, 0], 1), [[3, 1], [6, 4]]);
    checkOp('axis -1', () => ops.take(kiln.tensor(X), [2, 0], -1), [[3, 1], [6, 4]]);
    checkOp('negative indices count from the end', () => ops.take(kiln.tensor([1, 2, 3]), [-1, -3, 0], 0), [3, 1, 1]);
    checkOp('2-d indices', () => ops.take(kiln.tensor(X), [[0, 1], [1, 1]], 0), [[[1, 2, 3], [4, 5, 6]], [[4, 5, 6], [4, 5, 6]]]);
    checkOp('2-d indices in the middle', () => ops.take(kiln.tensor([[[1, 2], [3, 4], [5, 6]]]), [[2], [0]], 1), [[[[5, 6]], [[1, 2]]]]);
    checkOp('scalar index drops the axis', () => ops.take(kiln.tensor(X), 1, 1), [2, 5]);
    checkOp('int32 index tensor', () => ops.take(kiln.tensor(X), kiln.tensor([1, 0], [2], 'int32'), 0), [[4, 5, 6], [1, 2, 3]]);
    checkOp('float32 index tensor', () => ops.take(kiln.tensor([10, 20, 30]), kiln.tensor([2, 0]), 0), [30, 10]);
    checkOp('Int32Array indices', () => ops.take(kiln.tensor([10, 20, 30]), new Int32Array([1, 1]), 0), [20, 20]);
    checkOp('sliced index tensor', () => ops.take(kiln.tensor([10, 20, 30]), ops.slice(kiln.tensor([0, 2, 1], [3], 'int32'), [1], [2]), 0), [30, 20]);
    checkOp('empty indices', () => ops.take(kiln.tensor(X), [], 1), [[], []], { shape: [2, 0] });
    checkOp('size-0 other axis', () => ops.take(kiln.zeros([0, 3]), [2, 1], 1), [], { shape: [0, 2] });
    for (const dt of ['int32', 'bool', 'float64'] as DType[]) {
      checkOp(dt, () => ops.take(kiln.tensor([[1, 0], [0, 1]], [2, 2], dt), [1], 1), [[0], [1]], { dtype: dt, requires: [dt] });
    }
    checkOp('transposed x', () => ops.take(ops.transpose(kiln.tensor(X)), [2, 0], 0), [[3, 6], [1, 4]]);
    checkOp('flipped x', () => ops.take(ops.flip(kiln.tensor(X), 1), [0], 1), [[3], [6]]);
    checkOp('special values', () => ops.take(kiln.tensor([NaN, Infinity, -Infinity]), [2, 1, 0]), [-Infinity, Infinity, NaN]);
  });

  group('takeAlongAxis', () => {
    const x = [[10, 30, 20], [60, 40, 50]];
    checkOp('axis 1', () => ops.takeAlongAxis(kiln.tensor(x), [[0, 2, 1], [1, 2, 0]], 1), [[10, 20, 30], [40, 50, 60]]);
    checkOp('axis 0', () => ops.takeAlongAxis(kiln.tensor(x), [[1, 0, 1]], 0), [[60, 30, 50]]);
    checkOp('axis -1, fewer picks', () => ops.takeAlongAxis(kiln.tensor(x), [[1], [0]], -1), [[30], [60]]);
    checkOp('indices broadcast', () => ops.takeAlongAxis(kiln.tensor(x), [[2, 0]], 1), [[20, 10], [50, 60]]);
    checkOp('negative indices', () => ops.takeAlongAxis(kiln.tensor(x), [[-1], [-3]], 1), [[20], [60]]);
    checkOp('flattened', () => ops.takeAlongAxis(kiln.tensor(x), [5, 0]), [50, 10]);
    checkOp('int32 x and index tensor', () => ops.takeAlongAxis(kiln.tensor(x, [2, 3], 'int32'), kiln.tensor([[2], [1]], [2, 1], 'int32'), 1), [[20], [40]], { dtype: 'int32' });
    checkOp('rank 3 middle axis', () => ops.takeAlongAxis(kiln.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]), [[[1, 0]], [[0, 0]]], 1), [[[3, 2]], [[5, 6]]]);
    checkOp('transposed x', () => ops.takeAlongAxis(ops.transpose(kiln.tensor(x)), [[1, 0]], 0), [[30, 60]]);
    checkOp('argmax picks the max', () => {
      const t = kiln.tensor([[3, 9, 1], [7, 2, 8]]);
      return ops.takeAlongAxis(t, ops.argmax(t, 1, true), 1);
    }, [[9], [8]]);
  });

  group('oneHot', () => {
    checkOp('last axis', () => ops.oneHot(kiln.tensor([0, 2, 1], [3], 'int32'), 3), [[1, 0, 0], [0, 0, 1], [0, 1, 0]], { dtype: 'float32' });
    checkOp('out of range gives zeros', () => ops.oneHot(kiln.tensor([-1, 3, 1], [3], 'int32'), 3), [[0, 0, 0], [0, 0, 0], [0, 1, 0]]);
    checkOp('axis 0', () => ops.oneHot(kiln.tensor([0, 2], [2], 'int32'), 3, { axis: 0 }), [[1, 0], [0, 0], [0, 1]]);
    checkOp('int32 dtype', () => ops.oneHot(kiln.tensor([1], [1], 'int32'), 2, { dtype: 'int32' }), [[0, 1]], { dtype: 'int32' });
    checkOp('2-d indices', () => ops.oneHot(kiln.tensor([[0], [1]], [2, 1], 'int32'), 2), [[[1, 0]], [[0, 1]]]);
    checkOp('float indices', () => ops.oneHot(kiln.tensor([1, 0]), 2), [[0, 1], [1, 0]]);
    checkOp('scalar index', () => ops.oneHot(kiln.tensor(2, [], 'int32'), 4), [0, 0, 1, 0]);
    checkOp('no indices', () => ops.oneHot(kiln.zeros([0], 'int32'), 3), [], { shape: [0, 3] });
  });

  group('scatterAdd', () => {
    checkOp('repeated indices add up', () => scatterAdd(kiln.tensor([1, 2, 3, 4]), kiln.tensor([0, 2, 0, 3], [4], 'int32'), 0, 5), [4, 0, 2, 4, 0]);
    checkOp('axis 1 of rank 2', () => scatterAdd(kiln.tensor([[1, 2], [3, 4]]), kiln.tensor([1, 1], [2], 'int32'), 1, 3), [[0, 3, 0], [0, 7, 0]]);
    checkOp('2-d indices', () => scatterAdd(kiln.tensor([[[1, 1]], [[2, 2]]]), kiln.tensor([[1], [0]], [2, 1], 'int32'), 0, 2), [[2, 2], [1, 1]]);
    checkOp('int32 updates', () => scatterAdd(kiln.tensor([5, 6], [2], 'int32'), kiln.tensor([1, 1], [2], 'int32'), 0, 2), [0, 11], { dtype: 'int32' });
    checkOp('float64 updates', () => scatterAdd(kiln.tensor([0.1, 0.2], [2], 'float64'), kiln.tensor([0, 0], [2], 'int32'), 0, 1), [0.1 + 0.2], { dtype: 'float64' });
    checkOp('no updates give zeros', () => scatterAdd(kiln.zeros([0, 2]), kiln.zeros([0], 'int32'), 0, 3), [[0, 0], [0, 0], [0, 0]]);
    checkOp('output is zeroed first', () => {
      // a fresh buffer may hold old values: run twice so a reused buffer would show them
      scatterAdd(kiln.tensor([9, 9]), kiln.tensor([0, 1], [2], 'int32'), 0, 2).dispose();
      return scatterAdd(kiln.tensor([1]), kiln.tensor([1], [1], 'int32'), 0, 2);
    }, [0, 1]);
    check("take's gradient scatters back", async () => {
      const x = kiln.tensor([[1, 2, 3], [4, 5, 6]]);
      const g = kiln.grad((t) => ops.sum(ops.multiply(ops.take(t, [2, 0, 2], 1), kiln.tensor([[1, 10, 100], [2, 20, 200]]))))(x) as kiln.Tensor;
      await expectClose(g, [[10, 0, 101], [20, 0, 202]]);
      kiln.dispose([x, g]);
    });
  });
});
