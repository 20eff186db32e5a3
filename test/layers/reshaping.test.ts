import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Flatten, Identity, Input, Lambda, Permute, RepeatVector, Reshape, layerFromConfig } from '../../layers/index.js';
import { runLayerTest } from './harness.js';

const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());
const iota = (shape: number[]): kiln.Tensor => kiln.ops.reshape(kiln.range(shape.reduce((a, b) => a * b, 1)), shape);

describe('Flatten', () => {
  it('passes the layer harness', () => {
    runLayerTest(Flatten, { inputShape: [2, 3, 4], expectedOutputShape: [2, 12] });
    runLayerTest(Flatten, { inputShape: [3], expectedOutputShape: [3, 1] });
  });

  it('moves channels last first for channels_first inputs', () => {
    const x = iota([1, 2, 3]);
    expect(values(new Flatten().apply(x))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(values(new Flatten({ dataFormat: 'channels_first' }).apply(x))).toEqual([0, 3, 1, 4, 2, 5]);
  });
});

describe('Reshape', () => {
  it('passes the layer harness, with and without an inferred dimension', () => {
    runLayerTest(Reshape, { args: [[3, 4]], inputShape: [2, 12], expectedOutputShape: [2, 3, 4] });
    runLayerTest(Reshape, { args: [[-1, 2]], inputShape: [2, 3, 4], expectedOutputShape: [2, 6, 2] });
  });

  it('keeps the values in order and names the layer on a size mismatch', () => {
    expect(values(new Reshape([2, 2]).apply(iota([1, 4])))).toEqual([0, 1, 2, 3]);
    expect(() => new Reshape([5, -1], { name: 'rs' }).apply(kiln.zeros([2, 12])))
      .toThrow("Reshape 'rs': cannot reshape samples of shape [12] (12 values) into [5,-1]");
    expect(() => new Reshape([2, -1, -1])).toThrow(/at most one -1/);
  });

  it('infers -1 symbolically from the known sample size', () => {
    const y = new Reshape([-1, 3]).apply(Input({ shape: [4, 3] }) as never) as unknown as kiln.SymbolicTensor;
    expect([...y.shape]).toEqual([null, 4, 3]);
  });
});

describe('Permute', () => {
  it('passes the layer harness', () => {
    runLayerTest(Permute, { args: [[2, 1]], inputShape: [2, 3, 4], expectedOutputShape: [2, 4, 3] });
    runLayerTest(Permute, { args: [[3, 1, 2]], inputShape: [1, 2, 3, 4], expectedOutputShape: [1, 4, 2, 3] });
  });

  it('permutes with 1-based dims and checks them', () => {
    expect(values(new Permute([2, 1]).apply(iota([1, 2, 3])))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(() => new Permute([0, 1], { name: 'pm' })).toThrow("Permute 'pm': dims must be a permutation of 1..n (the batch axis 0 stays), got [0,1]");
    expect(() => new Permute([2, 1], { name: 'pm2' }).apply(kiln.zeros([2, 3]))).toThrow("Permute 'pm2': expects inputs of rank 3 for dims [2,1], got shape [2,3]");
  });
});

describe('RepeatVector', () => {
  it('passes the layer harness', () => {
    runLayerTest(RepeatVector, { args: [3], inputShape: [2, 4], expectedOutputShape: [2, 3, 4] });
  });

  it('repeats each sample n times', () => {
    expect(values(new RepeatVector(2).apply(kiln.tensor([[1, 2], [3, 4]])))).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
    expect(() => new RepeatVector(2, { name: 'rv' }).apply(kiln.zeros([2, 3, 4]))).toThrow("RepeatVector 'rv': expects inputs of rank 2 [batch, features], got shape [2,3,4]");
  });
});

describe('Identity', () => {
  it('passes the layer harness', () => {
    runLayerTest(Identity, { inputShape: [2, 3], expectedOutputShape: [2, 3] });
  });
});

describe('Lambda', () => {
  const double = (x: kiln.Tensor): kiln.Tensor => kiln.ops.multiply(x, 2);
  Lambda.registerFunction('test_double', double);

  it('passes the layer harness with a registered function', () => {
    runLayerTest(Lambda, { args: ['test_double'], inputShape: [2, 3], expectedOutputShape: [2, 3] });
    runLayerTest(Lambda, { args: [double, { outputShape: [3] }], inputShape: [2, 3], expectedOutputShape: [2, 3] });
  });

  it('uses outputShape instead of a symbolic call when given', () => {
    const readsValues = new Lambda((x) => kiln.tensor(Array.from(x.dataSync()), [...x.shape]), { outputShape: [5] });
    const y = readsValues.apply(Input({ shape: [5] }) as never) as unknown as kiln.SymbolicTensor;
    expect([...y.shape]).toEqual([null, 5]);
  });

  it('cannot save an unregistered function and says how to fix it', () => {
    const layer = new Lambda(function square(x) { return kiln.ops.square(x); }, { name: 'lam' });
    expect(() => layer.getConfig()).toThrow("Lambda 'lam': cannot save a JavaScript function ('square'): register it with kiln.layers.Lambda.registerFunction(name, fn) before saving, and again before loading");
    expect(() => layerFromConfig({ className: 'Lambda', config: { name: 'l', trainable: true, dtype: 'float32', function: 'missing' } }))
      .toThrow(/no function is registered as 'missing'/);
    expect(() => Lambda.registerFunction('test_double', (x) => x)).toThrow(/'test_double' is already registered to another function/);
  });
});
