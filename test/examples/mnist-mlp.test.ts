import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { run } from '../../examples/mnist-mlp.js';

describe('examples/mnist-mlp (real MNIST, 784-256-256-10, Adam 1e-3, batch 128)', () => {
  it('reaches at least 97% test accuracy after 2 epochs on the reference backend', async () => {
    await kiln.setBackend('reference');
    const { accuracy, seconds } = await run({ verbose: 0 });
    console.log(`mnist-mlp on reference: test accuracy ${(accuracy * 100).toFixed(2)}% after 2 epochs, ${seconds.toFixed(1)} s`);
    expect(accuracy).toBeGreaterThanOrEqual(0.97);
  }, 900_000);
});
