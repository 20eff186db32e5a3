import type { TypedArray } from '../../contract.js';
import { broadcastStrides, forEachRow, rowLength, rowStride } from './broadcast.js';

/**
 * Batched matrix product. a is [...batchA, m, k] ([..., k, m] when transposeA), b is
 * [...batchB, k, n] ([..., n, k] when transposeB), out is [...batch, m, n]; the batch dims of a
 * and b broadcast to out's.
 *
 * Each output element is one dot product summed in float64 from zero and stored once, with
 * every product taken (no zero skipping), so NaN and Inf travel as in a naive triple loop.
 */
export function matmul(
  a: TypedArray, aShape: readonly number[],
  b: TypedArray, bShape: readonly number[],
  transposeA: boolean, transposeB: boolean,
  out: TypedArray, outShape: readonly number[],
): void {
  const rank = outShape.length;
  const m = outShape[rank - 2];
  const n = outShape[rank - 1];
  const k = aShape[aShape.length - (transposeA ? 2 : 1)];
  // Element (i, p) of a's matrix and (p, j) of b's, wherever the transposes put them.
  const aI = transposeA ? 1 : k;
  const aP = transposeA ? m : 1;
  const bP = transposeB ? 1 : n;
  const bJ = transposeB ? k : 1;
  const isInt = !(a instanceof Float32Array || a instanceof Float64Array);
  // Floats fill the first `rows` x `cols` of out with 4x4 tiles (none when m < 4, where packing
  // b would cost more than it saves). The rest (all of int32, and the last m % 4 rows and
  // n % 4 columns of floats) is one plain dot product per element.
  const rows = isInt || m < 4 ? 0 : m - (m % 4);
  const cols = rows === 0 ? 0 : n - (n % 4);

  // Walk the batch dims, with each input's batch strides counted in whole matrices.
  const batchShape = outShape.slice(0, -2);
  const aStrides = broadcastStrides(aShape.slice(0, -2), batchShape).map((s) => s * m * k);
  const bStrides = broadcastStrides(bShape.slice(0, -2), batchShape).map((s) => s * k * n);
  const batches = rowLength(batchShape);
  const aStep = rowStride(aStrides);
  const bStep = rowStride(bStrides);
  forEachRow(batchShape, [aStrides, bStrides], (start, offsets) => {
    for (let t = 0; t < batches; t++) {
      const aBase = offsets[0] + t * aStep;
      const bBase = offsets[1] + t * bStep;
      const outBase = (start + t) * m * n;
      if (cols > 0) tiles(a, aBase, aI, aP, b, bBase, bP, bJ, out, outBase, rows, cols, k, n);
      for (let i = 0; i < m; i++) {
        for (let j = i < rows ? cols : 0; j < n; j++) {
          let ai = aBase + i * aI;
          let bj = bBase + j * bJ;
          let sum = 0;
          // An int32 product can pass 2^53 and lose the low bits that wrapping keeps, hence
          // Math.imul; the sum of two int32s is exact, and | 0 wraps it.
          if (isInt) for (let p = 0; p < k; p++, ai += aP, bj += bP) sum = (sum + Math.imul(a[ai], b[bj])) | 0;
          else for (let p = 0; p < k; p++, ai += aP, bj += bP) sum += a[ai] * b[bj];
          out[outBase + i * n + j] = sum;
        }
      }
    }
  });
}

// Why tiles: a naive loop does one multiply-add per two loads. A 4x4 block of out needs only 4
// values of a and 4 of b per step along p for its 16 multiply-adds, and V8 keeps the 16 running
// sums in local doubles. Packing 4 rows of a and 4 columns of b into panels, interleaved along p,
// makes the inner loop read one Float64Array in order whatever the transposes and dtypes.
// b is packed COLUMN_BLOCK columns at a time, so the scratch stays (4 + COLUMN_BLOCK) * k doubles
// rather than a copy of b; 256 ran within a few percent of packing all of b, 16 about 10% slower.
const COLUMN_BLOCK = 256;
/** Packing space, kept between calls and grown on demand: one panel of a, then b's panels. */
let scratch = new Float64Array(0);

/** Fills out's first `rows` x `cols` (both multiples of 4) tile by tile. */
function tiles(
  a: TypedArray, aBase: number, aI: number, aP: number,
  b: TypedArray, bBase: number, bP: number, bJ: number,
  out: TypedArray, outBase: number, rows: number, cols: number, k: number, n: number,
): void {
  if (scratch.length < 4 * k + COLUMN_BLOCK * k) scratch = new Float64Array(4 * k + COLUMN_BLOCK * k);
  const panels = scratch;
  for (let j0 = 0; j0 < cols; j0 += COLUMN_BLOCK) {
    const j1 = Math.min(cols, j0 + COLUMN_BLOCK);
    for (let j = j0; j < j1; j += 4) pack(b, bBase + j * bJ, bJ, bP, k, panels, 4 * k + (j - j0) * k);
    for (let i = 0; i < rows; i += 4) {
      pack(a, aBase + i * aI, aI, aP, k, panels, 0);
      for (let j = j0; j < j1; j += 4) tile(panels, 4 * k + (j - j0) * k, k, out, outBase + i * n + j, n);
    }
  }
}

/** Copies 4 lines of length k (line r at start + r * lineStride) into `into`, interleaved along p. */
function pack(
  src: TypedArray, start: number, lineStride: number, pStride: number, k: number,
  into: Float64Array, at: number,
): void {
  for (let p = 0, s = start, d = at; p < k; p++, s += pStride, d += 4) {
    into[d] = src[s];
    into[d + 1] = src[s + lineStride];
    into[d + 2] = src[s + 2 * lineStride];
    into[d + 3] = src[s + 3 * lineStride];
  }
}

/** One 4x4 block of out at `o` from a's panel (at 0 in `panels`) and a panel of b at `bAt`. */
function tile(panels: Float64Array, bAt: number, k: number, out: TypedArray, o: number, n: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let q = 0; q < 4 * k; q += 4) {
    const a0 = panels[q], a1 = panels[q + 1], a2 = panels[q + 2], a3 = panels[q + 3];
    const b0 = panels[bAt + q], b1 = panels[bAt + q + 1], b2 = panels[bAt + q + 2], b3 = panels[bAt + q + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  out[o] = c00; out[o + 1] = c01; out[o + 2] = c02; out[o + 3] = c03; o += n;
  out[o] = c10; out[o + 1] = c11; out[o + 2] = c12; out[o + 3] = c13; o += n;
  out[o] = c20; out[o + 1] = c21; out[o + 2] = c22; out[o + 3] = c23; o += n;
  out[o] = c30; out[o + 1] = c31; out[o + 2] = c32; out[o + 3] = c33;
}
