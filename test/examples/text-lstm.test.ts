import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { run, sequences } from '../../examples/text-lstm.js';

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

describe.skipIf(!!skipWhy)('examples/text-lstm on native (the example\'s model, fewer sequences)', () => {
  let outcome: Awaited<ReturnType<typeof run>>;

  beforeAll(async () => {
    await kiln.setBackend('native');
    // fit never yields to the event loop by itself; a long one starves vitest's worker messages
    const yieldEachEpoch = new kiln.callbacks.LambdaCallback({ onEpochEnd: () => new Promise<void>((resolve) => setImmediate(resolve)) });
    outcome = await run({ samples: 4096, epochs: 4, callbacks: [yieldEachEpoch], verbose: 0 });
  }, 120_000);

  afterAll(() => outcome?.model.dispose());

  it('answers held-out sequences with at least 98% accuracy, and twice the padding changes no probability', () => {
    console.log(`text-lstm on native, 256 steps of 64: held-out accuracy ${(outcome.accuracy * 100).toFixed(2)}%, ${outcome.seconds.toFixed(1)} s; padding effect ${outcome.paddingEffect}`);
    expect(outcome.accuracy).toBeGreaterThanOrEqual(0.98);
    // masked steps keep the state as it was (this run measured 0); read as data, twelve more
    // padding steps would move the probabilities by far more than rounding
    expect(outcome.paddingEffect).toBeLessThanOrEqual(1e-6);
  });
});
