import type { ArgReduceOp, ReduceOp, TypedArray } from '../../contract.js';
import { sizeOf, stridesOf } from '../../contract.js';
import { aroundAxis, forEachRow, rowLength, rowStride } from './broadcast.js';

/** What each reduction gives over no elements. */
const EMPTY: Record<ReduceOp, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

/**
 * Folds `n` elements of x, `stride` apart from `start`, into `acc`. One loop per op keeps each
 * tight. Accumulating in a JS number makes float32 sums float64 ones. max and min let NaN win
 * (NumPy's rule): once `acc` is NaN no comparison replaces it.
 */
function foldRun(
  op: ReduceOp, x: TypedArray, start: number, n: number, stride: number, acc: number, isInt: boolean,
): number {
  switch (op) {
    case 'sum':
      for (let k = 0, p = start; k < n; k++, p += stride) acc += x[p];
      return acc;
    case 'prod':
      // An int32 product can pass 2^53 before it would wrap; Math.imul wraps exactly.
      if (isInt) for (let k = 0, p = start; k < n; k++, p += stride) acc = Math.imul(acc, x[p]);
      else for (let k = 0, p = start; k < n; k++, p += stride) acc *= x[p];
      return acc;
    case 'max':
      for (let k = 0, p = start; k < n; k++, p += stride) {
        const v = x[p];
        if (v > acc || v !== v) acc = v;
      }
      return acc;
    case 'min':
      for (let k = 0, p = start; k < n; k++, p += stride) {
        const v = x[p];
        if (v < acc || v !== v) acc = v;
      }
      return acc;
  }
}

interface Walk {
  dims: number[];
  strides: number[];
}

/**
 * x's kept and reduced axes as two walks over x's offsets. Size-1 axes move no offset and are
 * dropped; neighbouring axes of one kind merge (in row-major order the outer stride is the inner
 * stride times the inner size), so reducing trailing or leading axes becomes one long run.
 */
function splitAxes(xShape: readonly number[], axes: readonly number[]): { kept: Walk; reduced: Walk } {
  const strides = stridesOf(xShape);
  const kept: Walk = { dims: [], strides: [] };
  const reduced: Walk = { dims: [], strides: [] };
  let previous: Walk | undefined;
  for (let d = 0; d < xShape.length; d++) {
    if (xShape[d] === 1) continue;
    const walk = axes.includes(d) ? reduced : kept;
    if (walk === previous) {
      walk.dims[walk.dims.length - 1] *= xShape[d];
      walk.strides[walk.strides.length - 1] = strides[d];
    } else {
      walk.dims.push(xShape[d]);
      walk.strides.push(strides[d]);
    }
    previous = walk;
  }
  return { kept, reduced };
}

/** Reduces x over `axes`; out holds the kept axes in order. */
export function reduce(
  op: ReduceOp, x: TypedArray, xShape: readonly number[], axes: readonly number[], out: TypedArray,
): void {
  const { kept, reduced } = splitAxes(xShape, axes);
  const isInt = !(x instanceof Float32Array || x instanceof Float64Array);

  // The reduced positions of one output element are runs along the last reduced dim; list where
  // each run starts, relative to the output element's first input, once for all outputs.
  const runLength = rowLength(reduced.dims);
  const runStride = rowStride(reduced.strides);
  const runDims = reduced.dims.slice(0, -1);
  const runDimStrides = reduced.strides.slice(0, -1);
  const runStarts = new Array<number>(sizeOf(runDims));
  const runsPerRow = rowLength(runDims);
  const runStep = rowStride(runDimStrides);
  forEachRow(runDims, [runDimStrides], (start, offsets) => {
    for (let j = 0; j < runsPerRow; j++) runStarts[start + j] = offsets[0] + j * runStep;
  });

  const keptLength = rowLength(kept.dims);
  const keptStep = rowStride(kept.strides);
  forEachRow(kept.dims, [kept.strides], (start, offsets) => {
    for (let j = 0; j < keptLength; j++) {
      const base = offsets[0] + j * keptStep;
      let acc = EMPTY[op];
      for (let r = 0; r < runStarts.length; r++) {
        acc = foldRun(op, x, base + runStarts[r], runLength, runStride, acc, isInt);
      }
      out[start + j] = acc;
    }
  });
}

/** Index along `axis` of the first largest (argmax) or smallest (argmin) element. */
export function argReduce(
  op: ArgReduceOp, x: TypedArray, xShape: readonly number[], axis: number, out: TypedArray,
): void {
  const [outer, n, inner] = aroundAxis(xShape, axis);
  const isMax = op === 'argmax';
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      // Starting below every value (above, for argmin) makes index 0 win when all values tie
      // with the start. NaN counts as the extreme and NumPy returns the first one, so stop there.
      let best = isMax ? -Infinity : Infinity;
      let bestIndex = 0;
      for (let k = 0; k < n; k++) {
        const v = x[base + k * inner];
        if (v !== v) {
          bestIndex = k;
          break;
        }
        if (isMax ? v > best : v < best) {
          best = v;
          bestIndex = k;
        }
      }
      out[o * inner + i] = bestIndex;
    }
  }
}

/**
 * Running sums along `axis`; `exclusive` leaves the current element out, `reverse` runs from the
 * end. The running sum is a JS number, so float32 inputs accumulate in float64, as reduce's do.
 */
export function cumsum(
  x: TypedArray, xShape: readonly number[], axis: number, exclusive: boolean, reverse: boolean,
  out: TypedArray,
): void {
  const [outer, n, inner] = aroundAxis(xShape, axis);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let acc = 0;
      for (let t = 0; t < n; t++) {
        const p = base + (reverse ? n - 1 - t : t) * inner;
        const v = x[p];
        if (exclusive) {
          out[p] = acc;
          acc += v;
        } else {
          acc += v;
          out[p] = acc;
        }
      }
    }
  }
}
