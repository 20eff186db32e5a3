import type { HistogramProto } from './proto.js';

/** tf.summary.histogram's default, which Keras 3's TensorBoard callback leaves as is. */
const BUCKETS = 30;

/**
 * A histogram of `values` in equal-width buckets over [min, max]. Non-finite values are left out:
 * one NaN would make every bucket edge NaN and hide the rest of the weights.
 */
export function histogram(values: ArrayLike<number>): HistogramProto {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite.push(values[i]);
  if (finite.length === 0) return { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [], bucket: [] };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (const v of finite) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    sumSquares += v * v;
  }
  const hist = { min, max, num: finite.length, sum, sumSquares };
  if (min === max) return { ...hist, bucketLimit: [max], bucket: [finite.length] };
  const width = (max - min) / BUCKETS;
  // the last edge is max itself, not min + 30·width, which rounding could put just below max
  const bucketLimit = Array.from({ length: BUCKETS }, (_, i) => (i === BUCKETS - 1 ? max : min + (i + 1) * width));
  const bucket = new Array<number>(BUCKETS).fill(0);
  for (const v of finite) {
    // the arithmetic guess can land one bucket off at an edge; the edges themselves decide
    let i = Math.min(BUCKETS - 1, Math.max(0, Math.ceil((v - min) / width) - 1));
    while (i > 0 && v <= bucketLimit[i - 1]) i--;
    while (i < BUCKETS - 1 && v > bucketLimit[i]) i++;
    bucket[i]++;
  }
  return { ...hist, bucketLimit, bucket };
}
