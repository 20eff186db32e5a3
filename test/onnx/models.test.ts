/**
 * Composite models: an MLP, a Functional model with two inputs and two outputs, shared layers,
 * nested models, and custom layers built from kiln ops (traced into primitives), each run in
 * onnxruntime-node against kiln.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Layer, type LayerArgs } from '../../layers/layer.js';
import type { Variable } from '../../src/variable.js';
import { expectParity, opTypes, randomizeWeights, reportErrors } from './harness.js';

const { ops } = kiln;
const L = kiln.layers;

/** A custom layer with a weight, built from many kinds of kiln ops (each a primitive row). */
class Mixer extends Layer {
  static readonly className = 'Mixer';
  kernel: Variable | null = null;
  scale: Variable | null = null;

  override build(inputShape: readonly (number | null)[]): void {
    const d = inputShape.at(-1)!;
    this.kernel = this.addWeight('kernel', [d, d]);
    this.scale = this.addWeight('scale', [d], { initializer: 'ones' });
  }

  call(x: kiln.Tensor): kiln.Tensor {
    const h = ops.tanh(ops.matmul(x, this.kernel!));
    const soft = ops.softmax(ops.multiply(h, this.scale!), -1);
    const centered = ops.subtract(x, ops.mean(x, -1, true));
    const normed = ops.divide(centered, ops.add(ops.std(x, -1, true), 1e-3));
    const gate = ops.where(ops.greater(x, 0), ops.sqrt(ops.abs(x)), ops.exp(ops.clip(x, -3, 3)));
    const flipped = ops.flip(gate, -1);
    const halves = ops.split(flipped, 2, -1);
    const joined = ops.concatenate([halves[1], halves[0]], -1);
    const rolled = ops.cumsum(ops.transpose(ops.expandDims(joined, 1), [0, 2, 1]), 1);
    const back = ops.squeeze(rolled, 2);
    const logs = ops.log1p(ops.square(soft));
    const waves = ops.add(ops.sin(normed), ops.cos(ops.erf(back)));
    const picked = ops.take(waves, [3, 0, 1, 2], 1);
    const arg = ops.cast(ops.argmax(x, -1, true), 'float32');
    const extremes = ops.subtract(ops.max(x, -1, true), ops.min(x, -1, true));
    const rounded = ops.add(ops.floor(ops.multiply(normed, 2)), ops.round(ops.multiply(x, 3)));
    const modded = ops.add(ops.mod(x, 0.7), ops.floorDivide(x, 0.7));
    const padded = ops.slice(ops.pad(ops.expm1(ops.multiply(soft, 0.5)), [[0, 0], [1, 1]]), [0, 1], [-1, 4]);
    const lse = ops.logsumexp(x, -1, true);
    const prod = ops.prod(ops.add(ops.abs(ops.multiply(x, 0.1)), 1), -1, true);
    const pw = ops.power(ops.add(ops.abs(x), 0.5), ops.maximum(ops.minimum(soft, 0.9), 0.1));
    const terms = [logs, picked, arg, extremes, rounded, modded, padded, lse, prod, pw];
    return terms.reduce((acc, t) => ops.add(acc, t));
  }

  static fromConfig(config: LayerArgs): Mixer {
    return new Mixer(config);
  }
}

/** A custom layer that applies sublayers of its own inside call. */
class Residual extends Layer {
  static readonly className = 'Residual';
  readonly inner: kiln.layers.Dense;
  readonly norm: kiln.layers.Dense;

  constructor(units: number, args: LayerArgs = {}) {
    super(args);
    this.inner = this.track(new L.Dense(units, { activation: 'relu' }));
    this.norm = this.track(new L.Dense(units));
  }

  call(x: kiln.Tensor): kiln.Tensor {
    return ops.add(x, this.norm.apply(this.inner.apply(x) as kiln.Tensor) as kiln.Tensor);
  }
}

/** A subclassed model (its call is code), exported by wrapping it in a Functional model. */
class TwoTower extends kiln.Model {
  readonly a = new L.Dense(5, { activation: 'tanh' });
  readonly b = new L.Dense(5, { activation: 'sigmoid' });
  readonly out = new L.Dense(2);

  override call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
    const t = x as kiln.Tensor;
    return this.out.apply(ops.multiply(this.a.apply(t) as kiln.Tensor, this.b.apply(t) as kiln.Tensor)) as kiln.Tensor;
  }
}

describe('composite models in onnxruntime-node', () => {
  // the reference backend is the oracle the exported graph is held to
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  it('an MLP (Sequential)', async () => {
    const model = new kiln.Sequential([
      kiln.Input({ shape: [8] }),
      new L.Dense(16, { activation: 'relu' }),
      new L.Dropout(0.3),
      new L.Dense(16, { activation: 'tanh' }),
      new L.Dense(3, { activation: 'softmax' }),
    ]);
    randomizeWeights(model);
    const proto = await expectParity(model, { label: 'MLP' });
    expect(opTypes(proto)).toEqual(['Gemm', 'Relu', 'Gemm', 'Tanh', 'Gemm', 'Softmax']);
  });

  it('a Functional model with two inputs and two outputs', async () => {
    const a = kiln.Input({ shape: [4], name: 'features' });
    const b = kiln.Input({ shape: [3, 6], name: 'sequence' });
    const ha = new L.Dense(6, { activation: 'elu' }).apply(a) as unknown as kiln.SymbolicTensor;
    const hb = new L.Flatten().apply(new L.Dense(2).apply(b)) as unknown as kiln.SymbolicTensor;
    const joined = new L.Concatenate().apply([ha, hb]);
    const cls = new L.Dense(3, { activation: 'softmax', name: 'label' }).apply(joined);
    const reg = new L.Add({ name: 'score' }).apply([new L.Dense(1).apply(joined), new L.Dense(1).apply(ha)] as never);
    const model = new kiln.Model({ inputs: [a, b], outputs: [cls, reg] as never });
    randomizeWeights(model);
    const proto = await expectParity(model, { label: 'Functional, two inputs, two outputs' });
    expect(proto.graph!.input!.map((v) => v.name)).toEqual(['features', 'sequence']);
    expect(proto.graph!.output!.map((v) => v.name)).toEqual(['label', 'score']);
  });

  it('shared layers (one Dense applied twice) and a model output used inside', async () => {
    const shared = new L.Dense(4, { activation: 'relu', name: 'shared' });
    const a = kiln.Input({ shape: [5] });
    const b = kiln.Input({ shape: [5] });
    const sa = shared.apply(a);
    const sb = shared.apply(b);
    const diff = new L.Subtract({ name: 'diff' }).apply([sa, sb] as never);
    const both = new L.Multiply({ name: 'both' }).apply([diff, sa] as never);
    const model = new kiln.Model({ inputs: [a, b], outputs: [diff, both] as never });
    randomizeWeights(model);
    const proto = await expectParity(model, { label: 'shared layers' });
    // one initializer per weight, however often the layer is applied
    expect(proto.graph!.initializer!.map((t) => t.name).filter((n) => n!.startsWith('shared/'))).toEqual(['shared/kernel', 'shared/bias']);
  });

  it('nested models: a Sequential inside a Functional, and a Functional applied twice', async () => {
    const encoder = new kiln.Sequential([kiln.Input({ shape: [6] }), new L.Dense(8, { activation: 'gelu' }), new L.Dense(4)], { name: 'encoder' });
    const hx = kiln.Input({ shape: [4] });
    const head = new kiln.Model({ inputs: hx, outputs: new L.Dense(2, { activation: 'softsign' }).apply(new L.ReLU().apply(hx)) as never, name: 'head' });
    const x = kiln.Input({ shape: [6] });
    const y = kiln.Input({ shape: [6] });
    const ex = encoder.apply(x) as unknown as kiln.SymbolicTensor;
    const ey = encoder.apply(y) as unknown as kiln.SymbolicTensor;
    const out = new L.Average({ name: 'avg' }).apply([head.apply(ex), head.apply(ey)] as never);
    const model = new kiln.Model({ inputs: [x, y], outputs: out as never });
    randomizeWeights(model);
    const proto = await expectParity(model, { label: 'nested models' });
    expect(proto.graph!.node!.some((n) => n.name!.startsWith('encoder/'))).toBe(true);
  });

  it('a custom layer built from kiln ops (traced into primitives)', async () => {
    const x = kiln.Input({ shape: [4] });
    const model = new kiln.Model({ inputs: x, outputs: new L.Dense(2).apply(new Mixer({ name: 'mixer' }).apply(x)) as never });
    randomizeWeights(model);
    const proto = await expectParity(model, { label: 'custom layer from kiln ops' });
    expect(proto.graph!.initializer!.map((t) => t.name)).toEqual(expect.arrayContaining(['mixer/kernel', 'mixer/scale']));
  });

  it('a custom layer whose call applies sublayers', async () => {
    const x = kiln.Input({ shape: [6] });
    const model = new kiln.Model({ inputs: x, outputs: new Residual(6, { name: 'res' }).apply(new Residual(6).apply(x)) as never });
    randomizeWeights(model);
    await expectParity(model, { label: 'custom layer with sublayers' });
  });

  it('a subclassed model, wrapped in a Functional model', async () => {
    const inner = new TwoTower({ name: 'towers' });
    const x = kiln.Input({ shape: [3] });
    const model = new kiln.Model({ inputs: x, outputs: inner.apply(x) as never });
    randomizeWeights(model);
    await expectParity(model, { label: 'subclassed model, wrapped' });
  });

  it('keeps the boundary channels-last, and cancels Transposes that undo each other', async () => {
    const x = kiln.Input({ shape: [4, 3, 2] });
    const swapped = new L.Permute([3, 2, 1]).apply(new L.Permute([3, 2, 1]).apply(x));
    const moved = new L.Lambda((t) => kiln.ops.moveaxis(kiln.ops.moveaxis(t, 1, -1), -1, 1)).apply(swapped);
    const model = new kiln.Model({ inputs: x, outputs: new L.Flatten({ dataFormat: 'channels_first' }).apply(moved) as never });
    const proto = await expectParity(model, { label: 'transpose pairs' });
    // the two Permutes and the two moveaxis cancel; channels_first Flatten keeps its one Transpose
    expect(opTypes(proto)).toEqual(['Transpose', 'Flatten']);
  });

  it('a Sequential built by its first call', async () => {
    const model = new kiln.Sequential([new L.Dense(3, { activation: 'selu' }), new L.Dense(2)]);
    kiln.tidy(() => model.predictOnBatch(kiln.zeros([2, 5])));
    randomizeWeights(model);
    await expectParity(model, { label: 'Sequential built by a call' });
  });

  it('an int32-input custom layer: integer mod, floor division and casts', async () => {
    const x = kiln.Input({ shape: [5], dtype: 'int32' });
    const fn = (t: kiln.Tensor) => ops.cast(ops.add(ops.mod(ops.subtract(t, 2), 3), ops.floorDivide(ops.subtract(t, 2), 3)), 'float32');
    const model = new kiln.Model({ inputs: x, outputs: new L.Lambda(fn).apply(x) as never });
    await expectParity(model, { label: 'int32 ops' });
  });
});
