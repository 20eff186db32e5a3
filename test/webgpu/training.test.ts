/**
 * Training on WebGPU: a small MLP's fit lowers its loss and, from the same initial weights and
 * batches, ends 5 steps later at reference's weights within float32 rounding; and fit holds
 * the same GPU memory after step 200 as after step 10.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { UNAVAILABLE, reportSkip } from './setup.js';

reportSkip('training.test.ts');

const { Dense } = kiln.layers;

function mlp(): kiln.Sequential {
  return new kiln.Sequential([
    kiln.Input({ shape: [4] }),
    new Dense(16, { activation: 'tanh' }),
    new Dense(8, { activation: 'relu' }),
    new Dense(3, { activation: 'softmax' }),
  ]);
}

/** 32 points in 3 classes by the sign pattern of two of their coordinates. */
function data(): [number[], number[]] {
  const x = Array.from({ length: 32 * 4 }, (_, i) => Math.sin(i * 1.37 + 0.5) * 2);
  const y = Array.from({ length: 32 }, (_, r) => (x[r * 4] > 0 ? 1 : 0) + (x[r * 4 + 1] > 0.5 ? 1 : 0));
  return [x, y];
}

/** Trains from `init` for `epochs` full-batch epochs on `backend`: the losses and the final weights. */
async function train(backend: string, init: Float32Array[], epochs: number): Promise<{ losses: number[]; weights: Float32Array[] }> {
  await kiln.setBackend(backend);
  const model = mlp();
  model.setWeights(init.map((w, k) => kiln.tensor(Array.from(w), model.getWeights()[k].shape as number[])));
  model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1, momentum: 0.9 }), loss: 'sparse_categorical_crossentropy' });
  const [xs, ys] = data();
  const x = kiln.tensor(xs, [32, 4]);
  const y = kiln.tensor(ys, [32], 'int32');
  const history = await model.fit(x, y, { epochs, batchSize: 32, shuffle: false, verbose: 0 });
  const weights = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
  kiln.dispose([x, y]);
  return { losses: history.history.loss as number[], weights };
}

describe.skipIf(UNAVAILABLE !== null)('fit on webgpu', () => {
  afterAll(async () => {
    await kiln.setBackend('reference');
  });

  it("an MLP's loss falls, and after 5 steps its weights are reference's from the same start", async () => {
    await kiln.setBackend('reference');
    kiln.setSeed(5);
    const init = await Promise.all(mlp().getWeights().map(async (w) => (await w.data()) as Float32Array));
    const gpu = await train('webgpu', init, 5);
    const ref = await train('reference', init, 5);
    expect(gpu.losses[4]).toBeLessThan(gpu.losses[0] * 0.9);
    gpu.losses.forEach((l, k) => expect(Math.abs(l - ref.losses[k])).toBeLessThanOrEqual(1e-5 + 1e-4 * ref.losses[k]));
    gpu.weights.forEach((w, k) => w.forEach((v, i) => {
      const want = ref.weights[k][i];
      if (Math.abs(v - want) > 1e-5 + 1e-4 * Math.abs(want)) expect.fail(`weight ${k}[${i}]: webgpu ${v}, reference ${want}`);
    }));
  });

  it('fit holds the same tensors, buffers and bytes after step 200 as after step 10', async () => {
    await kiln.setBackend('webgpu');
    kiln.setSeed(6);
    const model = mlp();
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const [xs, ys] = data();
    const x = kiln.tensor(xs, [32, 4]);
    const y = kiln.tensor(ys, [32], 'int32');
    const held: Record<number, kiln.MemoryReport> = {};
    const callbacks = [new kiln.callbacks.LambdaCallback({ onTrainBatchEnd: (batch) => { if (batch === 9 || batch === 199) held[batch + 1] = kiln.memory(); } })];
    // one epoch of 200 steps of 4 rows each (x repeated)
    const x200 = kiln.ops.tile(x, [25, 1]);
    const y200 = kiln.ops.tile(y, [25]);
    await model.fit(x200, y200, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0, callbacks });
    expect(held[200]).toEqual(held[10]);
    expect(held[10].backend).toBe('webgpu');
    kiln.dispose([x, y, x200, y200]);
  });
});
