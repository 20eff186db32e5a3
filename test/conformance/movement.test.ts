/**
 * Movement: the transpose, slice, pad, concat and broadcastTo kernel rows and every op composed
 * from them (reshape views, expandDims, squeeze, stack, split, tile, repeat, flip, moveaxis), on
 * every dtype, scalars and size-0 shapes, chained (a reshape of a transpose is the classic layout
 * trap), plus the slice kernel's non-unit steps.
 */
import * as kiln from '../../index.js';
import type { DType } from '../../backends/contract.js';
import { ENGINE } from '../../src/engine.js';
import { SLICE } from '../../src/ops/movement.js';
import { check, checkOp, describeBackends, expectClose, group, nest } from './harness.js';

const { ops } = kiln;

const sizeOf = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const iota = (shape: readonly number[]) => Array.from({ length: sizeOf(shape) }, (_, i) => i + 1);

/** Values of `shape` with axes permuted: out.shape[j] = shape[perm[j]]. */
function permute(values: readonly number[], shape: readonly number[], perm: readonly number[]): number[] {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => sizeOf(shape.slice(i + 1)));
  return Array.from({ length: values.length }, (_, k) => {
    let rem = k;
    let src = 0;
    for (let j = outShape.length - 1; j >= 0; j--) {
      src += (rem % outShape[j]) * strides[perm[j]];
      rem = Math.floor(rem / outShape[j]);
    }
    return values[src];
  });
}

const X23 = [[1, 2, 3], [4, 5, 6]];
const X234 = iota([2, 3, 4]);

describeBackends('movement', () => {
  group('reshape', () => {
    checkOp('[2,3] to [3,2]', () => ops.reshape(kiln.tensor(X23), [3, 2]), [[1, 2], [3, 4], [5, 6]]);
    checkOp('to [6]', () => ops.reshape(kiln.tensor(X23), [6]), [1, 2, 3, 4, 5, 6]);
    checkOp('inferred -1', () => ops.reshape(kiln.tensor(X23), [-1, 2]), [[1, 2], [3, 4], [5, 6]]);
    checkOp('unit axes', () => ops.reshape(kiln.tensor(X23), [1, 6, 1]), [[[1], [2], [3], [4], [5], [6]]]);
    checkOp('scalar to [1,1]', () => ops.reshape(kiln.tensor(5), [1, 1]), [[5]]);
    checkOp('[1] to scalar', () => ops.reshape(kiln.tensor([5]), []), 5);
    checkOp('size 0', () => ops.reshape(kiln.zeros([0, 3]), [3, 0]), [[], [], []], { shape: [3, 0] });
    checkOp('size 0 inferred', () => ops.reshape(kiln.zeros([0, 3]), [-1, 3]), [], { shape: [0, 3] });
    checkOp('int32', () => ops.reshape(kiln.tensor(X23, [2, 3], 'int32'), [3, 2]), [[1, 2], [3, 4], [5, 6]], { dtype: 'int32' });
    checkOp('bool', () => ops.reshape(kiln.tensor([true, false, true, true]), [2, 2]), [[true, false], [true, true]], { dtype: 'bool' });
    checkOp('of a transpose', () => ops.reshape(ops.transpose(kiln.tensor(X23)), [6]), [1, 4, 2, 5, 3, 6]);
    checkOp('of a flip', () => ops.reshape(ops.flip(kiln.tensor(X23), 1), [3, 2]), [[3, 2], [1, 6], [5, 4]]);
    checkOp('of a broadcast', () => ops.reshape(ops.broadcastTo(kiln.tensor([1, 2]), [2, 2]), [4]), [1, 2, 1, 2]);
    check('a view outlives its source', async () => {
      const x = kiln.tensor(X23);
      const v = ops.reshape(x, [6]);
      x.dispose();
      await expectClose(v, [1, 2, 3, 4, 5, 6]);
      v.dispose();
    });
  });

  group('transpose', () => {
    const perms: (number[] | undefined)[] = [undefined, [0, 1, 2], [1, 0, 2], [2, 0, 1], [0, 2, 1], [-1, 0, 1]];
    for (const perm of perms) {
      const p = perm === undefined ? [2, 1, 0] : perm.map((a) => (a < 0 ? a + 3 : a));
      checkOp(`[2,3,4] ${perm ? JSON.stringify(perm) : 'reversed'}`, () => ops.transpose(kiln.tensor(X234, [2, 3, 4]), perm), nest(permute(X234, [2, 3, 4], p), p.map((a) => [2, 3, 4][a])));
    }
    const x4 = iota([2, 1, 3, 2]);
    checkOp('rank 4 [3,0,2,1]', () => ops.transpose(kiln.tensor(x4, [2, 1, 3, 2]), [3, 0, 2, 1]), nest(permute(x4, [2, 1, 3, 2], [3, 0, 2, 1]), [2, 2, 3, 1]));
    for (const dt of ['int32', 'bool', 'float64'] as DType[]) {
      checkOp(dt, () => ops.transpose(kiln.tensor([[1, 0, 1], [0, 0, 1]], [2, 3], dt)), [[1, 0], [0, 0], [1, 1]], { dtype: dt, requires: [dt] });
    }
    checkOp('rank 1 is unchanged', () => ops.transpose(kiln.tensor([1, 2, 3])), [1, 2, 3]);
    checkOp('scalar', () => ops.transpose(kiln.tensor(2)), 2);
    checkOp('size 0', () => ops.transpose(kiln.zeros([0, 2])), [[], []], { shape: [2, 0] });
    checkOp('of a transpose', () => ops.transpose(ops.transpose(kiln.tensor(X234, [2, 3, 4]), [1, 0, 2]), [2, 1, 0]), nest(permute(X234, [2, 3, 4], [2, 0, 1]), [4, 2, 3]));
    checkOp('of a slice', () => ops.transpose(ops.slice(kiln.tensor(X23), [0, 1], [2, 2])), [[2, 5], [3, 6]]);
    checkOp('moveaxis', () => ops.moveaxis(kiln.tensor(X234, [2, 3, 4]), 0, -1), nest(permute(X234, [2, 3, 4], [1, 2, 0]), [3, 4, 2]));
    checkOp('swapaxes', () => ops.swapaxes(kiln.tensor(X234, [2, 3, 4]), 0, 2), nest(permute(X234, [2, 3, 4], [2, 1, 0]), [4, 3, 2]));
  });

  group('expandDims and squeeze', () => {
    checkOp('expandDims 0', () => ops.expandDims(kiln.tensor([1, 2]), 0), [[1, 2]]);
    checkOp('expandDims -1', () => ops.expandDims(kiln.tensor([1, 2]), -1), [[1], [2]]);
    checkOp('expandDims 1 of rank 2', () => ops.expandDims(kiln.tensor(X23), 1), [[[1, 2, 3]], [[4, 5, 6]]]);
    checkOp('expandDims [0, 2]', () => ops.expandDims(kiln.tensor([1, 2]), [0, 2]), [[[1], [2]]]);
    checkOp('expandDims scalar', () => ops.expandDims(kiln.tensor(3), 0), [3]);
    checkOp('squeeze all', () => ops.squeeze(kiln.zeros([1, 2, 1, 1])), [0, 0]);
    checkOp('squeeze axis 2', () => ops.squeeze(kiln.tensor([[[1], [2]]]), 2), [[1, 2]]);
    checkOp('squeeze axis -3', () => ops.squeeze(kiln.tensor([[[1], [2]]]), -3), [[1], [2]]);
    checkOp('squeeze to a scalar', () => ops.squeeze(kiln.tensor([[7]])), 7);
    checkOp('squeeze nothing', () => ops.squeeze(kiln.tensor(X23)), X23);
    checkOp('squeeze a transpose', () => ops.squeeze(ops.transpose(kiln.tensor([[1, 2, 3]]))), [1, 2, 3]);
  });

  group('concatenate and stack', () => {
    const a = () => kiln.tensor([[1, 2], [3, 4]]);
    const b = () => kiln.tensor([[5, 6]]);
    checkOp('axis 0', () => ops.concatenate([a(), b()]), [[1, 2], [3, 4], [5, 6]]);
    checkOp('axis 1', () => ops.concatenate([a(), kiln.tensor([[7], [8]])], 1), [[1, 2, 7], [3, 4, 8]]);
    checkOp('axis -1 of three', () => ops.concatenate([kiln.tensor([[1]]), kiln.tensor([[2, 3]]), kiln.tensor([[4]])], -1), [[1, 2, 3, 4]]);
    checkOp('rank 3 middle axis', () => ops.concatenate([kiln.tensor([[[1, 2]], [[3, 4]]]), kiln.tensor([[[5, 6], [7, 8]], [[9, 10], [11, 12]]])], 1),
      [[[1, 2], [5, 6], [7, 8]], [[3, 4], [9, 10], [11, 12]]]);
    checkOp('one input', () => ops.concatenate([a()]), [[1, 2], [3, 4]]);
    checkOp('size-0 pieces', () => ops.concatenate([kiln.zeros([0, 2]), b(), kiln.zeros([0, 2])]), [[5, 6]]);
    checkOp('all size 0', () => ops.concatenate([kiln.zeros([2, 0]), kiln.zeros([2, 0])], 1), [[], []], { shape: [2, 0] });
    checkOp('int32 and float32 give float32', () => ops.concatenate([kiln.tensor([1], [1], 'int32'), kiln.tensor([0.5])]), [1, 0.5], { dtype: 'float32' });
    checkOp('bool', () => ops.concatenate([kiln.tensor([true]), kiln.tensor([false, true])]), [true, false, true], { dtype: 'bool' });
    checkOp('float64', () => ops.concatenate([kiln.tensor([0.1], [1], 'float64'), kiln.tensor([0.2], [1], 'float64')]), [0.1, 0.2], { dtype: 'float64' });
    checkOp('non-contiguous pieces', () => ops.concatenate([ops.transpose(a()), ops.flip(b(), 1), ops.broadcastTo(kiln.tensor([9]), [1, 2])]), [[1, 3], [2, 4], [6, 5], [9, 9]]);
    checkOp('stack axis 0', () => ops.stack([kiln.tensor([1, 2]), kiln.tensor([3, 4])]), [[1, 2], [3, 4]]);
    checkOp('stack axis 1', () => ops.stack([kiln.tensor([1, 2]), kiln.tensor([3, 4])], 1), [[1, 3], [2, 4]]);
    checkOp('stack axis -1 rank 2', () => ops.stack([a(), a()], -1), [[[1, 1], [2, 2]], [[3, 3], [4, 4]]]);
    checkOp('stack scalars', () => ops.stack([kiln.tensor(1), kiln.tensor(2), kiln.tensor(3)]), [1, 2, 3]);
    checkOp('stack int32', () => ops.stack([kiln.tensor([1], [1], 'int32'), kiln.tensor([2], [1], 'int32')]), [[1], [2]], { dtype: 'int32' });
  });

  group('split', () => {
    const x = iota([6, 2]);
    const splits: [string, number | number[], number, number[][][]][] = [
      ['3 sections', 3, 0, [[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]]],
      ['at [1, 4]', [1, 4], 0, [[[1, 2]], [[3, 4], [5, 6], [7, 8]], [[9, 10], [11, 12]]]],
      ['at [-2]', [-2], 0, [[[1, 2], [3, 4], [5, 6], [7, 8]], [[9, 10], [11, 12]]]],
      ['at [2, 9] (past the end)', [2, 9], 0, [[[1, 2], [3, 4]], [[5, 6], [7, 8], [9, 10], [11, 12]], []]],
      ['2 sections, axis 1', 2, 1, [[[1], [3], [5], [7], [9], [11]], [[2], [4], [6], [8], [10], [12]]]],
      ['2 sections, axis -1', 2, -1, [[[1], [3], [5], [7], [9], [11]], [[2], [4], [6], [8], [10], [12]]]],
    ];
    for (const [name, how, axis, want] of splits) {
      check(name, async () => {
        const parts = ops.split(kiln.tensor(x, [6, 2]), how, axis);
        if (parts.length !== want.length) throw new Error(`expected ${want.length} pieces, got ${parts.length}`);
        for (let i = 0; i < parts.length; i++) {
          await expectClose(parts[i], want[i], { shape: want[i].length === 0 ? [0, 2] : undefined });
        }
        kiln.dispose(parts);
      });
    }
    check('int32 pieces of a transpose', async () => {
      const parts = ops.split(ops.transpose(kiln.tensor(X23, [2, 3], 'int32')), 3);
      await expectClose(parts[2], [[3, 6]], { dtype: 'int32' });
      kiln.dispose(parts);
    });
  });

  group('slice', () => {
    checkOp('block', () => ops.slice(kiln.tensor(X234, [2, 3, 4]), [1, 1, 2], [1, 2, 2]), [[[19, 20], [23, 24]]]);
    checkOp('size -1 runs to the end', () => ops.slice(kiln.tensor(X23), [0, 1], [-1, -1]), [[2, 3], [5, 6]]);
    checkOp('size 0', () => ops.slice(kiln.tensor(X23), [1, 0], [0, 3]), [], { shape: [0, 3] });
    checkOp('whole', () => ops.slice(kiln.tensor(X23), [0, 0], [2, 3]), X23);
    checkOp('int32', () => ops.slice(kiln.tensor(X23, [2, 3], 'int32'), [1, 2], [1, 1]), [[6]], { dtype: 'int32' });
    checkOp('bool', () => ops.slice(kiln.tensor([true, false, true]), [1], [2]), [false, true], { dtype: 'bool' });
    checkOp('of a transpose', () => ops.slice(ops.transpose(kiln.tensor(X23)), [1, 0], [2, 1]), [[2], [3]]);
    // the kernel's steps, which flip and slice's gradient set
    const steps: [string, number[], number[], number[], number[][]][] = [
      ['step 2', [0, 0], [-1, -1], [1, 2], [[1, 3], [4, 6]]],
      ['step -1 from the end', [-1, -1], [-1, -1], [-1, -1], [[6, 5, 4], [3, 2, 1]]],
      ['step -2', [0, 2], [-1, -1], [1, -2], [[3, 1], [6, 4]]],
      ['step 3 with size', [1, 0], [1, 1], [1, 3], [[4]]],
    ];
    for (const [name, begin, size, step, want] of steps) {
      checkOp(`kernel ${name}`, () => ENGINE.run(SLICE, [kiln.tensor(X23)], { begin, size, step }), want);
    }
  });

  group('flip', () => {
    checkOp('axis 0', () => ops.flip(kiln.tensor(X23), 0), [[4, 5, 6], [1, 2, 3]]);
    checkOp('axis 1', () => ops.flip(kiln.tensor(X23), 1), [[3, 2, 1], [6, 5, 4]]);
    checkOp('axis -1', () => ops.flip(kiln.tensor(X23), -1), [[3, 2, 1], [6, 5, 4]]);
    checkOp('all axes', () => ops.flip(kiln.tensor(X23)), [[6, 5, 4], [3, 2, 1]]);
    checkOp('axes [0, 1]', () => ops.flip(kiln.tensor(X23), [0, 1]), [[6, 5, 4], [3, 2, 1]]);
    checkOp('rank 3 middle', () => ops.flip(kiln.tensor(X234, [2, 3, 4]), 1), nest([0, 1].flatMap((i) => [2, 1, 0].flatMap((j) => X234.slice(i * 12 + j * 4, i * 12 + j * 4 + 4))), [2, 3, 4]));
    checkOp('int32', () => ops.flip(kiln.tensor([1, 2, 3], [3], 'int32')), [3, 2, 1], { dtype: 'int32' });
    checkOp('scalar', () => ops.flip(kiln.tensor(4)), 4);
    checkOp('size 0', () => ops.flip(kiln.zeros([2, 0]), 1), [[], []], { shape: [2, 0] });
    checkOp('of a transpose', () => ops.flip(ops.transpose(kiln.tensor(X23)), 0), [[3, 6], [2, 5], [1, 4]]);
  });

  group('pad', () => {
    checkOp('one number', () => ops.pad(kiln.tensor([[1]]), 1), [[0, 0, 0], [0, 1, 0], [0, 0, 0]]);
    checkOp('one pair', () => ops.pad(kiln.tensor([1, 2]), [1, 2]), [0, 1, 2, 0, 0]);
    checkOp('pairs per axis', () => ops.pad(kiln.tensor(X23), [[1, 0], [0, 2]]), [[0, 0, 0, 0, 0], [1, 2, 3, 0, 0], [4, 5, 6, 0, 0]]);
    checkOp('constant value', () => ops.pad(kiln.tensor([1, 2]), [[2, 1]], 'constant', -1.5), [-1.5, -1.5, 1, 2, -1.5]);
    checkOp('NaN constant', () => ops.pad(kiln.tensor([1]), [[1, 0]], 'constant', NaN), [NaN, 1]);
    checkOp('int32', () => ops.pad(kiln.tensor([1, 2], [2], 'int32'), [[0, 1]], 'constant', 7), [1, 2, 7], { dtype: 'int32' });
    checkOp('bool', () => ops.pad(kiln.tensor([true]), [[1, 1]]), [false, true, false], { dtype: 'bool' });
    checkOp('float64', () => ops.pad(kiln.tensor([0.1], [1], 'float64'), [[1, 0]], 'constant', 0.3), [0.3, 0.1], { dtype: 'float64' });
    checkOp('zero widths', () => ops.pad(kiln.tensor(X23), 0), X23);
    checkOp('size 0 input', () => ops.pad(kiln.zeros([0, 2]), [[1, 1], [0, 0]], 'constant', 3), [[3, 3], [3, 3]]);
    checkOp('scalar', () => ops.pad(kiln.tensor(5), []), 5);
    checkOp('of a transpose', () => ops.pad(ops.transpose(kiln.tensor(X23)), [[0, 1], [1, 0]]), [[0, 1, 4], [0, 2, 5], [0, 3, 6], [0, 0, 0]]);
    // a padded axis of size 1 with only size-1 axes after it: x's rows land 3 apart in out
    checkOp('size-1 last axis padded', () => ops.pad(kiln.tensor([[1], [2], [3], [4]]), [[0, 0], [0, 2]]), [[1, 0, 0], [2, 0, 0], [3, 0, 0], [4, 0, 0]]);
    checkOp('size-1 axes padded in the middle', () => ops.pad(kiln.tensor([1, 2, 3], [3, 1, 1]), [[0, 0], [1, 0], [0, 1]]), [[[0, 0], [1, 0]], [[0, 0], [2, 0]], [[0, 0], [3, 0]]]);
  });

  group('broadcastTo, tile and repeat', () => {
    checkOp('broadcastTo [3] to [2,3]', () => ops.broadcastTo(kiln.tensor([1, 2, 3]), [2, 3]), [[1, 2, 3], [1, 2, 3]]);
    checkOp('broadcastTo [2,1] to [2,4]', () => ops.broadcastTo(kiln.tensor([[1], [2]]), [2, 4]), [[1, 1, 1, 1], [2, 2, 2, 2]]);
    checkOp('broadcastTo [2,1] to [3,2,2]', () => ops.broadcastTo(kiln.tensor([[1], [2]]), [3, 2, 2]), [[[1, 1], [2, 2]], [[1, 1], [2, 2]], [[1, 1], [2, 2]]]);
    checkOp('broadcastTo scalar', () => ops.broadcastTo(kiln.tensor(7), [2, 2]), [[7, 7], [7, 7]]);
    checkOp('broadcastTo size 0', () => ops.broadcastTo(kiln.tensor([1]), [2, 0]), [[], []], { shape: [2, 0] });
    checkOp('broadcastTo same shape', () => ops.broadcastTo(kiln.tensor([1, 2]), [2]), [1, 2]);
    checkOp('broadcastTo int32', () => ops.broadcastTo(kiln.tensor([1, 2], [2], 'int32'), [2, 2]), [[1, 2], [1, 2]], { dtype: 'int32' });
    checkOp('broadcastTo bool', () => ops.broadcastTo(kiln.tensor([true, false]), [2, 2]), [[true, false], [true, false]], { dtype: 'bool' });
    checkOp('broadcastTo of a transpose', () => ops.broadcastTo(ops.transpose(kiln.tensor([[1, 2]])), [2, 3]), [[1, 1, 1], [2, 2, 2]]);
    checkOp('tile [2,1]', () => ops.tile(kiln.tensor(X23), [2, 1]), [...X23, ...X23]);
    checkOp('tile [1,2]', () => ops.tile(kiln.tensor(X23), [1, 2]), [[1, 2, 3, 1, 2, 3], [4, 5, 6, 4, 5, 6]]);
    checkOp('tile rank 1 by 3', () => ops.tile(kiln.tensor([1, 2]), 3), [1, 2, 1, 2, 1, 2]);
    checkOp('tile adds leading axes', () => ops.tile(kiln.tensor([1, 2]), [2, 2]), [[1, 2, 1, 2], [1, 2, 1, 2]]);
    checkOp('tile by 0', () => ops.tile(kiln.tensor([1, 2]), 0), [], { shape: [0] });
    checkOp('tile int32', () => ops.tile(kiln.tensor([3], [1], 'int32'), 2), [3, 3], { dtype: 'int32' });
    checkOp('repeat flattened', () => ops.repeat(kiln.tensor(X23), 2), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    checkOp('repeat axis 0', () => ops.repeat(kiln.tensor(X23), 2, 0), [[1, 2, 3], [1, 2, 3], [4, 5, 6], [4, 5, 6]]);
    checkOp('repeat axis 1', () => ops.repeat(kiln.tensor(X23), 2, 1), [[1, 1, 2, 2, 3, 3], [4, 4, 5, 5, 6, 6]]);
    checkOp('repeat axis -1', () => ops.repeat(kiln.tensor([1, 2]), 3, -1), [1, 1, 1, 2, 2, 2]);
    checkOp('repeat 0 times', () => ops.repeat(kiln.tensor([1, 2]), 0, 0), [], { shape: [0] });
    checkOp('repeat scalar', () => ops.repeat(kiln.tensor(5), 2), [5, 5]);
    checkOp('repeat bool', () => ops.repeat(kiln.tensor([true, false]), 2), [true, true, false, false], { dtype: 'bool' });
  });

});
