import type { TypedArray } from '../../contract.js';
import { aroundAxis } from './broadcast.js';

/**
 * out[o, t, i] = x[o, indices[t], i], with x viewed as [outer, n, inner] around `axis` and the
 * indices flattened: out.shape = x.shape[:axis] + indices.shape + x.shape[axis+1:].
 */
export function gather(
  x: TypedArray, xShape: readonly number[], indices: Int32Array, axis: number, out: TypedArray,
): void {
  const [outer, n, inner] = aroundAxis(xShape, axis);
  const count = indices.length;
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < count; t++) {
      const from = (o * n + indices[t]) * inner;
      const to = (o * count + t) * inner;
      for (let i = 0; i < inner; i++) out[to + i] = x[from + i];
    }
  }
}

/**
 * gather's adjoint: out[o, indices[t], i] += updates[o, t, i] over a zeroed out, so repeated
 * indices add up.
 */
export function scatterAdd(
  updates: TypedArray, indices: Int32Array, axis: number, out: TypedArray, outShape: readonly number[],
): void {
  out.fill(0);
  const [outer, n, inner] = aroundAxis(outShape, axis);
  const count = indices.length;
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < count; t++) {
      const from = (o * count + t) * inner;
      const to = (o * n + indices[t]) * inner;
      for (let i = 0; i < inner; i++) out[to + i] += updates[from + i];
    }
  }
}
