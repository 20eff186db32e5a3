import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const { Dense, Add, Concatenate } = kiln.layers;
type Sym = kiln.SymbolicTensor;

async function values(t: kiln.Tensor | kiln.Variable): Promise<number[]> {
  return Array.from(await (t instanceof kiln.Variable ? t.value : t).data());
}

async function rows(t: kiln.Tensor): Promise<number[][]> {
  return (await t.array()) as number[][];
}

function expectClose(got: number[], want: number[], digits = 5): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i], digits));
}

/** Applies a layer to symbolic tensors (apply's type is the eager one). */
function sym(layer: kiln.Layer, inputs: Sym | Sym[]): Sym {
  return layer.apply(inputs as never) as unknown as Sym;
}

function denseByHand(x: number[][], kernel: number[][], bias: number[]): number[][] {
  return x.map((row) => bias.map((b, j) => row.reduce((s, v, i) => s + v * kernel[i][j], b)));
}

/**
 * Two inputs (a: 3 features, b: 2), a shared trunk, and two heads: 'reg' (1 unit, linear) and
 * 'cls' (3 classes, softmax).
 */
function twoByTwo(): kiln.Model {
  const a = kiln.Input({ shape: [3], name: 'a' });
  const b = kiln.Input({ shape: [2], name: 'b' });
  const h = sym(new Dense(4, { activation: 'tanh', name: 'trunk' }), sym(new Concatenate({ name: 'cat' }), [a, b]));
  const reg = sym(new Dense(1, { name: 'reg' }), h);
  const cls = sym(new Dense(3, { activation: 'softmax', name: 'cls' }), h);
  return new kiln.Model({ inputs: [a, b], outputs: [reg, cls], name: 'two_by_two' });
}

function twoByTwoData(n: number): { xa: kiln.Tensor; xb: kiln.Tensor; yReg: kiln.Tensor; yCls: kiln.Tensor } {
  return {
    xa: kiln.random.normal([n, 3]),
    xb: kiln.random.normal([n, 2]),
    yReg: kiln.random.normal([n, 1]),
    yCls: kiln.tensor(Array.from({ length: n }, (_, i) => i % 3), [n], 'int32'),
  };
}

describe('Functional: structure', () => {
  it('has two inputs and two outputs, named after their layers', () => {
    kiln.setSeed(1);
    const model = twoByTwo();
    expect(model.inputNames).toEqual(['a', 'b']);
    expect(model.outputNames).toEqual(['reg', 'cls']);
    expect(model.inputs.map((t) => t.shape)).toEqual([[null, 3], [null, 2]]);
    expect(model.outputs.map((t) => t.shape)).toEqual([[null, 1], [null, 3]]);
    expect(model.layers.map((l) => l.name)).toEqual(['a', 'b', 'cat', 'trunk', 'reg', 'cls']);
    expect(model.countParams()).toBe(5 * 4 + 4 + 4 * 1 + 1 + 4 * 3 + 3);
  });

  it('predict returns one tensor per output, equal to predictOnBatch, for batch sizes not dividing n', async () => {
    kiln.setSeed(2);
    const model = twoByTwo();
    const { xa, xb } = twoByTwoData(7);
    const all = model.predictOnBatch([xa, xb]) as kiln.Tensor[];
    const batched = (await model.predict([xa, xb], { batchSize: 3 })) as kiln.Tensor[];
    expect(Array.isArray(batched)).toBe(true);
    expect(batched.map((t) => t.shape)).toEqual([[7, 1], [7, 3]]);
    for (let i = 0; i < 2; i++) expectClose(await values(batched[i]), await values(all[i]));
  });

  it('a single output given as a list predicts a list of one tensor', async () => {
    const x = kiln.Input({ shape: [2] });
    const model = new kiln.Model({ inputs: x, outputs: [sym(new Dense(1), x)] });
    const out = await model.predict(kiln.ones([3, 2]));
    expect(Array.isArray(out)).toBe(true);
    expect((out as kiln.Tensor[])[0].shape).toEqual([3, 1]);
  });

  it('fails clearly when an output is not reachable from the inputs', () => {
    const a = kiln.Input({ shape: [2], name: 'used' });
    const b = kiln.Input({ shape: [2], name: 'forgotten' });
    const out = sym(new Add(), [sym(new Dense(2), a), sym(new Dense(2), b)]);
    expect(() => new kiln.Model({ inputs: a, outputs: out })).toThrow(/not reachable from the model's inputs.*'forgotten'.*\[used\]/);
  });

  it('runs a DAG with skip connections as the hand computation does', async () => {
    const x = kiln.Input({ shape: [2] });
    const d1 = new Dense(2, { activation: 'relu', name: 'd1' });
    const d2 = new Dense(2, { name: 'd2' });
    const d3 = new Dense(1, { name: 'd3' });
    const h1 = sym(d1, x);
    const h2 = sym(d2, h1);
    const skip = sym(new Add({ name: 'skip' }), [h1, h2]);
    const both = sym(new Concatenate({ name: 'wide' }), [skip, x]);
    const model = new kiln.Model({ inputs: x, outputs: sym(d3, both) });
    const k1 = [[1, -1], [0.5, 2]];
    const b1 = [0, 0.5];
    const k2 = [[2, 0], [-1, 1]];
    const b2 = [0.1, -0.1];
    const k3 = [[1], [-2], [0.5], [3]];
    const b3 = [0.25];
    d1.setWeights([k1, b1]);
    d2.setWeights([k2, b2]);
    d3.setWeights([k3, b3]);
    const input = [[1, 2], [-2, 1], [0.5, -0.5]];
    const r1 = denseByHand(input, k1, b1).map((r) => r.map((v) => Math.max(0, v)));
    const r2 = denseByHand(r1, k2, b2);
    const wide = r1.map((r, i) => [r[0] + r2[i][0], r[1] + r2[i][1], ...input[i]]);
    const want = denseByHand(wide, k3, b3).flat();
    expectClose(await values((await model.predict(kiln.tensor(input))) as kiln.Tensor), want);
  });

  it('summary lists each layer with what it is connected to', () => {
    kiln.setSeed(1);
    const text = twoByTwo().summary({ printFn: () => {} });
    expect(text).toContain('Connected to');
    expect(text).toMatch(/│ cat \(Concatenate\) +│ \(None, 5\) +│ +0 │ a\[0\]\[0\], b\[0\]\[0\] +│/);
    expect(text).toMatch(/│ cls \(Dense\) +│ \(None, 3\) +│ +15 │ trunk\[0\]\[0\] +│/);
    expect(text).toContain(' Total params: 44 (176.00 B)');
  });
});

describe('Functional: shared layers and nested models', () => {
  it('a layer applied twice has one set of weights, and its gradient sums both uses', async () => {
    const x1 = kiln.Input({ shape: [1], name: 'x1' });
    const x2 = kiln.Input({ shape: [1], name: 'x2' });
    const shared = new Dense(1, { useBias: false, kernelInitializer: 'ones', name: 'shared' });
    const out = sym(new Add(), [sym(shared, x1), sym(shared, x2)]);
    const model = new kiln.Model({ inputs: [x1, x2], outputs: out });
    expect(model.weights).toHaveLength(1);
    expect(model.countParams()).toBe(1);
    expect(model.layers.filter((l) => l === shared)).toHaveLength(1);
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
    const a = [1, 2];
    const b = [3, 1];
    const y = [1, 0];
    const logs = await model.trainOnBatch([kiln.tensor([[a[0]], [a[1]]]), kiln.tensor([[b[0]], [b[1]]])], kiln.tensor([[y[0]], [y[1]]]));
    // pred = w·(a + b) with w = 1: [4, 3]; loss = mean((pred - y)²) = 9;
    // dL/dw = mean(2 · (pred - y) · (a + b)) = (3·4 + 3·3) = 21, counted once per use of w
    expect(logs.loss).toBeCloseTo(9, 5);
    expectClose(await values(shared.kernel!), [1 - 0.1 * 21]);
  });

  it('a shared layer with an activity regularizer adds the penalty of each of its applications', async () => {
    const x1 = kiln.Input({ shape: [1], name: 'x1' });
    const x2 = kiln.Input({ shape: [1], name: 'x2' });
    const shared = new Dense(1, { useBias: false, kernelInitializer: 'ones', activityRegularizer: { className: 'L1', config: { l1: 1 } } });
    const model = new kiln.Model({ inputs: [x1, x2], outputs: sym(new Add(), [sym(shared, x1), sym(shared, x2)]) });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    // one sample: outputs 1 and 2 sum to the target 3, so the loss is only |1| + |2|
    const logs = await model.evaluate([kiln.tensor([[1]]), kiln.tensor([[2]])], kiln.tensor([[3]]));
    expect(logs.loss).toBeCloseTo(3, 5);
  });

  it('a model used as a layer inside another keeps its weights and trains with it', async () => {
    kiln.setSeed(4);
    const innerIn = kiln.Input({ shape: [3] });
    const innerDense = new Dense(2, { activation: 'relu', name: 'inner_dense' });
    const inner = new kiln.Model({ inputs: innerIn, outputs: sym(innerDense, innerIn), name: 'inner' });
    const outerIn = kiln.Input({ shape: [3] });
    const head = new Dense(1, { name: 'head' });
    const outer = new kiln.Model({ inputs: outerIn, outputs: sym(head, sym(inner, outerIn)), name: 'outer' });
    expect(outer.layers).toContain(inner);
    expect(outer.getWeights().map((w) => w.shape)).toEqual([[3, 2], [2], [2, 1], [1]]);
    expect(outer.countParams()).toBe(11);
    expect(outer.trainableWeights).toEqual([innerDense.kernel, innerDense.bias, head.kernel, head.bias]);

    const x = kiln.random.normal([5, 3]);
    const viaParts = head.apply(inner.apply(x)) as kiln.Tensor;
    expectClose(await values((await outer.predict(x)) as kiln.Tensor), await values(viaParts));

    const before = await values(innerDense.kernel!);
    outer.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
    innerDense.setWeights([[[1, 0], [0, 1], [1, 1]], [0.5, 0.5]]);
    await outer.fit(x, kiln.random.normal([5, 1]), { epochs: 1, verbose: 0 });
    expect(await values(innerDense.kernel!)).not.toEqual(before);
    // the nested model's own prediction changes with the shared weights
    expectClose(await values((await outer.predict(x)) as kiln.Tensor), await values(head.apply(inner.apply(x)) as kiln.Tensor));
  });

  it('a frozen nested model keeps its weights through fit and counts as non-trainable', async () => {
    kiln.setSeed(5);
    const i = kiln.Input({ shape: [2] });
    const base = new kiln.Model({ inputs: i, outputs: sym(new Dense(3, { activation: 'tanh' }), i), name: 'base' });
    base.trainable = false;
    const x = kiln.Input({ shape: [2] });
    const head = new Dense(1, { name: 'head' });
    const model = new kiln.Model({ inputs: x, outputs: sym(head, sym(base, x)) });
    expect(model.trainableWeights).toEqual([head.kernel, head.bias]);
    expect(model.nonTrainableWeights).toEqual(base.weights);
    const frozen = await Promise.all(base.getWeights().map((w) => values(w)));
    const headBefore = await values(head.kernel!);
    model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.05 }), loss: 'mse' });
    await model.fit(kiln.random.normal([8, 2]), kiln.random.normal([8, 1]), { epochs: 2, batchSize: 4, verbose: 0 });
    expect(await Promise.all(base.getWeights().map((w) => values(w)))).toEqual(frozen);
    expect(await values(head.kernel!)).not.toEqual(headBefore);
    expect(model.summary({ printFn: () => {} })).toContain(' Non-trainable params: 9 (36.00 B)');
  });

  it('a nested model reused on two inputs shares its weights', async () => {
    const i = kiln.Input({ shape: [2] });
    const encoder = new kiln.Model({ inputs: i, outputs: sym(new Dense(2, { name: 'enc' }), i), name: 'encoder' });
    const left = kiln.Input({ shape: [2], name: 'left' });
    const right = kiln.Input({ shape: [2], name: 'right' });
    const model = new kiln.Model({ inputs: [left, right], outputs: sym(new Add(), [sym(encoder, left), sym(encoder, right)]) });
    expect(model.countParams()).toBe(6);
    const xl = kiln.tensor([[1, 2]]);
    const xr = kiln.tensor([[3, -1]]);
    const want = kiln.ops.add(encoder.apply(xl) as kiln.Tensor, encoder.apply(xr) as kiln.Tensor);
    expectClose(await values(model.predictOnBatch([xl, xr]) as kiln.Tensor), await values(want));
  });
});

describe('Functional: data by name, per-output losses and weights', () => {
  it('takes inputs and targets by name as objects in fit, evaluate and predict', async () => {
    kiln.setSeed(6);
    const { xa, xb, yReg, yCls } = twoByTwoData(8);
    const byList = twoByTwo();
    const byName = twoByTwo();
    byName.setWeights(byList.getWeights());
    const compileArgs = { optimizer: 'sgd', loss: ['mse', 'sparse_categorical_crossentropy'] };
    byList.compile(compileArgs);
    byName.compile(compileArgs);
    const h1 = await byList.fit([xa, xb], [yReg, yCls], { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    const h2 = await byName.fit({ b: xb, a: xa }, { cls: yCls, reg: yReg }, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    expectClose(h2.history.loss, h1.history.loss);
    const p1 = (await byList.predict([xa, xb])) as kiln.Tensor[];
    const p2 = (await byName.predict({ b: xb, a: xa })) as kiln.Tensor[];
    for (let k = 0; k < 2; k++) expectClose(await values(p2[k]), await values(p1[k]));
    const e = await byName.evaluate({ a: xa, b: xb }, { reg: yReg, cls: yCls });
    expect(e.loss).toBeCloseTo((await byList.evaluate([xa, xb], [yReg, yCls])).loss, 5);
  });

  it('names unknown and missing inputs', async () => {
    kiln.setSeed(6);
    const model = twoByTwo();
    const { xa, xb } = twoByTwoData(2);
    await expect(model.predict({ a: xa, c: xb })).rejects.toThrow(/unknown input name\(s\) c; expected a, b/);
    await expect(model.predict({ a: xa })).rejects.toThrow(/missing input 'b'/);
  });

  it('per-output losses given by array or by output name give the same logs', async () => {
    kiln.setSeed(7);
    const { xa, xb, yReg, yCls } = twoByTwoData(6);
    const model = twoByTwo();
    model.compile({ optimizer: 'sgd', loss: ['mae', 'sparse_categorical_crossentropy'] });
    const byArray = await model.evaluate([xa, xb], [yReg, yCls]);
    model.compile({ optimizer: 'sgd', loss: { cls: 'sparse_categorical_crossentropy', reg: 'mae' } });
    const byName = await model.evaluate([xa, xb], [yReg, yCls]);
    expect(Object.keys(byName).sort()).toEqual(['cls_loss', 'loss', 'reg_loss']);
    for (const k of Object.keys(byArray)) expect(byName[k], k).toBeCloseTo(byArray[k], 6);
    expect(() => model.compile({ optimizer: 'sgd', loss: { nope: 'mse' } })).toThrow(/unknown output\(s\) nope; outputs: reg, cls/);
    expect(() => model.compile({ optimizer: 'sgd', loss: ['mse'] })).toThrow(/loss has 1 entries but the model has 2 outputs/);
  });

  it('lossWeights scale each output loss in the total, as computed by hand', async () => {
    kiln.setSeed(8);
    const { xa, xb, yReg, yCls } = twoByTwoData(6);
    const model = twoByTwo();
    model.compile({ optimizer: 'sgd', loss: { reg: 'mse', cls: 'sparse_categorical_crossentropy' }, lossWeights: { reg: 0.25, cls: 3 } });
    const [pReg, pCls] = model.predictOnBatch([xa, xb]) as kiln.Tensor[];
    const reg = await values(pReg);
    const targets = await values(yReg);
    const mse = reg.reduce((s, p, i) => s + (p - targets[i]) ** 2, 0) / reg.length;
    const probs = await rows(pCls);
    const labels = await values(yCls);
    const scce = -probs.reduce((s, p, i) => s + Math.log(p[labels[i]]), 0) / probs.length;
    const logs = await model.evaluate([xa, xb], [yReg, yCls]);
    expect(logs.reg_loss).toBeCloseTo(mse, 5);
    expect(logs.cls_loss).toBeCloseTo(scce, 5);
    expect(logs.loss).toBeCloseTo(0.25 * mse + 3 * scce, 5);

    model.compile({ optimizer: 'sgd', loss: ['mse', 'sparse_categorical_crossentropy'], lossWeights: [1, 0] });
    expect((await model.evaluate([xa, xb], [yReg, yCls])).loss).toBeCloseTo(mse, 5);
  });

  it('a single loss applies to every output', async () => {
    const x = kiln.Input({ shape: [2] });
    const model = new kiln.Model({ inputs: x, outputs: [sym(new Dense(1, { name: 'p' }), x), sym(new Dense(1, { name: 'q' }), x)] });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const logs = await model.evaluate(kiln.ones([4, 2]), [kiln.zeros([4, 1]), kiln.ones([4, 1])]);
    expect(logs.loss).toBeCloseTo(logs.p_loss + logs.q_loss, 5);
  });

  it('history has loss, <output>_loss, <output>_<metric> and their val_ twins', async () => {
    kiln.setSeed(9);
    const { xa, xb, yReg, yCls } = twoByTwoData(8);
    const model = twoByTwo();
    model.compile({ optimizer: 'adam', loss: ['mse', 'sparse_categorical_crossentropy'], metrics: { cls: ['accuracy'], reg: ['mae'] } });
    const history = await model.fit([xa, xb], [yReg, yCls], {
      epochs: 2, batchSize: 4, verbose: 0, validationData: [[xa, xb], [yReg, yCls]],
    });
    const keys = ['loss', 'reg_loss', 'cls_loss', 'reg_mae', 'cls_accuracy'];
    expect(Object.keys(history.history).sort()).toEqual([...keys, ...keys.map((k) => `val_${k}`)].sort());
    for (const v of Object.values(history.history)) expect(v).toHaveLength(2);
    expect(history.epoch).toEqual([0, 1]);
    const e = await model.evaluate([xa, xb], [yReg, yCls]);
    expect(Object.keys(e).sort()).toEqual([...keys].sort());
    expect(e.loss).toBeCloseTo(e.reg_loss + e.cls_loss, 5);
  });
});
