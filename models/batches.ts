import { ENGINE } from '../src/engine.js';
import { fail } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { permutation } from '../src/random.js';
import { batchOf, numSamples, toList, type InputsLike, type TargetsLike } from './data.js';
import type { Model } from './model.js';
import type { StepData } from './training.js';

export function isAsyncIterable(x: unknown): x is AsyncIterable<[InputsLike, TargetsLike]> {
  return x !== null && typeof x === 'object' && Symbol.asyncIterator in (x as object);
}

/** Batches of [inputs, targets, sampleWeight], each made in the caller's tidy scope. */
export interface BatchSource {
  steps: number | null;
  epochBatches(): AsyncIterable<() => StepData>;
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

export function iterableSource(model: Model, op: string, data: AsyncIterable<[InputsLike, TargetsLike]>, stepsPerEpoch?: number): BatchSource {
  let iterator: AsyncIterator<[InputsLike, TargetsLike]> | null = null;
  return {
    steps: stepsPerEpoch ?? null,
    async *epochBatches() {
      // with stepsPerEpoch one iterator runs across epochs; without, each epoch iterates afresh
      if (!stepsPerEpoch || !iterator) iterator = data[Symbol.asyncIterator]();
      for (let s = 0; stepsPerEpoch === undefined || s < stepsPerEpoch; s++) {
        const next = await iterator.next();
        if (next.done) {
          iterator = null;
          return;
        }
        if (!Array.isArray(next.value) || next.value.length < 2) fail(op, 'each batch of an async iterable must be [x, y] or [x, y, sampleWeight]');
        const [bx, by, bw] = next.value as unknown as [InputsLike, TargetsLike, Tensor | undefined];
        yield () => [toList(op, bx, model.inputNames, 'input'), toList(op, by, model.outputNames, 'target'), bw ?? null];
      }
    },
  };
}

