import { ENGINE } from '../src/engine.js';
import { fail } from '../src/errors.js';
import { dispose } from '../src/memory.js';
import type { Tensor } from '../src/tensor.js';
import { permutation } from '../src/random.js';
import { batchOf, numSamples, toList, type InputsLike, type TargetsLike } from './data.js';
import type { Model } from './model.js';
import type { StepData } from './training.js';

export function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return x !== null && typeof x === 'object' && Symbol.asyncIterator in (x as object);
}

/**
 * The targets and options of fit or evaluate. A dataset (an async iterable) carries its own
 * targets, so its second argument, a plain object, is the options, as in Keras's
 * `fit(dataset, epochs=2)`; a tensor or array there (targets that would be ignored) is an error.
 */
export function datasetArguments<O extends object>(op: string, x: unknown, y: unknown, options: O): [TargetsLike | undefined, O] {
  if (!isAsyncIterable(x) || y === undefined) return [y as TargetsLike | undefined, options];
  const plain = y !== null && typeof y === 'object' && Object.getPrototypeOf(y) === Object.prototype;
  if (!plain || Object.keys(options).length > 0) {
    fail(op, `a dataset or async iterable carries its own targets: pass the options second, as ${op}(dataset, { ... }), and no y`);
  }
  return [undefined, y as O];
}

/**
 * Set (to true) on an async iterable whose elements belong to whoever takes them, as
 * kiln.data.Dataset's do: fit, evaluate and predict then free each batch's tensors after its step.
 * A plain iterable keeps its tensors: it may hand out the same ones again.
 */
export const CONSUMER_OWNS_ELEMENTS = Symbol('kiln.consumerOwnsElements');

function ownsElements(x: object): boolean {
  return (x as { [CONSUMER_OWNS_ELEMENTS]?: boolean })[CONSUMER_OWNS_ELEMENTS] === true;
}

/** The batch count of an iterable that knows it (tf.data's cardinality()), else null; -1 is infinite. */
function cardinalityOf(x: object): number | null {
  const f = (x as { cardinality?: unknown }).cardinality;
  const n: unknown = typeof f === 'function' ? f.call(x) : null;
  return typeof n === 'number' && (n >= 0 || n === -1) ? n : null;
}

/**
 * An endless iterable (cardinality -1) needs a step count, or a pass would never end (Keras raises
 * the same); `option` is the name of the step count where `op` takes it.
 */
export function checkEnds(op: string, data: object, steps: number | undefined, option: string): void {
  if (steps === undefined && cardinalityOf(data) === -1) fail(op, `the dataset is infinite (cardinality -1): pass ${option} to say how many batches make a pass`);
}

/** Batches of [inputs, targets, sampleWeight], each made in the caller's tidy scope. */
export interface BatchSource {
  steps: number | null;
  epochBatches(): AsyncIterable<() => StepData>;
  /** Ends an iteration still open (stepsPerEpoch stopped it early), so the iterable frees what it holds. */
  close(): Promise<void>;
  /** For data the user's pipeline made: which batch a step's error came from, said beside it. */
  where?(step: number): string;
}

export function arraySource(op: string, xs: Tensor[], ys: Tensor[], sw: Tensor | null, batchSize: number, shuffle: boolean, stepsPerEpoch?: number): BatchSource {
  const n = numSamples(op, { x: xs, y: ys, ...(sw ? { sampleWeight: [sw] } : {}) });
  if (n === 0) fail(op, 'no samples: the arrays are empty (0 rows)');
  const perPass = Math.ceil(n / batchSize);
  const steps = Math.min(perPass, stepsPerEpoch ?? Infinity);
  // with stepsPerEpoch shorter than the data, the next epoch goes on where this one stopped (Keras)
  let cursor = 0;
  let order: Int32Array | null = null;
  return {
    steps,
    close: async () => {},
    async *epochBatches() {
      for (let s = 0; s < steps; s++) {
        if (cursor === 0) order = shuffle ? permutation(n) : null;
        const start = cursor * batchSize;
        const end = Math.min(start + batchSize, n);
        const rows = order;
        cursor = (cursor + 1) % perPass;
        yield () => {
          const idx = rows ? ENGINE.upload(rows.subarray(start, end), [end - start], 'int32') : null;
          const [bx, by, bw] = [batchOf(xs, start, end, idx), batchOf(ys, start, end, idx), sw ? batchOf([sw], start, end, idx)[0] : null];
          return [bx, by, bw];
        };
      }
    },
  };
}

export function iterableSource(model: Model, op: string, data: AsyncIterable<unknown>, stepsPerEpoch?: number): BatchSource {
  let iterator: AsyncIterator<unknown> | null = null;
  const owned = ownsElements(data);
  const close = async () => {
    const it = iterator;
    iterator = null;
    await it?.return?.();
  };
  const known = cardinalityOf(data);
  return {
    steps: stepsPerEpoch ?? (known !== null && known >= 0 ? known : null),
    close,
    where: (step) => `in batch ${step} of the epoch, from the dataset`,
    async *epochBatches() {
      // with stepsPerEpoch one iterator runs across epochs; without, each epoch iterates afresh
      if (!stepsPerEpoch) await close();
      iterator ??= data[Symbol.asyncIterator]();
      for (let s = 0; stepsPerEpoch === undefined || s < stepsPerEpoch; s++) {
        const next = await iterator.next();
        if (next.done) {
          iterator = null;
          return;
        }
        try {
          if (!Array.isArray(next.value) || next.value.length < 2) fail(op, 'each batch of an async iterable must be [x, y] or [x, y, sampleWeight]');
          const [bx, by, bw] = next.value as unknown as [InputsLike, TargetsLike, Tensor | undefined];
          yield () => [toList(op, bx, model.inputNames, 'input'), toList(op, by, model.outputNames, 'target'), bw ?? null];
        } finally {
          if (owned) dispose(next.value);
        }
      }
    },
  };
}

/** The inputs of a predict batch: `x` alone, or `[x]`, `[x, y]`, `[x, y, w]` whose targets are ignored (Keras). */
function inputsOf(element: unknown): InputsLike {
  return Array.isArray(element) && element.length <= 3 ? element[0] : (element as InputsLike);
}

/** Batches of inputs from an async iterable, for predict. */
export async function* predictBatches(model: Model, op: string, data: AsyncIterable<unknown>, steps?: number): AsyncGenerator<() => Tensor[]> {
  const owned = ownsElements(data);
  const it = data[Symbol.asyncIterator]();
  try {
    for (let s = 0; steps === undefined || s < steps; s++) {
      const next = await it.next();
      if (next.done) return;
      try {
        yield () => toList(op, inputsOf(next.value), model.inputNames, 'input');
      } finally {
        if (owned) dispose(next.value);
      }
    }
  } finally {
    await it.return?.();
  }
}
