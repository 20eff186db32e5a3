import { ENGINE } from '../src/engine.js';
import { fail } from '../src/errors.js';
import { take } from '../src/ops/indexing.js';
import { checkSeed, permutation } from '../src/random.js';
import { Dataset } from './dataset.js';
import { disposeElement, mapLeaves, rowsOf, toElement, type Element, type ElementOf } from './element.js';

export interface SplitDatasetOptions {
  /** The left part: a fraction in (0, 1) of the samples, or (an integer) their number. Default: what the right part leaves. */
  leftSize?: number;
  /** The right part, as leftSize; it is taken from the end. Default: what the left part leaves. */
  rightSize?: number;
  /** Shuffle the samples before splitting (default false). */
  shuffle?: boolean;
  seed?: number;
}

/** Python's round(): halves go to the even neighbour, as Keras's sizes are rounded. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** [left, right] sample counts, with Keras's rules and messages (keras/src/utils/dataset_utils.py). */
export function splitSizes(leftSize: number | undefined, rightSize: number | undefined, total: number): [number, number] {
  const op = 'splitDataset';
  if (leftSize === undefined && rightSize === undefined) fail(op, 'at least one of leftSize or rightSize must be given');
  for (const [name, v] of [['leftSize', leftSize], ['rightSize', rightSize]] as const) {
    if (v === undefined) continue;
    if (typeof v !== 'number' || Number.isNaN(v)) fail(op, `${name} must be a number, got ${String(v)}`);
    if (Number.isInteger(v) ? v <= 0 || v >= total : v <= 0 || v >= 1) {
      fail(op, `${name} must be a positive integer smaller than the ${total} samples, or a fraction in (0, 1), got ${v}`);
    }
  }
  if (leftSize !== undefined && rightSize !== undefined && !Number.isInteger(leftSize) && !Number.isInteger(rightSize) && leftSize + rightSize > 1) {
    fail(op, `leftSize + rightSize must be at most 1, got ${leftSize} + ${rightSize}`);
  }
  const count = (v: number) => (Number.isInteger(v) ? v : roundHalfEven(v * total));
  const left = leftSize === undefined ? total - count(rightSize!) : count(leftSize);
  const right = rightSize === undefined ? total - left : count(rightSize);
  if (left + right > total) fail(op, `leftSize + rightSize must be at most the ${total} samples, got ${left} + ${right}`);
  if (left === 0 || right === 0) fail(op, `with ${total} samples, leftSize ${leftSize} and rightSize ${rightSize} leave the ${left === 0 ? 'left' : 'right'} part empty`);
  return [left, right];
}

function orderOf(n: number, shuffle: boolean, seed: number | undefined): Int32Array {
  if (shuffle) return permutation(n, seed === undefined ? undefined : checkSeed('splitDataset', seed));
  return Int32Array.from({ length: n }, (_, i) => i);
}

/**
 * Two datasets from one (keras.utils.split_dataset): the first `leftSize` samples and the last
 * `rightSize` (after a shuffle if asked; kiln's generator, so a seed gives another order than in
 * Keras). Samples neither part takes are dropped. From arrays (`x`, `[x, y]`, `{ name: x }`)
 * the samples are rows and the parts are returned at once; from a Dataset the samples are its
 * elements (unbatch a batched one first), read in one pass and kept in memory, hence a Promise.
 * @example
 * const [train, test] = kiln.utils.splitDataset([x, y], { leftSize: 0.8, shuffle: true, seed: 1 });
 */
export function splitDataset<T>(dataset: Dataset<T>, options: SplitDatasetOptions): Promise<[Dataset<T>, Dataset<T>]>;
export function splitDataset<const X>(arrays: X, options: SplitDatasetOptions): [Dataset<ElementOf<X>>, Dataset<ElementOf<X>>];
export function splitDataset(dataset: unknown, { leftSize, rightSize, shuffle = false, seed }: SplitDatasetOptions): unknown {
  if (dataset instanceof Dataset) return splitElements(dataset as Dataset<Element>, leftSize, rightSize, shuffle, seed);
  const element = toElement('splitDataset', dataset);
  const n = rowsOf('splitDataset', element);
  const [l, r] = splitSizes(leftSize, rightSize, n);
  const order = orderOf(n, shuffle, seed);
  const part = (idx: Int32Array) => Dataset.fromTensorSlices(ENGINE.tidy(() => mapLeaves(element, (t) => take(t, idx, 0))));
  return [part(order.subarray(0, l)), part(order.subarray(n - r))];
}

async function splitElements(dataset: Dataset<Element>, leftSize: number | undefined, rightSize: number | undefined, shuffle: boolean, seed: number | undefined): Promise<[Dataset<Element>, Dataset<Element>]> {
  const card = dataset.cardinality();
  if (card === Dataset.INFINITE_CARDINALITY) fail('splitDataset', 'cannot split an infinite dataset (take a finite part of it first)');
  const all: Element[] = [];
  for await (const e of dataset) all.push(e);
  const n = all.length;
  let sizes: [number, number];
  try {
    sizes = splitSizes(leftSize, rightSize, n);
  } catch (err) {
    all.forEach((e) => disposeElement(e));
    throw err;
  }
  const order = orderOf(n, shuffle, seed);
  const left = Array.from(order.subarray(0, sizes[0]), (i) => all[i]);
  const right = Array.from(order.subarray(n - sizes[1]), (i) => all[i]);
  for (const i of order.subarray(sizes[0], n - sizes[1])) disposeElement(all[i]);
  return [Dataset.fromIterable<Element>(left), Dataset.fromIterable<Element>(right)];
}
