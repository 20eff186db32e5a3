import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Dense, Input } from '../../layers/index.js';
import { runLayerTest } from './harness.js';

describe('Dense', () => {
  it('passes the layer harness', () => {
    runLayerTest(Dense, {
      args: [4, { activation: 'tanh' }],
      inputShape: [3, 5],
      expectedOutputShape: [3, 4],
      expectedWeights: [['kernel', [5, 4]], ['bias', [4]]],
      expectedTrainableWeights: 2,
    });
  });

  it('applies to the last axis of higher-rank inputs, without bias', () => {
    runLayerTest(Dense, {
      args: [2, { useBias: false }],
      inputShape: [2, 3, 4],
      expectedOutputShape: [2, 3, 2],
      expectedWeights: [['kernel', [4, 2]]],
    });
  });

  it('computes activation(x · kernel + bias) with set weights', () => {
    const dense = new Dense(2, { activation: 'relu' });
    dense.apply(kiln.zeros([1, 3]));
    dense.setWeights([kiln.tensor([[1, -1], [2, 0], [0, 1]]), kiln.tensor([0.5, -4])]);
    const y = dense.apply(kiln.tensor([[1, 2, 3], [-1, 0, 1]])) as kiln.Tensor;
    // [1+4+0+0.5, -1+0+3-4] = [5.5, -2] → relu; [-1+0+0+0.5, 1+0+1-4] = [-0.5, -2] → relu
    expect(Array.from(y.dataSync())).toEqual([5.5, 0, 0, 0]);
  });

  it('saves its options in Keras form', () => {
    const config = new Dense(3, { name: 'd', kernelRegularizer: 'l2', inputShape: [7] }).getConfig();
    expect(config).toMatchObject({
      name: 'd', units: 3, activation: 'linear', useBias: true, batchInputShape: [null, 7],
      kernelInitializer: { className: 'GlorotUniform' }, biasInitializer: { className: 'Zeros' },
      kernelRegularizer: { className: 'L2' }, biasRegularizer: null, kernelConstraint: null,
    });
    expect(Dense.fromConfig(config).batchInputShape).toEqual([null, 7]);
  });

  it('adds the activity penalty of each call to callLosses', () => {
    const dense = new Dense(1, { activityRegularizer: { className: 'L1', config: { l1: 0.5 } }, kernelInitializer: 'ones' });
    dense.apply(kiln.tensor([[1, -3]]));
    expect(dense.callLosses).toHaveLength(1);
    expect(dense.callLosses[0].dataSync()[0]).toBeCloseTo(1); // 0.5 · |1 - 3|
  });

  it('names itself, the expected last dimension and the shape it got', () => {
    const dense = new Dense(10, { name: 'dense_x' });
    dense.apply(kiln.zeros([2, 784]));
    expect(() => dense.apply(kiln.zeros([32, 28, 28]))).toThrow("Dense 'dense_x': expects input last dimension 784, got shape [32,28,28]");
    expect(() => new Dense(0)).toThrow(/units must be a positive integer, got 0/);
    expect(() => new Dense(3).apply(Input({ batchShape: [null, null] }) as never)).toThrow(/known last dimension, got shape \[null,null\]/);
  });
});
