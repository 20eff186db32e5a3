import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { buildModel as textLstm, sequences } from '../../examples/text-lstm.js';
import { buildModel as transformer, reversals } from '../../examples/transformer.js';

/** What the backend holds, in the two numbers a leak moves. */
function held(): { numTensors: number; numBytes: number } {
  const { numTensors, numBytes } = kiln.memory();
  return { numTensors, numBytes };
}

const BATCH = 8;

/**
 * fit for 10 steps, then 490 more (49 epochs of 10 steps, with validation and a batch callback,
 * as a user's fit runs): memory after step 10 and after step 500.
 */
async function fitHeld(model: kiln.Model, data: (n: number) => [kiln.Tensor, kiln.Tensor]) {
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  kiln.setSeed(2);
  const [x, y] = data(BATCH * 10);
  const [vx, vy] = data(BATCH);
  const losses: number[] = [];
  const options = {
    batchSize: BATCH, verbose: 0 as const, validationData: [vx, vy] as [kiln.Tensor, kiln.Tensor],
    callbacks: [new kiln.callbacks.LambdaCallback({
      onTrainBatchEnd: (_b, logs) => void losses.push(logs!.loss),
      // fit itself never yields to the event loop: 490 steps in one call on a loaded machine
      // outlast vitest's 60 s wait for its worker's messages ('Timeout calling "onTaskUpdate"')
      onEpochEnd: () => new Promise<void>((resolve) => setImmediate(resolve)),
    })],
  };
  await model.fit(x, y, { ...options, epochs: 1 });
  const early = held();
  await model.fit(x, y, { ...options, epochs: 50, initialEpoch: 1 });
  const late = held();
  kiln.dispose([x, y, vx, vy]);
  return { early, late, losses };
}

const backends = kiln.listBackends();
for (const b of backends.filter((s) => !s.available)) console.warn(`leak-sequence: backend '${b.name}' skipped: ${b.reason}`);

// the examples' models with tiny shapes, so that 500 steps stay short on the reference backend
describe.each(backends.filter((b) => b.available).map((b) => b.name))('sequence models train leak-free on %s: memory after step 10 equals memory after step 500', (backend) => {
  it('examples/text-lstm: Embedding(maskZero) → Bidirectional(LSTM) → Dense on right-padded sequences of 1 to 5 steps', async () => {
    await kiln.setBackend(backend);
    kiln.setSeed(1);
    const model = textLstm({ embeddingDim: 3, units: 4 });
    const { early, late, losses } = await fitHeld(model, (n) => sequences(n, 5));
    expect(losses).toHaveLength(500);
    expect(late).toEqual(early);
    model.dispose();
  }, 240_000);

  it('examples/transformer: Embedding, PositionEmbedding, 2 × (MultiHeadAttention, Add, LayerNormalization, Dense) on 4 steps', async () => {
    await kiln.setBackend(backend);
    kiln.setSeed(1);
    const model = transformer({ vocabulary: 5, steps: 4, dim: 4, heads: 2, feedForward: 4, blocks: 2 });
    const { early, late, losses } = await fitHeld(model, (n) => reversals(n, 4, 5));
    expect(losses).toHaveLength(500);
    expect(late).toEqual(early);
    model.dispose();
  }, 240_000);
});

const native = backends.find((b) => b.name === 'native')!;
describe.skipIf(!native.available)('the examples\' models at their own sizes are leak-free on native', () => {
  it('examples/text-lstm (sequences of 1 to 12 steps, batch 8): memory after step 10 equals memory after step 500', async () => {
    await kiln.setBackend('native');
    kiln.setSeed(1);
    const model = textLstm();
    const { early, late, losses } = await fitHeld(model, (n) => sequences(n, 12));
    expect(losses).toHaveLength(500);
    expect(late).toEqual(early);
    model.dispose();
  }, 240_000);

  it('examples/transformer (10 steps, batch 8): memory after step 10 equals memory after step 500', async () => {
    await kiln.setBackend('native');
    kiln.setSeed(1);
    const model = transformer();
    const { early, late, losses } = await fitHeld(model, (n) => reversals(n, 10, 10));
    expect(losses).toHaveLength(500);
    expect(late).toEqual(early);
    model.dispose();
  }, 240_000);
});
