import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const { Dense, Dropout, InputLayer } = kiln.layers;

async function values(t: kiln.Tensor | kiln.Variable): Promise<number[]> {
  return Array.from(await (t instanceof kiln.Variable ? t.value : t).data());
}

function expectClose(got: number[], want: number[], digits = 5): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i], digits));
}

/** x · kernel + bias for row-major x [n, in], kernel [in, out]. */
function denseByHand(x: number[][], kernel: number[][], bias: number[]): number[][] {
  return x.map((row) => bias.map((b, j) => row.reduce((s, v, i) => s + v * kernel[i][j], b)));
}

describe('Sequential: construction', () => {
  it('is built at once from kiln.Input, with the Input not among its layers', () => {
    const d1 = new Dense(8, { activation: 'relu', name: 'hidden' });
    const d2 = new Dense(3, { name: 'out' });
    const model = new kiln.Sequential([kiln.Input({ shape: [4] }), d1, d2]);
    expect(model.built).toBe(true);
    expect(model.layers).toEqual([d1, d2]);
    expect(model.layers.some((l) => l instanceof InputLayer)).toBe(false);
    expect(model.inputs.map((t) => t.shape)).toEqual([[null, 4]]);
    expect(model.outputs.map((t) => t.shape)).toEqual([[null, 3]]);
    expect(model.countParams()).toBe(4 * 8 + 8 + 8 * 3 + 3);
  });

  it('is built at once from inputShape on its first layer', () => {
    const model = new kiln.Sequential([new Dense(5, { inputShape: [2], name: 'first' }), new Dense(1)]);
    expect(model.built).toBe(true);
    expect(model.inputs[0].shape).toEqual([null, 2]);
    expect(model.outputs[0].shape).toEqual([null, 1]);
    expect(model.countParams()).toBe(2 * 5 + 5 + 5 + 1);
    expect(model.layers).toHaveLength(2);
  });

  it('honours batchSize next to inputShape in the input shape', () => {
    const model = new kiln.Sequential([new Dense(5, { inputShape: [2], batchSize: 7 })]);
    expect(model.inputs[0].shape).toEqual([7, 2]);
  });

  it('without an input shape builds lazily, on the first call', async () => {
    const model = new kiln.Sequential([new Dense(4), new Dense(2)]);
    expect(model.built).toBe(false);
    expect(model.weights).toEqual([]);
    expect(() => model.countParams()).toThrow(/not built yet/);
    const y = model.apply(kiln.ones([3, 6])) as kiln.Tensor;
    expect(y.shape).toEqual([3, 2]);
    expect(model.built).toBe(true);
    expect(model.getWeights().map((w) => w.shape)).toEqual([[6, 4], [4], [4, 2], [2]]);
    expect(model.inputs[0].shape).toEqual([null, 6]);
  });

  it('without an input shape builds lazily on the first fit, and trains', async () => {
    kiln.setSeed(3);
    const model = new kiln.Sequential([new Dense(4, { activation: 'tanh' }), new Dense(1)]);
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.05 }), loss: 'mse' });
    const x = kiln.random.normal([16, 3]);
    const y = kiln.random.normal([16, 1]);
    const history = await model.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0 });
    expect(model.built).toBe(true);
    expect(model.countParams()).toBe(3 * 4 + 4 + 4 + 1);
    expect(history.history.loss).toHaveLength(3);
    expect(history.history.loss.every(Number.isFinite)).toBe(true);
  });

  it('add() grows the model and pop() removes the last layer, rebuilding the output', () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [3] })]);
    const a = new Dense(5, { name: 'a' });
    const b = new Dense(2, { name: 'b' });
    model.add(a);
    expect(model.outputs[0].shape).toEqual([null, 5]);
    model.add(b);
    expect(model.layers).toEqual([a, b]);
    expect(model.outputs[0].shape).toEqual([null, 2]);
    expect(model.countParams()).toBe(3 * 5 + 5 + 5 * 2 + 2);
    expect(model.pop()).toBe(b);
    expect(model.layers).toEqual([a]);
    expect(model.outputs[0].shape).toEqual([null, 5]);
    expect(model.countParams()).toBe(3 * 5 + 5);
    expect((model.apply(kiln.ones([2, 3])) as kiln.Tensor).shape).toEqual([2, 5]);
  });

  it('pop() on an empty model and adding a layer twice fail clearly', () => {
    const model = new kiln.Sequential();
    expect(() => model.pop()).toThrow(/no layers/);
    const d = new Dense(2);
    model.add(d);
    expect(() => model.add(d)).toThrow(/already in the model/);
    expect(() => model.add(kiln.Input({ shape: [2] }))).toThrow(/only as the first element/);
  });

  it('getLayer finds layers by name and by index, and names the choices when it cannot', () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(3, { name: 'first' }), new Dense(1, { name: 'second' })]);
    expect(model.getLayer('second')).toBe(model.layers[1]);
    expect(model.getLayer(0).name).toBe('first');
    expect(model.getLayer(1).name).toBe('second');
    expect(() => model.getLayer('third')).toThrow(/no layer named 'third'; layers: first, second/);
    expect(() => model.getLayer(2)).toThrow(/index 2 is out of range: the model has 2 layers/);
  });
});

describe('Sequential: weights', () => {
  it('getWeights lists each Dense kernel [in, units] then its bias, layer by layer', () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [3] }), new Dense(4), new Dense(2, { useBias: false }), new Dense(1)]);
    expect(model.getWeights().map((w) => w.shape)).toEqual([[3, 4], [4], [4, 2], [2, 1], [1]]);
    expect(model.weights.map((v) => v.name)).toEqual(model.getWeightVariables().map((v) => v.name));
    expect(model.countParams()).toBe(12 + 4 + 8 + 2 + 1);
  });

  it('setWeights takes that order and the forward pass uses it', async () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(3, { activation: 'relu' }), new Dense(1)]);
    const k1 = [[1, -1, 0.5], [2, 0, -1]];
    const b1 = [0.1, 0.2, 0.3];
    const k2 = [[1], [2], [-3]];
    const b2 = [0.5];
    model.setWeights([k1, b1, k2, b2]);
    const got = await model.getWeights().reduce(async (acc, w) => [...(await acc), ...(await values(w))], Promise.resolve([] as number[]));
    expectClose(got, [...k1.flat(), ...b1, ...k2.flat(), ...b2]);
    const x = [[1, 2], [-1, 0.5]];
    const hidden = denseByHand(x, k1, b1).map((r) => r.map((v) => Math.max(v, 0)));
    const want = denseByHand(hidden, k2, b2).flat();
    expectClose(await values(model.predictOnBatch(kiln.tensor(x)) as kiln.Tensor), want);
    expectClose(await values((await model.predict(kiln.tensor(x), { verbose: 0 })) as kiln.Tensor), want);
  });

  it('setWeights names the expected shapes when given the wrong count or shapes', () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(3)]);
    expect(() => model.setWeights([kiln.zeros([2, 3])])).toThrow(/expected 2 arrays \(\[2,3\], \[3\]\), got 1/);
    expect(() => model.setWeights([kiln.zeros([3, 2]), kiln.zeros([3])])).toThrow(/weight 0 .* has shape \[2,3\], got \[3,2\]/);
  });

  it('a layer with trainable = false is frozen by fit and counted as non-trainable', async () => {
    kiln.setSeed(11);
    const frozen = new Dense(4, { activation: 'tanh', name: 'frozen' });
    const head = new Dense(1, { name: 'head' });
    const model = new kiln.Sequential([kiln.Input({ shape: [3] }), frozen, head]);
    frozen.trainable = false;
    expect(model.trainableWeights).toEqual([head.kernel, head.bias]);
    expect(model.nonTrainableWeights).toEqual([frozen.kernel, frozen.bias]);
    expect(model.weights).toHaveLength(4);
    const frozenBefore = [await values(frozen.kernel!), await values(frozen.bias!)];
    const headBefore = await values(head.kernel!);
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
    await model.fit(kiln.random.normal([16, 3]), kiln.random.normal([16, 1]), { epochs: 2, batchSize: 4, verbose: 0 });
    expect([await values(frozen.kernel!), await values(frozen.bias!)]).toEqual(frozenBefore);
    expect(await values(head.kernel!)).not.toEqual(headBefore);
    const text = model.summary({ printFn: () => {} });
    expect(text).toContain(' Total params: 21 (84.00 B)');
    expect(text).toContain(' Trainable params: 5 (20.00 B)');
    expect(text).toContain(' Non-trainable params: 16 (64.00 B)');
  });

  it('a whole model with trainable = false has no trainable weights', () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [3] }), new Dense(2)]);
    model.trainable = false;
    expect(model.trainableWeights).toEqual([]);
    expect(model.nonTrainableWeights).toHaveLength(2);
  });
});

describe('Sequential: summary', () => {
  it('prints the Keras table: header, (None, n) shapes, params with thousands separators, totals', () => {
    const model = new kiln.Sequential([
      kiln.Input({ shape: [784] }),
      new Dense(1000, { activation: 'relu', name: 'big' }),
      new Dropout(0.5, { name: 'drop' }),
      new Dense(16, { name: 'small' }),
    ], { name: 'mlp' });
    const lines: string[] = [];
    const text = model.summary({ printFn: (l) => lines.push(l) });
    expect(lines.join('\n')).toBe(text);
    const params = 784 * 1000 + 1000 + 1000 * 16 + 16;
    expect(params).toBe(801_016);
    const bytes = (params * 4) / 1024 ** 2;
    expect(text).toBe([
      'Model: "mlp"',
      '┏━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━┓',
      '┃ Layer (type)   ┃ Output Shape ┃ Param # ┃',
      '┡━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━┩',
      '│ big (Dense)    │ (None, 1000) │ 785,000 │',
      '├────────────────┼──────────────┼─────────┤',
      '│ drop (Dropout) │ (None, 1000) │       0 │',
      '├────────────────┼──────────────┼─────────┤',
      '│ small (Dense)  │ (None, 16)   │  16,016 │',
      '└────────────────┴──────────────┴─────────┘',
      ` Total params: 801,016 (${bytes.toFixed(2)} MB)`,
      ` Trainable params: 801,016 (${bytes.toFixed(2)} MB)`,
      ' Non-trainable params: 0 (0.00 B)',
    ].join('\n'));
  });

  it('prints to console.log by default', () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(16)]);
    const lines: unknown[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      model.summary();
    } finally {
      console.log = original;
    }
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.some((l) => String(l).includes('(None, 16)'))).toBe(true);
  });
});

describe('Sequential: errors', () => {
  it('a Dense built for 784 features names the expected dimension and the shape it got', () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [784] }), new Dense(10, { name: 'classifier' })]);
    expect(() => model.apply(kiln.zeros([32, 28, 28]))).toThrow(/Dense 'classifier'.*784.*\[32,28,28\]/);
    expect(() => model.predictOnBatch(kiln.zeros([32, 28, 28]))).toThrow(/784.*\[32,28,28\]/);
  });

  it('rejects what is not a layer', () => {
    expect(() => new kiln.Sequential([42 as never])).toThrow(/expected a Layer, got number/);
    expect(() => new kiln.Sequential('dense' as never)).toThrow(/expected an array of layers/);
  });
});
