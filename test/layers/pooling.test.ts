import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import {
  AveragePooling1D, AveragePooling2D, AveragePooling3D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D,
  GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, Input, MaxPooling1D, MaxPooling2D, MaxPooling3D, layerFromConfig,
} from '../../layers/index.js';
import { kerasGeometry, poolRef } from '../conformance/pool-oracle.js';
import { runLayerTest } from './harness.js';

const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());
const closeTo = (actual: number[], expected: number[]) => actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));

describe('MaxPooling1D / 2D / 3D', () => {
  it('pass the layer harness', () => {
    runLayerTest(MaxPooling1D, { inputShape: [2, 9, 3], expectedOutputShape: [2, 4, 3] });
    runLayerTest(MaxPooling1D, { args: [3, { strides: 1, padding: 'same' }], inputShape: [2, 5, 2], expectedOutputShape: [2, 5, 2] });
    runLayerTest(MaxPooling2D, { inputShape: [2, 6, 5, 3], expectedOutputShape: [2, 3, 2, 3] });
    runLayerTest(MaxPooling2D, { args: [[3, 2], { strides: [2, 1], padding: 'same' }], inputShape: [1, 7, 5, 2], expectedOutputShape: [1, 4, 5, 2] });
    runLayerTest(MaxPooling2D, { args: [2, { dataFormat: 'channelsFirst' }], inputShape: [2, 3, 4, 6], expectedOutputShape: [2, 3, 2, 3] });
    runLayerTest(MaxPooling3D, { inputShape: [1, 4, 5, 4, 2], expectedOutputShape: [1, 2, 2, 2, 2] });
    runLayerTest(MaxPooling3D, { args: [2, { padding: 'same' }], inputShape: [1, 3, 3, 4, 2], expectedOutputShape: [1, 2, 2, 2, 2] });
  });

  it('takes the max of each window; the padding never wins', () => {
    const x = kiln.tensor([[[-1], [-3], [-2], [-5], [-4]]]);
    expect(values(new MaxPooling1D(2).apply(x))).toEqual([-1, -2]);
    // 'same': [-1,-3] [-2,-5] [-4,pad]
    expect(values(new MaxPooling1D(2, { padding: 'same' }).apply(x))).toEqual([-1, -2, -4]);
    const image = kiln.ops.reshape(kiln.range(16), [1, 4, 4, 1]);
    expect(values(new MaxPooling2D().apply(image))).toEqual([5, 7, 13, 15]);
    expect(values(new MaxPooling2D(3, { strides: 1 }).apply(image))).toEqual([10, 11, 14, 15]);
  });

  it('defaults to windows of 2 with strides of the window, as Keras', () => {
    expect(new MaxPooling2D().getConfig()).toMatchObject({ poolSize: [2, 2], strides: [2, 2], padding: 'valid', dataFormat: 'channelsLast' });
    expect(new MaxPooling3D(3, { strides: 1 }).getConfig()).toMatchObject({ poolSize: [3, 3, 3], strides: [1, 1, 1] });
  });
});

describe('AveragePooling1D / 2D / 3D', () => {
  it('pass the layer harness', () => {
    runLayerTest(AveragePooling1D, { args: [2], inputShape: [2, 9, 3], expectedOutputShape: [2, 4, 3] });
    runLayerTest(AveragePooling1D, { args: [4, { strides: 1, padding: 'same' }], inputShape: [2, 6, 2], expectedOutputShape: [2, 6, 2] });
    runLayerTest(AveragePooling2D, { args: [3, { strides: 2, padding: 'same' }], inputShape: [2, 5, 6, 3], expectedOutputShape: [2, 3, 3, 3] });
    runLayerTest(AveragePooling2D, { args: [[2, 3], { strides: 1, dataFormat: 'channelsFirst' }], inputShape: [1, 2, 4, 5], expectedOutputShape: [1, 2, 3, 3] });
    runLayerTest(AveragePooling3D, { args: [[2, 1, 2]], inputShape: [1, 4, 3, 4, 2], expectedOutputShape: [1, 2, 3, 2, 2] });
  });

  it("averages only the positions a 'same' window covers", () => {
    const x = kiln.tensor([[[1], [3], [2], [5], [4]]]);
    expect(values(new AveragePooling1D(2).apply(x))).toEqual([2, 3.5]);
    expect(values(new AveragePooling1D(2, { padding: 'same' }).apply(x))).toEqual([2, 3.5, 4]);
    // window 4 at stride 1 pads 1 before and 2 after: [_,1,3,2] [1,3,2,5] [3,2,5,4] [2,5,4,_] [5,4,_,_]
    closeTo(values(new AveragePooling1D(4, { strides: 1, padding: 'same' }).apply(x)), [2, 2.75, 3.5, 11 / 3, 4.5]);
  });

  it('matches direct loops in 2D, channels first or last', () => {
    const shape = [2, 5, 6, 3];
    const x = kiln.random.normal(shape, { seed: 4 });
    const expected = poolRef('avg', values(x), shape, kerasGeometry([5, 6], [3, 2], [3, 2], 'same'));
    closeTo(values(new AveragePooling2D([3, 2], { padding: 'same' }).apply(x)), expected);
    const first = new AveragePooling2D([3, 2], { padding: 'same', dataFormat: 'channelsFirst' }).apply(kiln.ops.moveaxis(x, -1, 1));
    closeTo(values(kiln.ops.moveaxis(first as kiln.Tensor, 1, -1)), expected);
  });

  it('needs a poolSize, as Keras 3 does', () => {
    expect(() => new AveragePooling2D(undefined as unknown as number, { name: 'ap' })).toThrow(/AveragePooling2D 'ap': poolSize must be an integer >= 1 or a list of 2 of them .* got undefined/);
  });
});

describe('GlobalMaxPooling and GlobalAveragePooling', () => {
  it('pass the layer harness', () => {
    runLayerTest(GlobalMaxPooling1D, { inputShape: [2, 5, 3], expectedOutputShape: [2, 3] });
    runLayerTest(GlobalMaxPooling2D, { args: [{ keepdims: true }], inputShape: [2, 4, 5, 3], expectedOutputShape: [2, 1, 1, 3] });
    runLayerTest(GlobalMaxPooling2D, { args: [{ dataFormat: 'channelsFirst' }], inputShape: [2, 3, 4, 5], expectedOutputShape: [2, 3] });
    runLayerTest(GlobalMaxPooling3D, { inputShape: [1, 2, 3, 4, 2], expectedOutputShape: [1, 2] });
    runLayerTest(GlobalAveragePooling1D, { inputShape: [2, 5, 3], expectedOutputShape: [2, 3] });
    runLayerTest(GlobalAveragePooling1D, { args: [{ dataFormat: 'channelsFirst', keepdims: true }], inputShape: [2, 3, 5], expectedOutputShape: [2, 3, 1] });
    runLayerTest(GlobalAveragePooling2D, { inputShape: [2, 4, 5, 3], expectedOutputShape: [2, 3] });
    runLayerTest(GlobalAveragePooling3D, { args: [{ keepdims: true }], inputShape: [1, 2, 3, 4, 2], expectedOutputShape: [1, 1, 1, 1, 2] });
  });

  it('reduce every spatial axis, per channel', () => {
    const x = kiln.tensor([[[[1, 6], [4, 2]], [[7, -9], [0, 3]]]]);
    expect(values(new GlobalMaxPooling2D().apply(x))).toEqual([7, 6]);
    expect(values(new GlobalAveragePooling2D().apply(x))).toEqual([3, 0.5]);
    expect(values(new GlobalAveragePooling2D({ dataFormat: 'channelsFirst' }).apply(x))).toEqual([3.25, 0.25]);
  });

  it('GlobalAveragePooling1D averages the steps a mask keeps', () => {
    const x = kiln.tensor([[[1, 6], [4, 2], [7, 9]], [[2, 2], [4, 4], [6, 6]]]);
    const layer = new GlobalAveragePooling1D();
    const mask = kiln.tensor([[true, true, false], [false, false, true]]);
    expect(values(layer.apply(x, { mask }))).toEqual([2.5, 4, 6, 6]);
    // a numeric mask counts where it is not 0; a sample with nothing kept is 0 / 0, as in Keras
    const y = values(layer.apply(x, { mask: kiln.tensor([[1, 0, 1], [0, 0, 0]]) }));
    expect(y.slice(0, 2)).toEqual([4, 7.5]);
    expect(y.slice(2).every(Number.isNaN)).toBe(true);
    expect(values(new GlobalAveragePooling1D({ keepdims: true, dataFormat: 'channelsFirst' }).apply(kiln.ops.moveaxis(x, -1, 1), { mask })))
      .toEqual([2.5, 4, 6, 6]);
  });

  it('sends no gradient to masked steps', () => {
    const x = kiln.tensor([[[1, 6], [4, 2], [7, 9]]]);
    const g = kiln.grad((t) => kiln.ops.sum(new GlobalAveragePooling1D().apply(t, { mask: kiln.tensor([[true, false, true]]) }) as kiln.Tensor))(x);
    expect(values(g)).toEqual([0.5, 0.5, 0, 0, 0.5, 0.5]);
  });

  it('names the layer for a mask of the wrong shape', () => {
    expect(() => new GlobalAveragePooling1D({ name: 'gap' }).apply(kiln.zeros([2, 3, 4]), { mask: kiln.ones([2, 4], 'bool') }))
      .toThrow("GlobalAveragePooling1D 'gap': expects a mask of shape [batch, steps] = [2,3] for inputs of shape [2,3,4], got [2,4]");
  });
});

describe('pooling layers in models', () => {
  it('keep spatial sizes known only at run time unknown, and run on any', async () => {
    const x = Input({ shape: [null, null, 3] });
    const pooled = new MaxPooling2D(2, { padding: 'same' }).apply(x) as unknown as kiln.SymbolicTensor;
    expect([...pooled.shape]).toEqual([null, null, null, 3]);
    const out = new GlobalAveragePooling2D().apply(new AveragePooling2D(2).apply(pooled) as never) as unknown as kiln.SymbolicTensor;
    expect([...out.shape]).toEqual([null, 3]);
    const model = new kiln.Model({ inputs: x, outputs: out });
    expect((await model.predict(kiln.zeros([2, 9, 7, 3])) as kiln.Tensor).shape).toEqual([2, 3]);
    expect((await model.predict(kiln.zeros([1, 4, 4, 3])) as kiln.Tensor).shape).toEqual([1, 3]);
  });

  it('load from configs written with Keras spellings', () => {
    const layer = layerFromConfig({
      className: 'MaxPooling2D',
      config: { name: 'mp', trainable: true, dtype: 'float32', poolSize: [3, 3], strides: [2, 2], padding: 'SAME', dataFormat: 'channels_first' },
    });
    expect(layer.getConfig()).toMatchObject({ poolSize: [3, 3], strides: [2, 2], padding: 'same', dataFormat: 'channelsFirst' });
  });
});

describe('pooling layers refuse bad options and inputs, naming the layer', () => {
  const cases: [string, () => unknown, string | RegExp][] = [
    ['rank', () => new MaxPooling2D(2, { name: 'mp' }).apply(kiln.zeros([2, 5, 3])), "MaxPooling2D 'mp': expects inputs of rank 4 ([batch, height, width, channels]), got shape [2,5,3]"],
    ['channelsFirst rank', () => new AveragePooling1D(2, { name: 'ap', dataFormat: 'channelsFirst' }).apply(kiln.zeros([2, 3])), "AveragePooling1D 'ap': expects inputs of rank 3 ([batch, channels, steps]), got shape [2,3]"],
    ['global rank', () => new GlobalMaxPooling3D({ name: 'gm' }).apply(kiln.zeros([2, 3, 3, 3])), "GlobalMaxPooling3D 'gm': expects inputs of rank 5 ([batch, depth, height, width, channels]), got shape [2,3,3,3]"],
    ['a window larger than a valid input', () => new MaxPooling1D(4, { name: 'mp1' }).apply(kiln.zeros([1, 3, 2])), "MaxPooling1D 'mp1': the window (4) is larger than spatial axis 0 (3) of inputs of shape [1,3,2] with padding 'valid': use padding 'same' or a smaller poolSize"],
    ['symbolically too', () => new MaxPooling2D(4, { name: 'mp2' }).apply(Input({ shape: [3, 8, 1] })), /MaxPooling2D 'mp2': the window \(4\) is larger than spatial axis 0 \(3\)/],
    ['strides 0', () => new MaxPooling2D(2, { name: 'mp3', strides: 0 }), /MaxPooling2D 'mp3': strides must be an integer >= 1 or a list of 2 of them .* got 0/],
    ['poolSize of the wrong length', () => new AveragePooling3D([2, 2], { name: 'ap3' }), /AveragePooling3D 'ap3': poolSize must be an integer >= 1 or a list of 3 of them .* got \[2,2\]/],
    ['padding', () => new MaxPooling1D(2, { name: 'mp4', padding: 'causal' as 'same' }), `MaxPooling1D 'mp4': padding must be 'valid' or 'same', got "causal"`],
    ['dataFormat', () => new GlobalAveragePooling2D({ name: 'ga', dataFormat: 'NCHW' as 'channelsFirst' }), `GlobalAveragePooling2D 'ga': dataFormat must be 'channelsLast' or 'channelsFirst', got "NCHW"`],
    ['keepdims', () => new GlobalMaxPooling1D({ name: 'gm1', keepdims: 1 as unknown as boolean }), "GlobalMaxPooling1D 'gm1': keepdims must be a boolean, got 1"],
  ];
  for (const [name, fn, message] of cases) it(name, () => expect(fn).toThrow(message));
});
