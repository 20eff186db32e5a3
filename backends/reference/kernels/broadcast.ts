import { sizeOf } from '../../contract.js';

/**
 * Strides of an input of `shape` over the positions of `outShape`. `shape` is aligned to the
 * right of `outShape`; a dim the input lacks, or holds once, gets stride 0, so walking along
 * it reads the same elements again.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1) strides[rank - shape.length + d] = stride;
    stride *= shape[d];
  }
  return strides;
}

/** A shape viewed as [outer, shape[axis], inner] around `axis`: the sizes before, at and after it. */
export function aroundAxis(
  shape: readonly number[], axis: number,
): [outer: number, n: number, inner: number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

/** Elements in one innermost row of `shape`: its last dim, or 1 for a scalar. */
export function rowLength(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[shape.length - 1];
}

/** How far an array with these per-dim strides moves between neighbours in a row. */
export function rowStride(strides: readonly number[]): number {
  return strides.length === 0 ? 0 : strides[strides.length - 1];
}

/**
 * Walks `shape` in row-major order one innermost row at a time. For each row, `row(start,
 * offsets)` gets the row-major index of the row's first position and, for each array k, the
 * offset `offsets[k]` of that position in it (the dot product of the position with
 * `strides[k]`). Within the row, array k moves by `rowStride(strides[k])` per element.
 *
 * One call per row rather than per element lets callers keep their element loop tight.
 * `offsets` is reused between calls, so `row` must not keep it.
 */
export function forEachRow(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  row: (start: number, offsets: readonly number[]) => void,
): void {
  const size = sizeOf(shape);
  if (size === 0) return;
  const length = rowLength(shape);
  const outer = shape.length - 1;
  const index = new Array<number>(Math.max(outer, 0)).fill(0);
  const offsets = new Array<number>(strides.length).fill(0);
  for (let start = 0; start < size; start += length) {
    row(start, offsets);
    // Odometer over every dim but the last: carry into the next dim out when one wraps.
    for (let d = outer - 1; d >= 0; d--) {
      index[d]++;
      for (let k = 0; k < strides.length; k++) offsets[k] += strides[k][d];
      if (index[d] < shape[d]) break;
      index[d] = 0;
      for (let k = 0; k < strides.length; k++) offsets[k] -= strides[k][d] * shape[d];
    }
  }
}
