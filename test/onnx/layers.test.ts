/**
 * Every layer kind kiln has, each alone in a model with random weights, exported and run in
 * onnxruntime-node at batch 1, 3 and 300 (kiln traces with the batch unknown, so 300 is larger
 * than any batch a trace saw), on several input shapes.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import * as kiln from '../../index.js';
import { ACTIVATIONS } from '../../onnx/index.js';
import { expectParity, randomizeWeights, reportErrors, single } from './harness.js';

const L = kiln.layers;
type Shape = (number | null)[];

interface Case {
  label: string;
  make: () => kiln.Layer;
  shapes: Shape[];
  inputs?: (batch: number, seed: number) => kiln.Tensor[];
  opset?: number;
  /** Sets the layer's state itself (degenerate statistics); the weights are then not randomized. */
  setup?: (layer: kiln.Layer) => Promise<void>;
}

kiln.layers.Lambda.registerFunction('onnx_test_fn', (x) => kiln.ops.multiply(kiln.ops.tanh(x), kiln.ops.sum(x, -1, true)));

const activationCases: Case[] = Object.keys(ACTIVATIONS).flatMap((id) => [
  { label: `Activation('${id}')`, make: () => new L.Activation(id), shapes: [[6]] },
  { label: `Activation('${id}') rank 3`, make: () => new L.Activation(id), shapes: [[4, 6]] },
]);

const cases: Case[] = [
  { label: 'Dense', make: () => new L.Dense(4), shapes: [[5]] },
  { label: 'Dense relu', make: () => new L.Dense(4, { activation: 'relu' }), shapes: [[5]] },
  { label: 'Dense softmax, no bias', make: () => new L.Dense(4, { activation: 'softmax', useBias: false }), shapes: [[5]] },
  { label: 'Dense rank 3', make: () => new L.Dense(4, { activation: 'tanh' }), shapes: [[3, 5]] },
  { label: 'Dense rank 3, dynamic steps', make: () => new L.Dense(4), shapes: [[null, 5]] },
  { label: 'Dense rank 4', make: () => new L.Dense(2, { activation: 'sigmoid' }), shapes: [[2, 3, 5]] },
  { label: 'Dense gelu (opset 17: decomposed)', make: () => new L.Dense(4, { activation: 'gelu' }), shapes: [[5]] },
  { label: 'Dense gelu (opset 20: Gelu)', make: () => new L.Dense(4, { activation: 'gelu' }), shapes: [[5]], opset: 20 },
  { label: 'Dense, own activation (traced)', make: () => new L.Dense(4, { activation: (x) => kiln.ops.multiply(x, kiln.ops.sigmoid(kiln.ops.multiply(x, 1.5))) }), shapes: [[5]] },
  ...activationCases,
  { label: 'Activation hard_silu (opset 13: decomposed)', make: () => new L.Activation('hard_silu'), shapes: [[6]], opset: 13 },
  { label: 'Activation mish (opset 18: Mish)', make: () => new L.Activation('mish'), shapes: [[6]], opset: 18 },
  { label: 'ReLU', make: () => new L.ReLU(), shapes: [[6]] },
  { label: 'ReLU maxValue', make: () => new L.ReLU({ maxValue: 0.5 }), shapes: [[6]] },
  { label: 'ReLU threshold, slope, max', make: () => new L.ReLU({ maxValue: 1.2, negativeSlope: 0.1, threshold: 0.3 }), shapes: [[2, 6]] },
  { label: 'ReLU slope', make: () => new L.ReLU({ negativeSlope: 0.2 }), shapes: [[6]] },
  { label: 'LeakyReLU', make: () => new L.LeakyReLU(), shapes: [[6]] },
  { label: 'PReLU', make: () => new L.PReLU(), shapes: [[3, 4]] },
  { label: 'PReLU shared axes', make: () => new L.PReLU({ sharedAxes: [1] }), shapes: [[3, 4]] },
  { label: 'ELU', make: () => new L.ELU({ alpha: 0.7 }), shapes: [[6]] },
  { label: 'Softmax', make: () => new L.Softmax(), shapes: [[6]] },
  { label: 'Softmax axis 1 of 3', make: () => new L.Softmax({ axis: 1 }), shapes: [[4, 3]] },
  { label: 'Softmax two axes', make: () => new L.Softmax({ axis: [1, 2] }), shapes: [[4, 3]] },
  { label: 'Dropout', make: () => new L.Dropout(0.5), shapes: [[6]] },
  { label: 'GaussianNoise', make: () => new L.GaussianNoise(0.3), shapes: [[6]] },
  { label: 'GaussianDropout', make: () => new L.GaussianDropout(0.3), shapes: [[6]] },
  { label: 'ActivityRegularization', make: () => new L.ActivityRegularization({ l2: 0.1 }), shapes: [[6]] },
  { label: 'Identity', make: () => new L.Identity(), shapes: [[6]] },
  { label: 'Flatten', make: () => new L.Flatten(), shapes: [[3, 4, 2]] },
  { label: 'Flatten channels_first', make: () => new L.Flatten({ dataFormat: 'channels_first' }), shapes: [[3, 4, 2]] },
  { label: 'Flatten rank 1', make: () => new L.Flatten(), shapes: [[]] },
  { label: 'Reshape', make: () => new L.Reshape([4, -1]), shapes: [[12]] },
  { label: 'Reshape rank 3 to 2', make: () => new L.Reshape([6]), shapes: [[2, 3]] },
  { label: 'Permute', make: () => new L.Permute([2, 1]), shapes: [[3, 5]] },
  { label: 'Permute rank 4', make: () => new L.Permute([3, 1, 2]), shapes: [[2, 3, 4]] },
  { label: 'RepeatVector', make: () => new L.RepeatVector(3), shapes: [[5]] },
  { label: 'Lambda', make: () => new L.Lambda('onnx_test_fn'), shapes: [[5]] },
  { label: 'Add', make: () => new L.Add(), shapes: [[4], [4], [4]] },
  { label: 'Add, lower rank lifted', make: () => new L.Add(), shapes: [[4], [3, 4]] },
  { label: 'Subtract', make: () => new L.Subtract(), shapes: [[4], [4]] },
  { label: 'Multiply', make: () => new L.Multiply(), shapes: [[2, 4], [2, 4]] },
  { label: 'Average', make: () => new L.Average(), shapes: [[4], [4], [4]] },
  { label: 'Maximum', make: () => new L.Maximum(), shapes: [[4], [4]] },
  { label: 'Minimum', make: () => new L.Minimum(), shapes: [[4], [1]] },
  { label: 'Concatenate', make: () => new L.Concatenate(), shapes: [[4], [3]] },
  { label: 'Concatenate axis 1', make: () => new L.Concatenate({ axis: 1 }), shapes: [[2, 3], [4, 3]] },
  { label: 'Dot', make: () => new L.Dot(1), shapes: [[4], [4]] },
  { label: 'Dot rank 3', make: () => new L.Dot([1, 2]), shapes: [[3, 5], [6, 3]] },
  { label: 'Dot normalize', make: () => new L.Dot(-1, { normalize: true }), shapes: [[2, 4], [3, 4]] },
  { label: 'Rescaling', make: () => new L.Rescaling(1 / 127.5, { offset: -1 }), shapes: [[6]] },
  { label: 'Rescaling per channel', make: () => new L.Rescaling([0.5, 2, -1], { offset: [1, 0, 0.25] }), shapes: [[2, 3]] },
  {
    label: 'Rescaling of int32 pixels',
    make: () => new L.Rescaling(1 / 255),
    shapes: [[4]],
    inputs: (batch, seed) => [kiln.random.randint([batch, 4], 0, 256, { seed })],
  },
  { label: 'Normalization (adapted)', make: () => new L.Normalization(), shapes: [[5]] },
  { label: 'Normalization axis [1, 2]', make: () => new L.Normalization({ axis: [1, 2] }), shapes: [[2, 3]] },
  { label: 'Normalization axis null', make: () => new L.Normalization({ axis: null }), shapes: [[3]] },
  { label: 'Normalization fixed, inverted', make: () => new L.Normalization({ mean: [1, 2, 3], variance: [4, 0.25, 1], invert: true }), shapes: [[3]] },
  { label: 'Normalization fixed scalar', make: () => new L.Normalization({ mean: 2, variance: 9 }), shapes: [[3]] },
  // degenerate statistics: the floor is max(sqrt(variance), 1e-7), not sqrt(variance + 1e-7)
  { label: 'Normalization fixed, zero and tiny variances', make: () => new L.Normalization({ mean: [1, 2, 3], variance: [0, 4, 1e-20] }), shapes: [[3]] },
  { label: 'Normalization fixed, zero variance, inverted', make: () => new L.Normalization({ mean: [1, -2], variance: [0, 0], invert: true }), shapes: [[2]] },
  {
    label: 'Normalization adapted on constant features',
    make: () => new L.Normalization(),
    shapes: [[3]],
    setup: async (layer) => {
      await (layer as kiln.layers.Normalization).adapt(kiln.tensor([[1, 5, -2], [1, 7, -2], [1, 9, -2]]));
    },
  },
  // single elements: a softmax over one value is 1 whatever the value, a 1 -> 1 Dense a scalar affine map
  { label: 'Softmax over a single element', make: () => new L.Softmax(), shapes: [[1]] },
  { label: 'Dense 1 -> 1', make: () => new L.Dense(1, { activation: 'tanh' }), shapes: [[1]] },
  { label: 'Rescaling by 0', make: () => new L.Rescaling(0, { offset: 0.5 }), shapes: [[4]] },
];

describe('every layer kind alone, exported and run in onnxruntime-node', () => {
  // the reference backend is the oracle the exported graph is held to
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);
  for (const c of cases) {
    it(c.label, async () => {
      kiln.setSeed(3);
      const model = single(c.make(), ...c.shapes);
      if (c.inputs) {
        // int inputs: Input dtypes come from the case
        const inputs = c.shapes.map((s) => kiln.Input({ shape: s, dtype: 'int32' }));
        const m = new kiln.Model({ inputs: inputs[0], outputs: c.make().apply(inputs[0]) as never });
        await expectParity(m, { label: c.label, inputs: c.inputs, opset: c.opset });
        return;
      }
      if (c.setup) await c.setup(model.layers[model.layers.length - 1]);
      else randomizeWeights(model);
      await expectParity(model, { label: c.label, opset: c.opset });
    });
  }

  it('InputLayer alone: the output is the input', async () => {
    const x = kiln.Input({ shape: [3] });
    await expectParity(new kiln.Model({ inputs: x, outputs: x }), { label: 'InputLayer' });
  });
});
