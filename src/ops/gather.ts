import { ENGINE, type Primitive } from '../engine.js';
import { fail, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

// The index family's primitives, each the other's gradient. They sit below movement.ts (a strided
// slice's gradient scatters) and indexing.ts (take gathers), so neither of those imports the other.

export const GATHER: Primitive<{ axis: number }> = {
  name: 'gather',
  infer([x, indices], { axis }) {
    if (indices.dtype !== 'int32') fail('gather', `indices must be int32, got ${indices.dtype}`);
    if (!(axis >= 0 && axis < x.shape.length)) fail('gather', `axis ${axis} is out of range for shape ${fmtShape(x.shape)}`);
    return { shape: [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], dtype: x.dtype };
  },
  run: (backend, [x, indices], out, { axis }) => backend.gather(x, indices, axis, out),
  grad: (dy, [x, indices], _, { axis }) => [scatterAdd(dy, indices, axis, x.shape[axis]), null],
};

/** The adjoint of gather: `size` is the length of `axis` in the result. */
export const SCATTER_ADD: Primitive<{ axis: number; size: number }> = {
  name: 'scatterAdd',
  infer([updates, indices], { axis, size }) {
    if (indices.dtype !== 'int32') fail('scatterAdd', `indices must be int32, got ${indices.dtype}`);
    const k = indices.shape.length;
    const middle = updates.shape.slice(axis, axis + k);
    const fits = axis >= 0 && axis + k <= updates.shape.length &&
      middle.every((d, i) => d === null || indices.shape[i] === null || d === indices.shape[i]);
    if (!fits) fail('scatterAdd', `updates ${fmtShape(updates.shape)} do not hold indices ${fmtShape(indices.shape)} at axis ${axis}`);
    return { shape: [...updates.shape.slice(0, axis), size, ...updates.shape.slice(axis + k)], dtype: updates.dtype };
  },
  run: (backend, [updates, indices], out, { axis }) => backend.scatterAdd(updates, indices, axis, out),
  grad: (dy, [, indices], _, { axis }) => [ENGINE.run(GATHER, [dy, indices], { axis }), null],
};

/** Adds the slices of `updates` into zeros at `indices` along `axis` (length `size`); indices in range. */
export function scatterAdd(updates: Tensor, indices: Tensor, axis: number, size: number): Tensor {
  return ENGINE.run(SCATTER_ADD, [updates, indices], { axis, size });
}
