/**
 * kiln on a backend whose memory the CPU cannot see: the reference backend behind a wrapper that
 * has no readSync and reads only after a turn of the event loop, as a GPU backend does. A small
 * model with everything that used to assume synchronous reads or host uploads (an Orthogonal
 * initializer, Embedding's index check, Dropout and recurrent dropout masks, sparse labels, the
 * optimizer's slots, the gradient seed) trains on it exactly as on reference, uploads nothing per
 * step but the batch, and reports bad indices and labels as reference does (docs/indices.md).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import type { Backend, TypedArray } from '../backends/contract.js';
import { ReferenceBackend } from '../backends/reference/backend.js';

const { Dense, Dropout, Embedding, SimpleRNN } = kiln.layers;

/** What the wrapper was asked to upload, in order. */
const writes: { dtype: string; length: number }[] = [];

/** Reference without readSync, its reads a macrotask late, its writes recorded. */
function asyncOnly(inner: ReferenceBackend): Backend {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'readSync') return undefined;
      if (prop === 'name') return 'async-reference';
      if (prop === 'write') {
        return (id: number, data: TypedArray) => {
          writes.push({ dtype: data.constructor.name, length: data.length });
          target.write(id, data);
        };
      }
      if (prop === 'read') return (id: number) => new Promise((resolve) => setTimeout(() => resolve(target.read(id)), 0));
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as unknown as Backend;
}

kiln.registerBackend({ name: 'async-reference', priority: -1, probe: () => ({ available: true }), create: () => asyncOnly(new ReferenceBackend()) });

const VOCAB = 12;
const STEPS = 5;
const CLASSES = 3;
const SAMPLES = 64;
const BATCH = 4;

/** Token sequences whose class is their first token mod 3: learnable in a few epochs. */
function data(): { x: number[][]; y: number[] } {
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const row = Array.from({ length: STEPS }, (_, t) => (i * 7 + t * 5 + (i % 3) * t) % VOCAB);
    x.push(row);
    y.push(row[0] % CLASSES);
  }
  return { x, y };
}

/** Embedding → SimpleRNN (Orthogonal recurrent kernel, input and recurrent dropout) → Dropout → Dense (Orthogonal). */
function model(): kiln.Sequential {
  kiln.setSeed(5);
  const m = new kiln.Sequential([
    kiln.layers.Input({ shape: [STEPS], dtype: 'int32' }),
    new Embedding(VOCAB, 6),
    new SimpleRNN(8, { dropout: 0.2, recurrentDropout: 0.2 }),
    new Dropout(0.3),
    new Dense(CLASSES, { kernelInitializer: 'orthogonal' }),
  ]);
  m.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.05 }), loss: new kiln.losses.SparseCategoricalCrossentropy({ fromLogits: true }) });
  return m;
}

async function fitOn(backend: string): Promise<{ loss: number[]; windowWrites: typeof writes; memory: [number, number] }> {
  await kiln.setBackend(backend);
  const { x, y } = data();
  const m = model();
  const xs = kiln.tensor(x, [SAMPLES, STEPS], 'int32');
  const ys = kiln.tensor(y, [SAMPLES], 'int32');
  let step = 0;
  let from = 0;
  let to = 0;
  const memory: [number, number] = [0, 0];
  // steps 10 to 19 (the first epoch has 16): what is written while they run
  const watch = new kiln.callbacks.LambdaCallback({
    onTrainBatchBegin: () => {
      if (step === 10) [from, memory[0]] = [writes.length, kiln.memory().numTensors];
    },
    onTrainBatchEnd: () => {
      if (++step === 20) [to, memory[1]] = [writes.length, kiln.memory().numTensors];
    },
  });
  const history = await m.fit(xs, ys, { epochs: 6, batchSize: BATCH, shuffle: true, verbose: 0, callbacks: [watch] });
  kiln.dispose([xs, ys]);
  m.dispose();
  return { loss: history.history.loss as number[], windowWrites: writes.slice(from, to), memory };
}

describe('an async-only backend (reference without readSync)', () => {
  beforeEach(() => kiln.setBackend('async-reference'));
  afterAll(() => kiln.setBackend('reference'));

  it('has no synchronous read', () => {
    const t = kiln.ones([2]);
    expect(() => t.dataSync()).toThrow(/backend 'async-reference' reads asynchronously; use await t.data\(\)/);
    t.dispose();
  });

  it('fits Embedding, SimpleRNN with dropout, Dropout and an Orthogonal Dense with sparse labels, as reference does, bit for bit', async () => {
    const onAsync = await fitOn('async-reference');
    const onReference = await fitOn('reference');
    expect(onAsync.loss).toHaveLength(6);
    expect(onAsync.loss.every(Number.isFinite)).toBe(true);
    // it learns: the last epoch's loss well under the first's (ln 3 = 1.10 at chance)
    expect(onAsync.loss[5]).toBeLessThan(0.6 * onAsync.loss[0]);
    // the same seed gives the same dropout masks and initial weights on both: the same run
    expect(onAsync.loss).toEqual(onReference.loss);
    // per step only the shuffled batch's rows (an int32 index per sample) are uploaded: no
    // constants, no masks, no optimizer slots, no gradient seed
    expect(onAsync.windowWrites).toEqual(new Array(10).fill({ dtype: 'Int32Array', length: BATCH }));
    // and nothing piles up from step to step, the checks waiting for a read included
    expect(onAsync.memory[1]).toBe(onAsync.memory[0]);
  }, 120_000);

  it('trainOnBatch uploads the batch inputs and targets, and nothing else', async () => {
    const m = model();
    const { x, y } = data();
    const step = async (i: number) => {
      const xb = kiln.tensor(x.slice(i * BATCH, (i + 1) * BATCH), [BATCH, STEPS], 'int32');
      const yb = kiln.tensor(y.slice(i * BATCH, (i + 1) * BATCH), [BATCH], 'int32');
      await m.trainOnBatch(xb, yb);
      kiln.dispose([xb, yb]);
    };
    for (let i = 0; i < 10; i++) await step(i);
    const before = writes.length;
    const tensors = kiln.memory().numTensors;
    for (let i = 10; i < 15; i++) await step(i);
    expect(writes.slice(before)).toEqual(new Array(5).fill(null).flatMap(() => [
      { dtype: 'Int32Array', length: BATCH * STEPS }, { dtype: 'Int32Array', length: BATCH },
    ]));
    expect(kiln.memory().numTensors).toBe(tensors);
    m.dispose();
  }, 60_000);

  it('Orthogonal initializes without a readback: orthonormal columns', async () => {
    const w = new kiln.initializers.Orthogonal({ seed: 3 }).call([6, 4], 'float32');
    const v = await w.data();
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let dot = 0;
        for (let r = 0; r < 6; r++) dot += v[r * 4 + i] * v[r * 4 + j];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 5);
      }
    }
    w.dispose();
  });

  it('an Embedding index out of range fails fit at its next read, naming the layer, the index and inputDim', async () => {
    const m = model();
    const { x, y } = data();
    x[9][2] = VOCAB + 3;
    const xs = kiln.tensor(x, [SAMPLES, STEPS], 'int32');
    const ys = kiln.tensor(y, [SAMPLES], 'int32');
    await expect(m.fit(xs, ys, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 })).rejects.toThrow(
      new RegExp(`Embedding '${m.layers[0].name}': index 15 \\(element 7 of the input \\[4,5\\], flattened\\) is out of range for inputDim 12`),
    );
    kiln.dispose([xs, ys]);
    m.dispose();
  });

  it('a sparse label out of range fails fit at its next read, naming the label and the range', async () => {
    const m = model();
    const { x, y } = data();
    y[6] = CLASSES;
    const xs = kiln.tensor(x, [SAMPLES, STEPS], 'int32');
    const ys = kiln.tensor(y, [SAMPLES], 'int32');
    await expect(m.fit(xs, ys, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 })).rejects.toThrow(
      /label 3 at position 2 is out of range: labels must be integers in \[0, 3\)/,
    );
    kiln.dispose([xs, ys]);
    m.dispose();
  });

  it('take with a tensor of indices: the same error at the next read as on reference', async () => {
    for (const backend of ['async-reference', 'reference']) {
      await kiln.setBackend(backend);
      const y = kiln.tidy(() => kiln.ops.take(kiln.tensor([1, 2, 3]), kiln.tensor([2, 3], [2], 'int32')));
      await expect(y.data(), backend).rejects.toThrow('take: index 3 is out of range for an axis of size 3 (valid: -3 to 2; position 1 of the indices, flattened)');
      y.dispose();
    }
    await kiln.setBackend('async-reference');
  });
});
