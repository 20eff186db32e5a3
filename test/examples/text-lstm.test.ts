import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { run, sequences, servedCheck } from '../../examples/text-lstm.js';

const native = kiln.listBackends().find((b) => b.name === 'native')!;
const skipWhy = native.available ? '' : `native backend unavailable: ${native.reason}`;
if (skipWhy) console.warn(`examples/text-lstm: skipped, ${skipWhy}`);

describe('examples/text-lstm: the data', () => {
  it('right-pads 1 to maxLength digits 1–9 with 0 and answers (first + last) mod 10', async () => {
    kiln.setSeed(3);
    const [x, y] = sequences(500, 6, 9);
    expect(x.shape).toEqual([500, 9]);
    const [tokens, answers] = [Array.from(await x.data()), Array.from(await y.data())];
    const lengths = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const row = tokens.slice(9 * i, 9 * i + 9);
      const length = row.indexOf(0) === -1 ? 9 : row.indexOf(0);
      lengths.add(length);
      row.slice(0, length).forEach((d) => expect(d >= 1 && d <= 9).toBe(true));
      expect(row.slice(length).every((d) => d === 0)).toBe(true);
      expect(answers[i]).toBe((row[0] + row[length - 1]) % 10);
    }
    expect([...lengths].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    kiln.dispose([x, y]);
  });
});

describe.skipIf(!!skipWhy)('examples/text-lstm on native (the example\'s model and run)', () => {
  let dir = '';
  let outcome: Awaited<ReturnType<typeof run>>;

  beforeAll(async () => {
    await kiln.setBackend('native');
    dir = mkdtempSync(join(tmpdir(), 'kiln-text-lstm-'));
    // fit never yields to the event loop by itself; a long one starves vitest's worker messages
    const yieldEachEpoch = new kiln.callbacks.LambdaCallback({ onEpochEnd: () => new Promise<void>((resolve) => setImmediate(resolve)) });
    // 8192 sequences, the example's own: with 4096 the accuracy after 4 epochs depends on the seed
    // (seeds 1–12 gave 57% to 100%), with 8192 every one of seeds 1–8 reached 100%
    outcome = await run({ samples: 8192, epochs: 4, callbacks: [yieldEachEpoch], onnx: join(dir, 'text-lstm.onnx'), verbose: 0 });
  }, 180_000);

  afterAll(() => {
    outcome?.model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers held-out sequences with at least 98% accuracy, and twice the padding changes no probability', () => {
    console.log(`text-lstm on native, 512 steps of 64: held-out accuracy ${(outcome.accuracy * 100).toFixed(2)}%, ${outcome.seconds.toFixed(1)} s; padding effect ${outcome.paddingEffect}`);
    expect(outcome.accuracy).toBeGreaterThanOrEqual(0.98);
    // masked steps keep the state as it was (this run measured 0); read as data, twelve more
    // padding steps would move the probabilities by far more than rounding
    expect(outcome.paddingEffect).toBeLessThanOrEqual(1e-6);
  });

  it('exports a file that answers as kiln in onnxruntime-node at 12 and 24 steps (one dynamic time axis)', () => {
    const { accuracy, maxAbsError } = outcome.served!;
    expect(accuracy).toHaveLength(2);
    accuracy.forEach((a) => expect(a).toBeGreaterThanOrEqual(0.98));
    expect(maxAbsError).toBeLessThanOrEqual(1e-5);
  });

  it('the exported file matches kiln at batch 1 and 7, at 1 and 30 steps, with all-padding rows', async () => {
    for (const [rows, steps] of [[1, 1], [7, 30], [1, 30]]) {
      kiln.setSeed(rows * steps);
      const [x, y] = sequences(rows, Math.min(steps, 12), steps);
      // the last sample all padding: the file must give kiln's answer from the zero states
      const tokens = (await x.data()) as Int32Array;
      if (steps > 1) tokens.fill(0, (rows - 1) * steps);
      const padded = kiln.tensor(tokens, [rows, steps], 'int32');
      const predicted = (await outcome.model.predict(padded)) as kiln.Tensor;
      const check = await servedCheck(join(dir, 'text-lstm.onnx'), [[padded, (await predicted.data()) as Float32Array]], y);
      expect(check.maxAbsError).toBeLessThanOrEqual(1e-5);
      kiln.dispose([x, y, padded, predicted]);
    }
  });
});
