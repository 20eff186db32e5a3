/**
 * The convolution layers exported and run in onnxruntime-node at batch 1, 7 and 256 against
 * kiln's reference backend: each layer alone on several options and layouts, spatial sizes known
 * only at run time, and a channels-last CNN whose layout moves cancel between its layers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { toModelProto } from '../../onnx/index.js';
import type { ModelProto } from '../../onnx/proto.js';
import { permuted } from '../../onnx/layers/convolutional.js';
import { expectParity, opTypes, randomizeWeights, reportErrors, single } from './harness.js';

const L = kiln.layers;
const BATCHES = [1, 7, 256];
type Shape = (number | null)[];

interface Case {
  label: string;
  make: () => kiln.Layer;
  shape: Shape;
  /** The graph's op types, in order, where the case pins them. */
  ops?: string[];
  opset?: number;
}


const cases: Case[] = [
  { label: 'Conv1D', make: () => new L.Conv1D(4, 3), shape: [9, 3], ops: ['Transpose', 'Conv', 'Transpose'] },
  { label: 'Conv1D causal, dilated, relu', make: () => new L.Conv1D(4, 3, { padding: 'causal', dilationRate: 2, activation: 'relu' }), shape: [9, 3], ops: ['Transpose', 'Conv', 'Relu', 'Transpose'] },
  { label: 'Conv1D same, strided, channelsFirst', make: () => new L.Conv1D(3, 4, { padding: 'same', strides: 3, dataFormat: 'channelsFirst' }), shape: [2, 10], ops: ['Conv'] },
  { label: 'Conv1D grouped, no bias', make: () => new L.Conv1D(6, 2, { groups: 3, useBias: false }), shape: [5, 6] },
  { label: 'Conv2D', make: () => new L.Conv2D(4, 3), shape: [6, 5, 3] },
  { label: 'Conv2D same, strides 2 (odd sizes)', make: () => new L.Conv2D(4, [3, 2], { padding: 'same', strides: 2, activation: 'tanh' }), shape: [7, 5, 2] },
  { label: 'Conv2D grouped, sigmoid', make: () => new L.Conv2D(4, 3, { groups: 2, activation: 'sigmoid', padding: 'same' }), shape: [5, 5, 4] },
  { label: 'Conv2D channelsFirst, dilated, softmax', make: () => new L.Conv2D(3, 2, { dataFormat: 'channelsFirst', dilationRate: [2, 1], activation: 'softmax' }), shape: [2, 6, 5], ops: ['Conv', 'Softmax'] },
  // softmax runs over the channels of a channels-last layer: after the move back
  { label: 'Conv2D softmax over channels', make: () => new L.Conv2D(3, 2, { activation: 'softmax' }), shape: [4, 4, 2], ops: ['Transpose', 'Conv', 'Transpose', 'Softmax'] },
  { label: 'Conv2D gelu (opset 13: decomposed)', make: () => new L.Conv2D(2, 3, { activation: 'gelu' }), shape: [5, 5, 2], opset: 13 },
  { label: 'Conv2D, own activation (traced)', make: () => new L.Conv2D(2, 2, { activation: (x) => kiln.ops.multiply(x, kiln.ops.sigmoid(x)) }), shape: [4, 4, 2] },
  { label: 'Conv3D', make: () => new L.Conv3D(2, 2, { strides: [1, 2, 1], padding: 'same' }), shape: [3, 5, 4, 2] },
  { label: 'Conv3D channelsFirst', make: () => new L.Conv3D(3, [2, 1, 2], { dataFormat: 'channelsFirst', activation: 'relu' }), shape: [2, 3, 4, 3] },
  // window 2 below stride 3: Keras's output padding exceeds the window, ONNX's output_padding takes the rest
  { label: 'Conv1DTranspose valid, stride above the window', make: () => new L.Conv1DTranspose(3, 2, { strides: 3 }), shape: [4, 2], ops: ['Transpose', 'ConvTranspose', 'Transpose'] },
  { label: 'Conv1DTranspose same, dilated', make: () => new L.Conv1DTranspose(2, 3, { padding: 'same', dilationRate: 2, activation: 'relu' }), shape: [5, 3] },
  { label: 'Conv2DTranspose same, strides 2', make: () => new L.Conv2DTranspose(3, 3, { strides: 2, padding: 'same' }), shape: [3, 4, 2] },
  { label: 'Conv2DTranspose outputPadding', make: () => new L.Conv2DTranspose(2, [3, 2], { strides: [2, 3], padding: 'same', outputPadding: [1, 0] }), shape: [3, 3, 2] },
  { label: 'Conv2DTranspose valid outputPadding, channelsFirst', make: () => new L.Conv2DTranspose(2, 3, { strides: 2, outputPadding: 1, dataFormat: 'channelsFirst' }), shape: [2, 3, 3], ops: ['ConvTranspose'] },
  { label: 'Conv3DTranspose', make: () => new L.Conv3DTranspose(2, 2, { strides: 2, activation: 'tanh' }), shape: [2, 2, 3, 3] },
  { label: 'DepthwiseConv1D', make: () => new L.DepthwiseConv1D(3, { depthMultiplier: 2 }), shape: [6, 3], ops: ['Transpose', 'Conv', 'Transpose'] },
  { label: 'DepthwiseConv2D same, strided', make: () => new L.DepthwiseConv2D(3, { strides: 2, padding: 'same', depthMultiplier: 3 }), shape: [5, 6, 2] },
  { label: 'DepthwiseConv2D strided and dilated (as Keras allows), channelsFirst', make: () => new L.DepthwiseConv2D(2, { strides: 2, dilationRate: 2, dataFormat: 'channelsFirst' }), shape: [3, 7, 6] },
  { label: 'SeparableConv1D', make: () => new L.SeparableConv1D(4, 3, { depthMultiplier: 2, padding: 'same' }), shape: [7, 3], ops: ['Transpose', 'Conv', 'Conv', 'Transpose'] },
  { label: 'SeparableConv2D', make: () => new L.SeparableConv2D(4, 3, { strides: 2, activation: 'relu' }), shape: [7, 7, 3] },
  { label: 'SeparableConv2D channelsFirst, no bias', make: () => new L.SeparableConv2D(2, 2, { dataFormat: 'channelsFirst', useBias: false }), shape: [2, 4, 4] },
];

/** Spatial sizes that change from one run to the next: a different size per batch. */
const varying = (channels: number, d: number) => (batch: number, seed: number): kiln.Tensor[] =>
  [kiln.random.normal([batch, ...Array.from({ length: d }, (_, i) => 4 + ((seed + i) % 3)), channels], { seed })];

const dynamicCases: (Case & { channels: number })[] = [
  { label: 'Conv2D same, strides 2, dynamic spatial (SAME_UPPER)', make: () => new L.Conv2D(3, 3, { padding: 'same', strides: 2 }), shape: [null, null, 2], channels: 2 },
  { label: 'Conv1D causal, dynamic steps', make: () => new L.Conv1D(2, 3, { padding: 'causal', activation: 'tanh' }), shape: [null, 2], channels: 2 },
  { label: 'Conv2DTranspose strides 2, dynamic spatial', make: () => new L.Conv2DTranspose(2, 3, { strides: 2 }), shape: [null, null, 3], channels: 3 },
  { label: 'SeparableConv2D same, dynamic spatial', make: () => new L.SeparableConv2D(3, 3, { padding: 'same', depthMultiplier: 2 }), shape: [null, null, 2], channels: 2 },
  { label: 'DepthwiseConv1D same, strides 2, dynamic steps', make: () => new L.DepthwiseConv1D(3, { padding: 'same', strides: 2 }), shape: [null, 3], channels: 3 },
];

const attribute = (proto: ModelProto, op: string, name: string) =>
  proto.graph!.node!.find((n) => n.opType === op)!.attribute!.find((a) => a.name === name);

describe('convolution layers exported and run in onnxruntime-node', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  for (const c of cases) {
    it(c.label, async () => {
      kiln.setSeed(3);
      const model = single(c.make(), c.shape);
      randomizeWeights(model);
      const proto = await expectParity(model, { label: c.label, opset: c.opset, batches: BATCHES });
      if (c.ops) expect(opTypes(proto)).toEqual(c.ops);
    });
  }

  for (const c of dynamicCases) {
    it(c.label, async () => {
      kiln.setSeed(3);
      const model = single(c.make(), c.shape);
      randomizeWeights(model);
      await expectParity(model, { label: c.label, batches: BATCHES, inputs: varying(c.channels, c.shape.length - 1) });
    });
  }

  it('refuses a dilated, strided depthwise convolution with run-time padding, and says what to do', async () => {
    const model = single(new L.DepthwiseConv1D(3, { padding: 'same', strides: 2, dilationRate: 2, name: 'dw' }), [null, 3]);
    await expect(toModelProto(model)).rejects.toThrow("onnx export: layer 'dw' (DepthwiseConv1D): 'same' padding with strides [2] and dilationRate [2] on inputs of spatial sizes [null] pads by an amount known only at run time, which onnxruntime's SAME_UPPER cannot do with dilation; give the model's Input fixed spatial sizes");
    // with the size fixed the pads are explicit
    await expectParity(single(new L.DepthwiseConv1D(3, { padding: 'same', strides: 2, dilationRate: 2 }), [9, 3]), { label: 'DepthwiseConv1D same, strided, dilated', batches: BATCHES });
  });

  it('writes depthwise as one Conv with group = channels, and Keras kernels in ONNX layout', async () => {
    const model = single(new L.DepthwiseConv2D(3, { depthMultiplier: 2 }), [5, 5, 4]);
    const proto = await expectParity(model, { label: 'DepthwiseConv2D group', batches: [1] });
    expect(Number(attribute(proto, 'Conv', 'group')!.i)).toBe(4);
    const kernel = proto.graph!.initializer!.find((t) => t.name === model.layers[1].weights[0].name)!;
    expect(kernel.dims!.map(Number)).toEqual([8, 1, 3, 3]);
  });

  it('a channels-last CNN of three convolution layers has one Transpose at each end', async () => {
    const input = kiln.Input({ shape: [8, 8, 3] });
    let x = new L.Conv2D(4, 3, { padding: 'same', activation: 'relu' }).apply(input);
    x = new L.SeparableConv2D(6, 3, { strides: 2, activation: 'tanh' }).apply(x);
    x = new L.Conv2DTranspose(2, 2, { strides: 2 }).apply(x);
    const out = new L.Dense(3, { activation: 'softmax' }).apply(new L.Flatten().apply(x));
    const model = new kiln.Model({ inputs: input, outputs: out });
    randomizeWeights(model);
    const proto = await expectParity(model, { label: 'CNN: Conv2D, SeparableConv2D, Conv2DTranspose, Flatten, Dense', batches: BATCHES });
    const ops = opTypes(proto);
    expect(ops.filter((op) => op === 'Transpose')).toHaveLength(2);
    expect(ops).toEqual(['Transpose', 'Conv', 'Relu', 'Conv', 'Conv', 'Tanh', 'ConvTranspose', 'Transpose', 'Flatten', 'Gemm', 'Softmax']);
  });

  it('permutes a kernel as a transpose of its axes', () => {
    // [2, 3] → [3, 2]
    expect(Array.from(permuted(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]))).toEqual([1, 4, 2, 5, 3, 6]);
    // [K=2, C=1, F=2] → [F, C, K]: w[k, 0, f] lands at [f, 0, k]
    expect(Array.from(permuted(Float64Array.from([1, 2, 3, 4]), [2, 1, 2], [2, 1, 0]))).toEqual([1, 3, 2, 4]);
  });
});
