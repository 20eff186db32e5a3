import { fail } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { CONSUMER_OWNS_ELEMENTS } from '../models/batches.js';
import { readAhead, type Open } from './ahead.js';
import { batchStage, unbatchStage } from './batching.js';
import type { Element, ElementOf } from './element.js';
import { shuffleBuffer, shuffleStage, type ShuffleOptions } from './reorder.js';
import { openBatches, repeatPlan, shufflePlan, skipPlan, takePlan, type RowPlan } from './plan.js';
import { generatorSource, idxSource, iterableSource, npySource, slicesSource, tensorsSource, type GeneratorFn, type IdxOptions, type Source } from './sources.js';
import { csvSource, type CsvOptions } from './csv.js';
import { cacheStage, concatenateStage, filterStage, mapStage, repeatStage, skipStage, takeStage, zipStage } from './transforms.js';

const INFINITE = -1;
const UNKNOWN = -2;

function checkCount(op: string, name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) fail(op, `${name} must be an integer >= ${min}, got ${v}`);
}

/** A finite count `f(n)` of a known upstream count; unknown and infinite stay as they are. */
function derive(n: number, f: (n: number) => number): number {
  return n < 0 ? n : f(n);
}

/**
 * A re-startable pipeline of elements (tf.data.Dataset): a source, then lazy transformations,
 * each returning a new Dataset. Each `for await` (each epoch of fit) is a fresh pass.
 *
 * An element is a tensor, or tuples and records of them; `[x, y]` and `[x, y, sampleWeight]`
 * batches feed `model.fit` and `evaluate` directly. Every element a pass hands out belongs to
 * whoever takes it: fit, evaluate and predict free each batch after its step, and a loop of your
 * own disposes what it takes (`kiln.dispose(element)`).
 * @example
 * const ds = kiln.data.Dataset.fromTensorSlices([x, y]).shuffle(1000, { seed: 1 }).batch(32).prefetch(2);
 * await model.fit(ds, undefined, { epochs: 5 });
 */
export class Dataset<T = Element> implements AsyncIterable<T> {
  /** tf.data.INFINITE_CARDINALITY */
  static readonly INFINITE_CARDINALITY = INFINITE;
  /** tf.data.UNKNOWN_CARDINALITY */
  static readonly UNKNOWN_CARDINALITY = UNKNOWN;

  /** Tells fit, evaluate and predict that they own the batches (models/batches.ts). */
  readonly [CONSUMER_OWNS_ELEMENTS] = true;

  /** While only rows are chosen and ordered, the pipeline is also a plan that batch gathers from (plan.ts). */
  private constructor(private readonly open: Open<Element>, private readonly count: number, private readonly plan: RowPlan | null = null) {}

  private static of<U>(source: Source): Dataset<U> {
    return new Dataset<U>(source.open, source.cardinality, source.plan);
  }

  private derived<U>(open: Open<Element>, count: number): Dataset<U> {
    return new Dataset<U>(open, count);
  }

  /** A stage that only chooses or orders rows: `stage` for the elements, `step` for the plan. */
  private reordered(open: Open<Element>, count: number, step: (plan: RowPlan) => RowPlan): Dataset<T> {
    return new Dataset<T>(open, count, this.plan && step(this.plan));
  }

  /** One element: `x` itself (tensors, tuples or records of them). */
  static fromTensors<const X>(x: X): Dataset<ElementOf<X>> {
    return Dataset.of(tensorsSource(x));
  }

  /** One element per row of `x` along axis 0: `x`, `[x, y]`, `[x, y, w]` or `{ name: x }`. */
  static fromTensorSlices<const X>(x: X): Dataset<ElementOf<X>> {
    return Dataset.of(slicesSource(x));
  }

  /** Each pass calls `fn` (a generator function, sync or async); the tensors it yields are handed over. */
  static fromGenerator<U = Element>(fn: GeneratorFn): Dataset<U> {
    return Dataset.of(generatorSource(fn));
  }

  /** Each pass iterates `iterable` again; its tensors stay yours (the dataset hands out views). */
  static fromIterable<U = Element>(iterable: Iterable<unknown> | AsyncIterable<unknown>): Dataset<U> {
    return Dataset.of(iterableSource(iterable));
  }

  /** The rows of a `.npy` file's array, read at the start of each pass (`.cache()` reads it once). */
  static fromNpy(path: string): Dataset<Tensor> {
    return Dataset.of(npySource(path));
  }

  /**
   * The rows of a CSV file (RFC 4180: quoted fields may hold the delimiter, line breaks and
   * doubled quotes), read as a stream on each pass, so a file larger than memory trains. Each
   * element is the float32 vector of the feature columns, or `[features, label]` with a `label`;
   * with `batchSize` the rows come stacked in batches. Cells must be numbers (decimal, exponent,
   * nan, inf); a column of text may stand in the file if it is not picked. A ragged row, a cell
   * that is not a number, an empty file or a header without rows fails the pass, naming the
   * file, the line (1-based) and the column.
   * @example
   * const ds = kiln.data.Dataset.fromCsv('train.csv', { label: 'price', batchSize: 256 }).prefetch(2);
   * await model.fit(ds, undefined, { epochs: 3 });
   */
  static fromCsv(path: string, options?: CsvOptions & { label?: undefined }): Dataset<Tensor>;
  static fromCsv(path: string, options: CsvOptions & { label: NonNullable<CsvOptions['label']> }): Dataset<[Tensor, Tensor]>;
  static fromCsv(path: string, options: CsvOptions = {}): Dataset<Tensor> | Dataset<[Tensor, Tensor]> {
    return Dataset.of<Tensor>(csvSource(path, options));
  }

  /** The images of an IDX file (MNIST), with their labels as `[image, label]` when a labels file is given. */
  static fromIdx(imagesPath: string, labelsPath?: undefined, options?: IdxOptions): Dataset<Tensor>;
  static fromIdx(imagesPath: string, labelsPath: string, options?: IdxOptions): Dataset<[Tensor, Tensor]>;
  static fromIdx(imagesPath: string, labelsPath?: string, options: IdxOptions = {}): Dataset<Tensor> | Dataset<[Tensor, Tensor]> {
    const source = idxSource(imagesPath, labelsPath, options);
    return labelsPath === undefined ? Dataset.of<Tensor>(source) : Dataset.of<[Tensor, Tensor]>(source);
  }

  /** Elements made of one element of each dataset (a tuple or a record, as given), until the shortest ends. */
  static zip<const D extends readonly Dataset<unknown>[] | { readonly [k: string]: Dataset<unknown> }>(datasets: D): Dataset<{ -readonly [K in keyof D]: D[K] extends Dataset<infer U> ? U : never }> {
    const named = !Array.isArray(datasets);
    const keys = Object.keys(datasets);
    const parts = Object.values(datasets) as Dataset<unknown>[];
    if (parts.length === 0 || parts.some((d) => !(d instanceof Dataset))) fail('Dataset.zip', 'expected a non-empty array or record of Datasets');
    const counts = parts.map((d) => d.count);
    const finite = counts.filter((c) => c >= 0);
    const count = counts.includes(UNKNOWN) ? UNKNOWN : finite.length ? Math.min(...finite) : INFINITE;
    const assemble = (es: Element[]): Element => (named ? Object.fromEntries(keys.map((k, i) => [k, es[i]])) : es);
    return new Dataset(zipStage(parts.map((d) => d.open), assemble), count);
  }

  /** `fn` on each element (sync or async); `numParallelCalls` calls run at once, the order kept. */
  map<U>(fn: (element: T) => U | Promise<U>, { numParallelCalls = 1 }: { numParallelCalls?: number } = {}): Dataset<ElementOf<U>> {
    if (typeof fn !== 'function') fail('Dataset.map', `expected a function, got ${typeof fn}`);
    checkCount('Dataset.map', 'numParallelCalls', numParallelCalls, 1);
    return this.derived(mapStage(this.open, fn as (e: Element) => unknown, numParallelCalls), this.count);
  }

  /** The elements for which `predicate` is true (a boolean, or a one-element tensor as in tf.data). */
  filter(predicate: (element: T) => boolean | Tensor | Promise<boolean | Tensor>): Dataset<T> {
    if (typeof predicate !== 'function') fail('Dataset.filter', `expected a function, got ${typeof predicate}`);
    return this.derived(filterStage(this.open, predicate as (e: Element) => unknown), this.count === INFINITE ? INFINITE : UNKNOWN);
  }

  /** Consecutive elements stacked along a new axis 0, `batchSize` at a time; the last batch may be smaller. */
  batch(batchSize: number, { dropRemainder = false }: { dropRemainder?: boolean } = {}): Dataset<T> {
    checkCount('Dataset.batch', 'batchSize', batchSize, 1);
    const open = this.plan ? openBatches(this.plan, batchSize, dropRemainder) : batchStage(this.open, batchSize, dropRemainder);
    return this.derived(open, derive(this.count, (n) => (dropRemainder ? Math.floor(n / batchSize) : Math.ceil(n / batchSize))));
  }

  /** Each element split into its rows along axis 0. */
  unbatch(): Dataset<T> {
    return this.derived(unbatchStage(this.open), this.count === INFINITE ? INFINITE : UNKNOWN);
  }

  /** Elements in random order through a buffer of `bufferSize` (tf.data's algorithm). */
  shuffle(bufferSize: number, options: ShuffleOptions = {}): Dataset<T> {
    checkCount('Dataset.shuffle', 'bufferSize', bufferSize, 1);
    if (options.seed !== undefined && !Number.isInteger(options.seed)) fail('Dataset.shuffle', `seed must be an integer, got ${options.seed}`);
    // one buffer for both paths: one seed drawn, and one pass count whichever path a pass takes
    const buffer = shuffleBuffer(bufferSize, options);
    return this.reordered(shuffleStage(this.open, buffer), this.count, (p) => shufflePlan(p, buffer));
  }

  /** `count` passes over this dataset in one; forever without a count (or with -1). */
  repeat(count = -1): Dataset<T> {
    if (count !== -1) checkCount('Dataset.repeat', 'count', count, 0);
    const n = this.count === 0 ? 0 : count === -1 ? (this.count === UNKNOWN ? UNKNOWN : INFINITE) : derive(this.count, (c) => c * count);
    return this.reordered(repeatStage(this.open, count), n, (p) => repeatPlan(p, count));
  }

  /** The first `count` elements (all of them with -1). */
  take(count: number): Dataset<T> {
    if (count !== -1) checkCount('Dataset.take', 'count', count, 0);
    const n = count === -1 ? this.count : this.count === INFINITE ? count : derive(this.count, (c) => Math.min(c, count));
    return this.reordered(takeStage(this.open, count), n, (p) => takePlan(p, count));
  }

  /** All but the first `count` elements (none with -1). */
  skip(count: number): Dataset<T> {
    if (count !== -1) checkCount('Dataset.skip', 'count', count, 0);
    const n = count === -1 ? (this.count === INFINITE ? INFINITE : 0) : derive(this.count, (c) => Math.max(0, c - count));
    return this.reordered(skipStage(this.open, count), n, (p) => skipPlan(p, count));
  }

  /** Up to `bufferSize` elements made ahead of the one being used, so the pipeline runs beside training. */
  prefetch(bufferSize: number): Dataset<T> {
    checkCount('Dataset.prefetch', 'bufferSize', bufferSize, 1);
    const open = this.open;
    return this.derived(() => readAhead(open(), bufferSize, async (e) => e), this.count);
  }

  /** The elements of the first complete pass, kept in memory; later passes do not run this dataset again. */
  cache(): Dataset<T> {
    return this.derived(cacheStage(this.open), this.count);
  }

  /** This dataset's elements, then `other`'s. */
  concatenate(other: Dataset<T>): Dataset<T> {
    if (!(other instanceof Dataset)) fail('Dataset.concatenate', 'expected a Dataset');
    const [a, b] = [this.count, other.count];
    const n = a === INFINITE || b === INFINITE ? INFINITE : a === UNKNOWN || b === UNKNOWN ? UNKNOWN : a + b;
    return this.derived(concatenateStage([this.open, other.open]), n);
  }

  /** The number of elements of a pass, or -1 (INFINITE_CARDINALITY) or -2 (UNKNOWN_CARDINALITY). */
  cardinality(): number {
    return this.count;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.open() as AsyncIterator<T>;
  }
}
