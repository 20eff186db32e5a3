import { ENGINE } from '../src/engine.js';
import { asTensor, type TensorLike } from '../src/convert.js';
import { tensor } from '../src/creation.js';
import { fail } from '../src/errors.js';
import { take } from '../src/ops/indexing.js';
import { checkSeed, nextSeed, permutation } from '../src/random.js';
import type { Tensor } from '../src/tensor.js';
import { Dataset } from './dataset.js';

export interface TimeseriesOptions {
  /** Steps between the starts of consecutive windows (default 1). */
  sequenceStride?: number;
  /** Steps between the rows of one window (default 1). */
  samplingRate?: number;
  /** Windows per batch (default 128); null gives unbatched windows. */
  batchSize?: number | null;
  /** Windows in random order (default false). */
  shuffle?: boolean;
  seed?: number;
  /** The first row windows may use (default 0). */
  startIndex?: number;
  /** The row after the last one windows may use (default: the data's length). */
  endIndex?: number;
}

function checkPositive(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) fail('timeseriesDatasetFromArray', `${name} must be a positive integer, got ${v}`);
}

/**
 * Sliding windows over `data` (keras.utils.timeseries_dataset_from_array): window i holds rows
 * `startIndex + p_i + j * samplingRate` for j < sequenceLength, where p_i = i * sequenceStride;
 * with `targets`, its target is row `startIndex + p_i` of targets. Windows that would run past
 * `endIndex` are left out, and there are never more windows than targets.
 *
 * With `shuffle`, the window starts are put in a random order once (from `seed`), then shuffled
 * again locally each pass through a buffer of 8 batches, as Keras does; the orders are kiln's
 * generator's, not numpy's, so a seed gives other orders than in Keras.
 * @example
 * // the past 10 steps predict the next one
 * const ds = kiln.utils.timeseriesDatasetFromArray(series.slice(0, -10), series.slice(10), 10, { batchSize: 32 });
 */
export function timeseriesDatasetFromArray(data: TensorLike, targets: null, sequenceLength: number, options?: TimeseriesOptions): Dataset<Tensor>;
export function timeseriesDatasetFromArray(data: TensorLike, targets: TensorLike, sequenceLength: number, options?: TimeseriesOptions): Dataset<[Tensor, Tensor]>;
export function timeseriesDatasetFromArray(data: TensorLike, targets: TensorLike | null, sequenceLength: number, options: TimeseriesOptions = {}): Dataset<Tensor> | Dataset<[Tensor, Tensor]> {
  const op = 'timeseriesDatasetFromArray';
  const { sequenceStride = 1, samplingRate = 1, batchSize = 128, shuffle = false, startIndex, endIndex } = options;
  const x = asTensor(data, op);
  if (x.rank === 0) fail(op, 'data must have an axis of time steps, got a scalar');
  const y = targets === null || targets === undefined ? null : asTensor(targets, op);
  if (y && y.rank === 0) fail(op, 'targets must have one row per time step, got a scalar');
  const n = x.shape[0];
  checkPositive('sequenceLength', sequenceLength);
  if (startIndex !== undefined) {
    if (!Number.isSafeInteger(startIndex) || startIndex < 0) fail(op, `startIndex must be an integer >= 0, got ${startIndex}`);
    if (startIndex >= n) fail(op, `startIndex must be lower than the length of the data, got startIndex ${startIndex} for data of length ${n}`);
  }
  if (endIndex !== undefined) {
    if (!Number.isSafeInteger(endIndex) || endIndex <= 0) fail(op, `endIndex must be a positive integer, got ${endIndex}`);
    if (startIndex !== undefined && endIndex <= startIndex) fail(op, `endIndex must be higher than startIndex, got startIndex ${startIndex} and endIndex ${endIndex}`);
    if (endIndex >= n) fail(op, `endIndex must be lower than the length of the data, got endIndex ${endIndex} for data of length ${n}`);
  }
  checkPositive('samplingRate', samplingRate);
  if (samplingRate >= n) fail(op, `samplingRate must be lower than the length of the data, got samplingRate ${samplingRate} for data of length ${n}`);
  checkPositive('sequenceStride', sequenceStride);
  if (sequenceStride >= n) fail(op, `sequenceStride must be lower than the length of the data, got sequenceStride ${sequenceStride} for data of length ${n}`);
  if (batchSize !== null) checkPositive('batchSize', batchSize);
  const seed = shuffle ? (options.seed === undefined ? nextSeed() : checkSeed(op, options.seed)) : 0;

  const start = startIndex ?? 0;
  const end = endIndex ?? n;
  const numSeqs = Math.min(end - start - (sequenceLength - 1) * samplingRate, y ? y.shape[0] : Infinity);
  const count = Math.max(0, Math.ceil(numSeqs / sequenceStride));
  const positions = Int32Array.from({ length: count }, (_, i) => i * sequenceStride);
  const order = shuffle ? permutation(count, seed) : null;
  const starts = order ? order.map((k) => positions[k]) : positions;

  const windowAt = (p: number): Tensor | [Tensor, Tensor] =>
    ENGINE.tidy(() => {
      const rows = Int32Array.from({ length: sequenceLength }, (_, j) => start + p + j * samplingRate);
      const window = take(x, tensor(rows, [sequenceLength], 'int32'), 0);
      return y ? [window, take(y, tensor(start + p, [], 'int32'), 0)] : window;
    });
  let ds = Dataset.fromTensorSlices(tensor(starts, [count], 'int32')).map(async (p) => windowAt((await p.data())[0]));
  if (shuffle) ds = ds.shuffle(batchSize === null ? 1024 : batchSize * 8, { seed });
  return (batchSize === null ? ds : ds.batch(batchSize)) as Dataset<Tensor>;
}
