import { ENGINE } from '../src/engine.js';
import { fail } from '../src/errors.js';
import { readIdx, idxToTensor } from '../io/idx.js';
import { readNpy } from '../io/npy.js';
import type { DType } from '../backends/contract.js';
import type { Tensor } from '../src/tensor.js';
import type { Open } from './ahead.js';
import { disposeElement, rowsOf, stageError, toElement, viewOf, type Element } from './element.js';
import { openRows, rowPlan, type RowPlan, type Rows } from './plan.js';

/** A dataset's first stage: how to open a pass, and how many elements a pass has (or -1, -2). */
export interface Source {
  open: Open<Element>;
  cardinality: number;
  /** For sources of rows, the rows as a plan that batch can gather from (plan.ts). */
  plan?: RowPlan;
}

function rowsSource(cardinality: number, load: () => Promise<Rows>): Source {
  const plan = rowPlan(load);
  return { cardinality, open: openRows(plan), plan };
}

export function tensorsSource(x: unknown): Source {
  const element = toElement('Dataset.fromTensors', x);
  return {
    cardinality: 1,
    async *open() {
      yield viewOf(element);
    },
  };
}

export function slicesSource(x: unknown): Source {
  const element = toElement('Dataset.fromTensorSlices', x);
  const n = rowsOf('Dataset.fromTensorSlices', element);
  return rowsSource(n, async () => ({ element, n, owned: false }));
}

/** What fromGenerator accepts: a function that starts one pass, as a generator function does. */
export type GeneratorFn = () => Iterator<unknown> | AsyncIterator<unknown> | Iterable<unknown> | AsyncIterable<unknown>;

function start(stage: string, made: unknown): Iterator<unknown> | AsyncIterator<unknown> {
  if (made !== null && typeof made === 'object') {
    const m = made as Partial<AsyncIterable<unknown> & Iterable<unknown> & Iterator<unknown>>;
    if (typeof m[Symbol.asyncIterator] === 'function') return m[Symbol.asyncIterator]!();
    if (typeof m[Symbol.iterator] === 'function') return m[Symbol.iterator]!();
    if (typeof m.next === 'function') return m as Iterator<unknown>;
  }
  return fail(stage, `expected an iterator or an iterable, got ${made === null ? 'null' : typeof made}`);
}

/**
 * A pass pulls from `begin()`; an error there names the stage and the element it was making.
 * `adopt` decides who owns the tensors the user yields.
 */
function pulled(stage: string, begin: () => unknown, adopt: (t: Tensor) => Tensor): Source {
  return {
    cardinality: -2,
    async *open() {
      let it: Iterator<unknown> | AsyncIterator<unknown>;
      try {
        it = start(stage, begin());
      } catch (err) {
        throw stageError(stage, 0, err);
      }
      try {
        for (let i = 0; ; i++) {
          let element: Element;
          try {
            const r = await it.next();
            if (r.done) return;
            element = toElement(stage, r.value, adopt);
          } catch (err) {
            throw stageError(stage, i, err);
          }
          yield element;
        }
      } finally {
        await it.return?.();
      }
    },
  };
}

/** Each pass calls `fn`; the tensors it yields are handed over to the consumer, which frees them. */
export function generatorSource(fn: GeneratorFn): Source {
  if (typeof fn !== 'function') fail('Dataset.fromGenerator', `expected a function that returns an iterator, got ${typeof fn}`);
  return pulled('Dataset.fromGenerator', fn, (t) => t);
}

/** Each pass iterates `iterable` again; its tensors stay the caller's (the dataset hands out views). */
export function iterableSource(iterable: Iterable<unknown> | AsyncIterable<unknown>): Source {
  return pulled('Dataset.fromIterable', () => iterable, (t) => ENGINE.view(t));
}

/** Slices of a file's arrays, read afresh on each pass and freed when the pass ends. */
function fileSource(stage: string, load: () => Promise<Element>): Source {
  return rowsSource(-2, async () => {
    const element = await load();
    try {
      return { element, n: rowsOf(stage, element), owned: true };
    } catch (err) {
      disposeElement(element);
      throw err;
    }
  });
}

export function npySource(path: string): Source {
  return fileSource('Dataset.fromNpy', () => readNpy(path));
}

export interface IdxOptions {
  /** The images' dtype (the labels are int32); by default int32 for byte images. */
  dtype?: DType;
  /** A factor on every pixel: 1/255 maps bytes to [0, 1]. */
  scale?: number;
}

export function idxSource(imagesPath: string, labelsPath: string | undefined, options: IdxOptions): Source {
  return fileSource('Dataset.fromIdx', async () => {
    const images = idxToTensor(await readIdx(imagesPath), options);
    if (labelsPath === undefined) return images;
    try {
      const labels = idxToTensor(await readIdx(labelsPath));
      if (labels.shape[0] !== images.shape[0]) {
        labels.dispose();
        fail('Dataset.fromIdx', `${imagesPath} holds ${images.shape[0]} images but ${labelsPath} holds ${labels.shape[0]} labels`);
      }
      return [images, labels];
    } catch (err) {
      images.dispose();
      throw err;
    }
  });
}
