import type { TypedArray } from '../../contract.js';
import { stridesOf } from '../../contract.js';
import { aroundAxis, broadcastStrides, forEachRow, rowLength, rowStride } from './broadcast.js';

/**
 * Copies into out, in row-major order over outShape, the elements of x found at
 * `base + position · strides`. Transpose, slice and broadcastTo are this walk with different
 * strides.
 */
function gatherStrided(
  x: TypedArray, base: number, strides: readonly number[], out: TypedArray, outShape: readonly number[],
): void {
  const length = rowLength(outShape);
  const step = rowStride(strides);
  forEachRow(outShape, [strides], (start, offsets) => {
    const from = base + offsets[0];
    for (let j = 0; j < length; j++) out[start + j] = x[from + j * step];
  });
}

/** out.shape[j] = x.shape[perm[j]]: out's axis j walks x's axis perm[j]. */
export function transpose(
  x: TypedArray, xShape: readonly number[], perm: readonly number[], out: TypedArray,
): void {
  const xStrides = stridesOf(xShape);
  gatherStrided(x, 0, perm.map((d) => xStrides[d]), out, perm.map((d) => xShape[d]));
}

/** out[i] = x[begin + i * step] per axis; a negative step walks the axis backwards. */
export function slice(
  x: TypedArray, xShape: readonly number[], begin: readonly number[], step: readonly number[],
  out: TypedArray, outShape: readonly number[],
): void {
  const xStrides = stridesOf(xShape);
  let base = 0;
  for (let d = 0; d < xShape.length; d++) base += begin[d] * xStrides[d];
  gatherStrided(x, base, xStrides.map((s, d) => s * step[d]), out, outShape);
}

/** Fills out with `value`, then copies x into it, `pads[d][0]` positions in along each axis. */
export function pad(
  x: TypedArray, xShape: readonly number[], pads: readonly (readonly [number, number])[], value: number,
  out: TypedArray, outShape: readonly number[],
): void {
  out.fill(value);
  const outStrides = stridesOf(outShape);
  let base = 0;
  for (let d = 0; d < outShape.length; d++) base += pads[d][0] * outStrides[d];
  // Walk x's rows (contiguous in x and, once placed, in out).
  const length = rowLength(xShape);
  forEachRow(xShape, [outStrides], (start, offsets) => {
    const to = base + offsets[0];
    for (let j = 0; j < length; j++) out[to + j] = x[start + j];
  });
}

/** Joins xs along `axis`. */
export function concat(
  xs: readonly TypedArray[], xShapes: readonly (readonly number[])[], axis: number,
  out: TypedArray, outShape: readonly number[],
): void {
  // Around `axis` every array is [outer, its own chunk]; a row of out is the inputs' chunks side by side.
  const [outer, outSize, inner] = aroundAxis(outShape, axis);
  const outRow = outSize * inner;
  let offset = 0;
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k];
    const chunk = xShapes[k][axis] * inner;
    for (let o = 0; o < outer; o++) {
      const from = o * chunk;
      const to = o * outRow + offset;
      for (let j = 0; j < chunk; j++) out[to + j] = x[from + j];
    }
    offset += chunk;
  }
}

/** Repeats x's size-1 and missing leading dims to outShape. */
export function broadcastTo(
  x: TypedArray, xShape: readonly number[], out: TypedArray, outShape: readonly number[],
): void {
  if (x.length === out.length) out.set(x);
  else if (x.length === 1) out.fill(x[0]);
  else gatherStrided(x, 0, broadcastStrides(xShape, outShape), out, outShape);
}
