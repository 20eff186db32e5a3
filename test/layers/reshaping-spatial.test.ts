/**
 * ZeroPadding, Cropping and UpSampling in 1 to 3 spatial axes: the layer harness, values from
 * loops written here (bilinear from jax.image.resize's definition: a triangle kernel at half-pixel
 * centers, renormalized at the edges), Keras's argument forms and config, unknown spatial sizes
 * in Functional models, and errors that name the layer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import {
  Cropping1D, Cropping2D, Cropping3D, Input, UpSampling1D, UpSampling2D, UpSampling3D,
  ZeroPadding1D, ZeroPadding2D, ZeroPadding3D, layerFromConfig,
} from '../../layers/index.js';
import { runLayerTest } from './harness.js';

const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());
const closeTo = (actual: number[], expected: number[]) => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(v, `element ${i}`).toBeCloseTo(expected[i], 5));
};

/** Every coordinate of `shape`, in row-major order. */
function* coords(shape: readonly number[]): Generator<number[]> {
  const c = shape.map(() => 0);
  const size = shape.reduce((a, b) => a * b, 1);
  for (let k = 0; k < size; k++) {
    yield [...c];
    for (let d = shape.length - 1; d >= 0 && ++c[d] === shape[d]; d--) c[d] = 0;
  }
}

const flat = (shape: readonly number[], c: readonly number[]): number => c.reduce((at, v, d) => at * shape[d] + v, 0);

/** The values of `outShape` where `read` gives each output coordinate's value from `x` (of `shape`). */
function build(outShape: number[], read: (c: number[]) => number): number[] {
  return Array.from(coords(outShape), read);
}

/** Reference padding: zeros outside, x shifted by the befores inside. */
function padRef(x: number[], shape: number[], pads: [number, number][]): number[] {
  const out = shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  return build(out, (c) => {
    const src = c.map((v, i) => v - pads[i][0]);
    return src.every((v, i) => v >= 0 && v < shape[i]) ? x[flat(shape, src)] : 0;
  });
}

/** Reference cropping: the block that starts at the befores. */
function cropRef(x: number[], shape: number[], crops: [number, number][]): number[] {
  const out = shape.map((d, i) => d - crops[i][0] - crops[i][1]);
  return build(out, (c) => x[flat(shape, c.map((v, i) => v + crops[i][0]))]);
}

/** Reference nearest upsampling: output j of an axis reads input floor(j / factor). */
function nearestRef(x: number[], shape: number[], factors: number[]): number[] {
  return build(shape.map((d, i) => d * factors[i]), (c) => x[flat(shape, c.map((v, i) => Math.floor(v / factors[i])))]);
}

/**
 * jax.image.resize's linear weights for output j of an axis of `n` stretched `factor` times: the
 * triangle kernel around (j + 0.5) / factor - 0.5, over the inputs that exist, normalized to sum 1.
 */
function linearWeights(j: number, n: number, factor: number): number[] {
  const sample = (j + 0.5) / factor - 0.5;
  const w = Array.from({ length: n }, (_, i) => Math.max(0, 1 - Math.abs(sample - i)));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / total);
}

/** Reference bilinear upsampling of [N, H, W, C]: the outer product of the two axes' weights. */
function bilinearRef(x: number[], [n, h, w, c]: number[], [fh, fw]: number[]): number[] {
  return build([n, h * fh, w * fw, c], ([b, i, j, k]) => {
    const wy = linearWeights(i, h, fh);
    const wx = linearWeights(j, w, fw);
    let sum = 0;
    for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) sum += wy[y] * wx[z] * x[flat([n, h, w, c], [b, y, z, k])];
    return sum;
  });
}

/** [N, C, ...S] values of a channels-last reference, moved to channels-first order. */
function toChannelsFirst(v: number[], lastShape: number[]): number[] {
  const rank = lastShape.length;
  const firstShape = [lastShape[0], lastShape[rank - 1], ...lastShape.slice(1, -1)];
  return build(firstShape, (c) => v[flat(lastShape, [c[0], ...c.slice(2), c[1]])]);
}

const draw = (shape: number[], seed: number) => {
  const x = kiln.random.normal(shape, { seed });
  return { x, v: values(x) };
};

describe('ZeroPadding1D / 2D / 3D', () => {
  it('pass the layer harness', () => {
    runLayerTest(ZeroPadding1D, { inputShape: [2, 5, 3], expectedOutputShape: [2, 7, 3] });
    runLayerTest(ZeroPadding1D, { args: [[0, 2], { dataFormat: 'channelsFirst' }], inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 6] });
    runLayerTest(ZeroPadding2D, { inputShape: [2, 3, 4, 2], expectedOutputShape: [2, 5, 6, 2] });
    runLayerTest(ZeroPadding2D, { args: [[[1, 0], [0, 2]], { dataFormat: 'channelsFirst' }], inputShape: [1, 2, 3, 3], expectedOutputShape: [1, 2, 4, 5] });
    runLayerTest(ZeroPadding3D, { args: [[1, [0, 2], 0]], inputShape: [1, 2, 3, 2, 2], expectedOutputShape: [1, 4, 5, 2, 2] });
  });

  it('put zeros around the values, by hand', () => {
    const x = kiln.tensor([[[1], [2]]]);
    expect(values(new ZeroPadding1D([1, 2]).apply(x))).toEqual([0, 1, 2, 0, 0]);
    const image = kiln.tensor([[[[1], [2]], [[3], [4]]]]);
    expect(values(new ZeroPadding2D([[1, 0], [0, 1]]).apply(image))).toEqual([0, 0, 0, 1, 2, 0, 3, 4, 0]);
  });

  it('match a loop in every form of the argument and both layouts', () => {
    const { x, v } = draw([2, 3, 4, 2, 3], 1);
    const y = new ZeroPadding3D([[1, 2], 0, [0, 1]]).apply(x);
    expect(values(y)).toEqual(padRef(v, [2, 3, 4, 2, 3], [[0, 0], [1, 2], [0, 0], [0, 1], [0, 0]]));
    const img = draw([2, 3, 4, 2], 2);
    expect(values(new ZeroPadding2D([2, 1]).apply(img.x))).toEqual(padRef(img.v, [2, 3, 4, 2], [[0, 0], [2, 2], [1, 1], [0, 0]]));
    // channels-first [N, C, H, W]: the same numbers, the pads on axes 2 and 3
    expect(values(new ZeroPadding2D([[0, 1], [2, 0]], { dataFormat: 'channelsFirst' }).apply(img.x))).toEqual(padRef(img.v, [2, 3, 4, 2], [[0, 0], [0, 0], [0, 1], [2, 0]]));
  });

  it('keep integer inputs integers', () => {
    const y = new ZeroPadding1D(1).apply(kiln.tensor([[[3], [4]]], undefined, 'int32')) as kiln.Tensor;
    expect(y.dtype).toBe('int32');
    expect(values(y)).toEqual([0, 3, 4, 0]);
  });

  it("save Keras's forms: a pair for one axis, a pair per axis for more", () => {
    expect(new ZeroPadding1D().getConfig()).toMatchObject({ padding: [1, 1], dataFormat: 'channelsLast' });
    expect(new ZeroPadding2D().getConfig()).toMatchObject({ padding: [[1, 1], [1, 1]] });
    expect(new ZeroPadding2D([1, 2]).getConfig()).toMatchObject({ padding: [[1, 1], [2, 2]] });
    expect(new ZeroPadding3D(0).getConfig()).toMatchObject({ padding: [[0, 0], [0, 0], [0, 0]] });
  });
});

describe('Cropping1D / 2D / 3D', () => {
  it('pass the layer harness', () => {
    runLayerTest(Cropping1D, { inputShape: [2, 5, 3], expectedOutputShape: [2, 3, 3] });
    runLayerTest(Cropping1D, { args: [[2, 0]], inputShape: [2, 5, 3], expectedOutputShape: [2, 3, 3] });
    runLayerTest(Cropping2D, { args: [[[1, 0], [0, 2]]], inputShape: [2, 4, 5, 2], expectedOutputShape: [2, 3, 3, 2] });
    runLayerTest(Cropping2D, { args: [1, { dataFormat: 'channelsFirst' }], inputShape: [1, 2, 4, 3], expectedOutputShape: [1, 2, 2, 1] });
    runLayerTest(Cropping3D, { inputShape: [1, 3, 4, 5, 2], expectedOutputShape: [1, 1, 2, 3, 2] });
  });

  it('cut the edges, by hand', () => {
    expect(values(new Cropping1D([1, 2]).apply(kiln.tensor([[[1], [2], [3], [4], [5]]])))).toEqual([2, 3]);
    const image = kiln.ops.reshape(kiln.range(12), [1, 3, 4, 1]);
    expect(values(new Cropping2D([[1, 0], [1, 2]]).apply(image))).toEqual([5, 9]);
  });

  it('match a loop in every form of the argument and both layouts', () => {
    const { x, v } = draw([2, 5, 4, 6, 2], 3);
    expect(values(new Cropping3D([[1, 2], 1, [0, 3]]).apply(x))).toEqual(cropRef(v, [2, 5, 4, 6, 2], [[0, 0], [1, 2], [1, 1], [0, 3], [0, 0]]));
    const img = draw([2, 3, 5, 4], 4);
    expect(values(new Cropping2D([[0, 1], 1], { dataFormat: 'channelsFirst' }).apply(img.x))).toEqual(cropRef(img.v, [2, 3, 5, 4], [[0, 0], [0, 0], [0, 1], [1, 1]]));
  });

  it("default as Keras: 1 at each end for 1D and 3D, nothing for 2D; Cropping1D has no dataFormat", () => {
    expect(new Cropping1D().getConfig()).toMatchObject({ cropping: [1, 1] });
    expect(new Cropping1D().getConfig()).not.toHaveProperty('dataFormat');
    expect(new Cropping2D().getConfig()).toMatchObject({ cropping: [[0, 0], [0, 0]], dataFormat: 'channelsLast' });
    expect(new Cropping3D().getConfig()).toMatchObject({ cropping: [[1, 1], [1, 1], [1, 1]] });
  });

  it('refuse a crop that leaves nothing, naming the layer and the shapes, eagerly and symbolically', () => {
    expect(() => new Cropping2D([[1, 1], [2, 3]], { name: 'c2' }).apply(kiln.zeros([1, 4, 5, 1])))
      .toThrow("Cropping2D 'c2': cropping [[1,1],[2,3]] removes 5 of the 5 elements of axis 2 of input shape [1,4,5,1]; at least one must remain");
    expect(() => new Cropping1D([3, 0], { name: 'c1' }).apply(Input({ shape: [2, 4] })))
      .toThrow("Cropping1D 'c1': cropping [3,0] removes 3 of the 2 elements of axis 1 of input shape [null,2,4]; at least one must remain");
  });
});

describe('UpSampling1D / 2D / 3D', () => {
  it('pass the layer harness', () => {
    runLayerTest(UpSampling1D, { inputShape: [2, 4, 3], expectedOutputShape: [2, 8, 3] });
    runLayerTest(UpSampling2D, { args: [[2, 3]], inputShape: [2, 3, 2, 2], expectedOutputShape: [2, 6, 6, 2] });
    runLayerTest(UpSampling2D, { args: [2, { interpolation: 'bilinear' }], inputShape: [2, 3, 4, 2], expectedOutputShape: [2, 6, 8, 2] });
    runLayerTest(UpSampling2D, { args: [[3, 2], { interpolation: 'bilinear', dataFormat: 'channelsFirst' }], inputShape: [1, 2, 3, 3], expectedOutputShape: [1, 2, 9, 6] });
    runLayerTest(UpSampling3D, { args: [[1, 2, 2], { dataFormat: 'channelsFirst' }], inputShape: [1, 2, 2, 3, 2], expectedOutputShape: [1, 2, 2, 6, 4] });
  });

  it('repeat every element with nearest, by hand and against a loop', () => {
    expect(values(new UpSampling1D(3).apply(kiln.tensor([[[1], [2]]])))).toEqual([1, 1, 1, 2, 2, 2]);
    const { x, v } = draw([2, 3, 2, 4, 2], 5);
    expect(values(new UpSampling3D([2, 1, 3]).apply(x))).toEqual(nearestRef(v, [2, 3, 2, 4, 2], [1, 2, 1, 3, 1]));
    const img = draw([2, 3, 4, 2], 6);
    expect(values(new UpSampling2D([1, 2], { dataFormat: 'channelsFirst' }).apply(img.x))).toEqual(nearestRef(img.v, [2, 3, 4, 2], [1, 1, 1, 2]));
  });

  it("interpolate bilinearly as TensorFlow's half-pixel resize does, by hand", () => {
    const image = kiln.tensor([[[[1], [2]], [[3], [4]]]]);
    closeTo(values(new UpSampling2D(2, { interpolation: 'bilinear' }).apply(image)), [
      1, 1.25, 1.75, 2,
      1.5, 1.75, 2.25, 2.5,
      2.5, 2.75, 3.25, 3.5,
      3, 3.25, 3.75, 4,
    ]);
  });

  it("match jax.image.resize's linear kernel for several factors, channels last and first", () => {
    for (const [shape, size] of [[[2, 3, 4, 2], [2, 2]], [[1, 4, 3, 3], [3, 2]], [[1, 1, 5, 2], [2, 4]], [[2, 2, 2, 1], [1, 3]]] as [number[], number[]][]) {
      const { x, v } = draw(shape, 7);
      const expected = bilinearRef(v, shape, size);
      closeTo(values(new UpSampling2D(size, { interpolation: 'bilinear' }).apply(x)), expected);
      const first = kiln.ops.transpose(x, [0, 3, 1, 2]);
      const outShape = [shape[0], shape[1] * size[0], shape[2] * size[1], shape[3]];
      closeTo(values(new UpSampling2D(size, { interpolation: 'bilinear', dataFormat: 'channelsFirst' }).apply(first)), toChannelsFirst(expected, outShape));
    }
  });

  it('interpolate integer images in the float dtype, and repeat them as integers', () => {
    const ints = kiln.tensor([[[[0], [4]]]], undefined, 'int32');
    const bilinear = new UpSampling2D([1, 2], { interpolation: 'bilinear' }).apply(ints) as kiln.Tensor;
    expect(bilinear.dtype).toBe('float32');
    expect(values(bilinear)).toEqual([0, 1, 3, 4]);
    const nearest = new UpSampling2D([1, 2]).apply(ints) as kiln.Tensor;
    expect(nearest.dtype).toBe('int32');
    expect(values(nearest)).toEqual([0, 0, 4, 4]);
  });

  it('default to factor 2 on every axis and nearest, saved as Keras saves them', () => {
    expect(new UpSampling1D().getConfig()).toMatchObject({ size: 2 });
    expect(new UpSampling1D().getConfig()).not.toHaveProperty('dataFormat');
    expect(new UpSampling2D().getConfig()).toMatchObject({ size: [2, 2], dataFormat: 'channelsLast', interpolation: 'nearest' });
    expect(new UpSampling3D().getConfig()).toMatchObject({ size: [2, 2, 2] });
    expect(new UpSampling2D(2, { interpolation: 'BILINEAR' as 'bilinear' }).interpolation).toBe('bilinear');
  });
});

describe('spatial reshaping layers in models', () => {
  it('keep spatial sizes known only at run time unknown, and run on any', async () => {
    const x = Input({ shape: [null, null, 2] });
    let y = x as unknown as kiln.SymbolicTensor;
    for (const layer of [new ZeroPadding2D([1, 2]), new UpSampling2D(2, { interpolation: 'bilinear' }), new Cropping2D([[1, 0], [2, 1]]), new UpSampling2D([1, 3])]) {
      y = layer.apply(y as never) as unknown as kiln.SymbolicTensor;
      expect([...y.shape]).toEqual([null, null, null, 2]);
    }
    const model = new kiln.Model({ inputs: x, outputs: y });
    // (h + 2) · 2 - 1 rows, ((w + 4) · 2 - 3) · 3 columns
    expect((await model.predict(kiln.zeros([2, 3, 4, 2])) as kiln.Tensor).shape).toEqual([2, 9, 39, 2]);
    expect((await model.predict(kiln.zeros([1, 1, 1, 2])) as kiln.Tensor).shape).toEqual([1, 5, 21, 2]);
  });

  it('keep a known size known', () => {
    const y = new Cropping1D([1, 0]).apply(new UpSampling1D(2).apply(Input({ shape: [3, 4] })) as never) as unknown as kiln.SymbolicTensor;
    expect([...y.shape]).toEqual([null, 5, 4]);
  });

  it('save and load in a model, with the same predictions', async () => {
    const model = new kiln.Sequential([
      Input({ shape: [6, 5, 2] }),
      new ZeroPadding2D([[1, 0], 2]),
      new Cropping2D([1, [0, 1]], { dataFormat: 'channelsFirst' }),
      new UpSampling2D([2, 3], { interpolation: 'bilinear' }),
      new kiln.layers.Reshape([-1, 2]),
      new Cropping1D([2, 1]),
      new UpSampling1D(2),
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'kiln-spatial-'));
    try {
      await model.save(join(dir, 'spatial.kiln'));
      const loaded = await kiln.loadModel(join(dir, 'spatial.kiln'));
      expect(loaded.layers.map((l) => l.getConfig())).toEqual(model.layers.map((l) => l.getConfig()));
      const x = kiln.random.normal([3, 6, 5, 2], { seed: 8 });
      expect(values(loaded.predictOnBatch(x))).toEqual(values(model.predictOnBatch(x)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('load from configs written with Keras spellings', () => {
    const layer = layerFromConfig({
      className: 'ZeroPadding2D',
      config: { name: 'zp', trainable: true, dtype: 'float32', padding: [[1, 2], [3, 4]], dataFormat: 'channels_first' },
    });
    expect(layer.getConfig()).toMatchObject({ padding: [[1, 2], [3, 4]], dataFormat: 'channelsFirst' });
  });
});

describe('spatial reshaping layers refuse bad options and inputs, naming the layer', () => {
  const cases: [string, () => unknown, string | RegExp][] = [
    ['rank', () => new ZeroPadding2D(1, { name: 'zp' }).apply(kiln.zeros([2, 5, 3])), "ZeroPadding2D 'zp': expects inputs of rank 4 ([batch, height, width, channels]), got shape [2,5,3]"],
    ['channelsFirst rank', () => new UpSampling3D(2, { name: 'up', dataFormat: 'channelsFirst' }).apply(kiln.zeros([2, 3, 4, 4])), "UpSampling3D 'up': expects inputs of rank 5 ([batch, channels, depth, height, width]), got shape [2,3,4,4]"],
    ['symbolic rank', () => new Cropping1D(1, { name: 'cr' }).apply(Input({ shape: [4] })), "Cropping1D 'cr': expects inputs of rank 3 ([batch, steps, channels]), got shape [null,4]"],
    ['a negative padding', () => new ZeroPadding1D(-1, { name: 'zp1' }), "ZeroPadding1D 'zp1': padding must be an integer >= 0 or a [before, after] pair of them, got -1"],
    ['padding entries of the wrong count', () => new ZeroPadding3D([1, 2] as never, { name: 'zp3' }), "ZeroPadding3D 'zp3': padding must be an integer >= 0, or 3 entries (one per spatial axis), each an integer >= 0 or a [before, after] pair, got [1,2]"],
    ['a cropping triple', () => new Cropping2D([[1, 2, 3], 0] as never, { name: 'c2' }), /Cropping2D 'c2': cropping must be .* got \[\[1,2,3\],0\]/],
    ['a fractional cropping', () => new Cropping1D(0.5 as never, { name: 'c1' }), /Cropping1D 'c1': cropping must be an integer >= 0 .* got 0.5/],
    ['size 0', () => new UpSampling2D(0, { name: 'u2' }), /UpSampling2D 'u2': size must be an integer >= 1 or a list of 2 of them .* got 0/],
    ['interpolation', () => new UpSampling2D(2, { name: 'u3', interpolation: 'bicubic' as 'bilinear' }), `UpSampling2D 'u3': interpolation must be 'nearest' or 'bilinear', got "bicubic"`],
    ['dataFormat', () => new Cropping3D(1, { name: 'c3', dataFormat: 'NDHWC' as 'channelsLast' }), `Cropping3D 'c3': dataFormat must be 'channelsLast' or 'channelsFirst', got "NDHWC"`],
  ];
  for (const [name, fn, message] of cases) it(name, () => expect(fn).toThrow(message));
});
