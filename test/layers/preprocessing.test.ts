import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Normalization, Rescaling } from '../../layers/index.js';
import { runLayerTest } from './harness.js';

const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());
const expectClose = (got: number[], expected: number[]): void => {
  expect(got).toHaveLength(expected.length);
  got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
};

describe('Rescaling', () => {
  it('passes the layer harness', () => {
    runLayerTest(Rescaling, { args: [0.5, { offset: -1 }], inputShape: [2, 3], expectedOutputShape: [2, 3] });
    runLayerTest(Rescaling, { args: [[1, 2, 3], { offset: [0, 0, 1] }], inputShape: [2, 3], expectedOutputShape: [2, 3] });
    runLayerTest(Rescaling, { args: [1 / 255], inputShape: [1, 3], inputs: () => kiln.tensor([[0, 128, 255]], undefined, 'int32'), expectedOutputShape: [1, 3] });
  });

  it('computes x · scale + offset in the layer dtype', () => {
    const y = new Rescaling(1 / 127.5, { offset: -1 }).apply(kiln.tensor([0, 255, 51], undefined, 'int32')) as kiln.Tensor;
    expect(y.dtype).toBe('float32');
    expectClose(values(y), [-1, 1, -0.6]);
    expect(() => new Rescaling(Number.NaN, { name: 'rs' })).toThrow("Rescaling 'rs': scale must be a finite number or an array of them, got null");
  });
});

describe('Normalization', () => {
  const data = kiln.tensor([[0, 7, 4], [2, 9, 6], [0, 7, 4], [2, 9, 6]]);

  it('passes the layer harness, with weights mean, variance and count', () => {
    runLayerTest(Normalization, {
      inputShape: [4, 3],
      expectedOutputShape: [4, 3],
      expectedWeights: [['mean', [3]], ['variance', [3]], ['count', []]],
      expectedTrainableWeights: 0,
    });
    runLayerTest(Normalization, { args: [{ axis: null, mean: 3, variance: 2 }], inputShape: [2, 2], expectedOutputShape: [2, 2] });
  });

  it('adapts per-feature statistics over every other axis (Keras docs example)', async () => {
    const layer = new Normalization();
    await layer.adapt(data);
    const [mean, variance, count] = layer.getWeights();
    expect(values(mean)).toEqual([1, 8, 5]);
    expect(values(variance)).toEqual([1, 1, 1]);
    expect(count.dtype).toBe('int32');
    expect(values(layer.apply(kiln.tensor([[0, 7, 4]])))).toEqual([-1, -1, -1]);
    const inverse = new Normalization({ invert: true });
    await inverse.adapt(data);
    expect(values(inverse.apply(kiln.tensor([[1, 2, 3]])))).toEqual([2, 10, 8]);
  });

  it('adapts one scalar mean and variance with axis null', async () => {
    const layer = new Normalization({ axis: null });
    await layer.adapt(kiln.tensor([1, 2, 3, 4, 5]));
    expectClose(values(layer.apply(kiln.tensor([1, 2, 3]))), [-Math.SQRT2, -Math.SQRT1_2, 0]);
  });

  it('keeps several axes and divides by at least 1e-7', async () => {
    // float64: 2 + 1e-7 is 2 in float32
    const layer = new Normalization({ axis: [1, 2], dtype: 'float64' });
    const x = kiln.ops.reshape(kiln.tensor([1, 5, 2, 2, 3, 5, 2, 2]), [2, 2, 2]);
    await layer.adapt(x);
    expect(values(layer.getWeights()[0])).toEqual([2, 5, 2, 2]);
    expect(values(layer.getWeights()[1])).toEqual([1, 0, 0, 0]);
    expectClose(values(layer.apply(kiln.tensor([[[3, 5], [2, 2 + 1e-7]]], undefined, 'float64'))), [1, 0, 0, 1]);
  });

  it('uses a fixed mean and variance, broadcast over the kept axes', () => {
    const layer = new Normalization({ mean: [1, 2], variance: [4, 16] });
    expect(values(layer.apply(kiln.tensor([[3, 10]])))).toEqual([1, 2]);
    expect(layer.weights).toHaveLength(0);
  });

  it('explains misuse', async () => {
    expect(() => new Normalization({ mean: 1, name: 'n' })).toThrow("Normalization 'n': mean and variance must be given together, got mean=1, variance=null");
    await expect(new Normalization({ mean: 1, variance: 1, name: 'n2' }).adapt(data)).rejects.toThrow(/Normalization 'n2'.adapt: this layer was given a fixed mean/);
    const layer = new Normalization({ name: 'n3' });
    await layer.adapt(data);
    await expect(layer.adapt(kiln.zeros([2, 4]))).rejects.toThrow("Normalization 'n3'.adapt: the layer was built for sizes [3] on axes [1], got data of shape [2,4]");
    expect(() => new Normalization({ mean: [1, 2], variance: [1, 1], name: 'n4' }).apply(kiln.zeros([2, 3])))
      .toThrow("Normalization 'n4': mean and variance of shape [2] do not broadcast to the kept axes' sizes [3] (input shape [2,3])");
  });
});
