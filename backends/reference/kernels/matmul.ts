import type { TypedArray } from '../../contract.js';
import { broadcastStrides, forEachRow, rowLength, rowStride } from './broadcast.js';

/**
 * Batched matrix product. a is [...batchA, m, k] ([..., k, m] when transposeA), b is
 * [...batchB, k, n] ([..., n, k] when transposeB), out is [...batch, m, n]; the batch dims of a
 * and b broadcast to out's.
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
      out.fill(0, outBase, outBase + m * n);
      // i-p-j order: each a[i, p] scales row p of b into row i of out, so the innermost loop
      // runs along rows of b and out.
      for (let i = 0; i < m; i++) {
        const outRow = outBase + i * n;
        for (let p = 0; p < k; p++) {
          const aip = a[aBase + i * aI + p * aP];
          const bRow = bBase + p * bP;
          // An int32 product can pass 2^53 and lose the low bits that wrapping keeps, hence
          // Math.imul; its sum with out's int32 entry is exact, and the store wraps it.
          if (isInt) for (let j = 0; j < n; j++) out[outRow + j] += Math.imul(aip, b[bRow + j * bJ]);
          else for (let j = 0; j < n; j++) out[outRow + j] += aip * b[bRow + j * bJ];
        }
      }
    }
  });
}
