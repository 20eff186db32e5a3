/**
 * Rows of layers/convolutional/: Conv and ConvTranspose, channels first as ONNX has them. A
 * channels-last layer moves its input to channels-first and its output back, with its activation
 * in between when the activation is elementwise, so that between two such layers the move back
 * and the next move in are adjacent Transposes, which the clean-up pass (../optimize.ts) composes
 * into the identity and removes: a chain of channels-last convolutions keeps one Transpose at
 * each end. Kernels are written in ONNX's layout ([filters, channels / groups, ...kernel]), permuted
 * once when the weights are read.
 */
import type { TypedArray } from '../../backends/contract.js';
import { stridesOf } from '../../backends/contract.js';
import type { ActivationFn } from '../../src/activations.js';
import { fail, fmtShape } from '../../src/errors.js';
import { padsFor, type Resolved } from '../../src/ops/conv-options.js';
import { transposePlan } from '../../src/ops/conv-transpose.js';
import type { Variable } from '../../src/variable.js';
import type { ConvLayer } from '../../layers/convolutional/conv-layer.js';
import type { BaseConv } from '../../layers/convolutional/base-conv.js';
import type { BaseConvTranspose } from '../../layers/convolutional/base-conv-transpose.js';
import type { BaseDepthwiseConv } from '../../layers/convolutional/base-depthwise-conv.js';
import type { BaseSeparableConv } from '../../layers/convolutional/base-separable-conv.js';
import { Conv1D } from '../../layers/convolutional/conv1d.js';
import { Conv2D } from '../../layers/convolutional/conv2d.js';
import { Conv3D } from '../../layers/convolutional/conv3d.js';
import { Conv1DTranspose } from '../../layers/convolutional/conv1d-transpose.js';
import { Conv2DTranspose } from '../../layers/convolutional/conv2d-transpose.js';
import { Conv3DTranspose } from '../../layers/convolutional/conv3d-transpose.js';
import { DepthwiseConv1D } from '../../layers/convolutional/depthwise-conv1d.js';
import { DepthwiseConv2D } from '../../layers/convolutional/depthwise-conv2d.js';
import { SeparableConv1D } from '../../layers/convolutional/separable-conv1d.js';
import { SeparableConv2D } from '../../layers/convolutional/separable-conv2d.js';
import { ACTIVATIONS, activationRow } from '../activations.js';
import type { GraphBuilder, Value } from '../builder.js';
import { int, ints, str, type Attr } from '../proto.js';
import { activate, row, type LayerArgs, type RowClass, type RowEntry } from './row.js';

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** `values` of row-major `dims` with its axes reordered: out.dims[j] = dims[perm[j]]. */
export function permuted(values: TypedArray, dims: readonly number[], perm: readonly number[]): TypedArray {
  const out = new (values.constructor as new (n: number) => TypedArray)(values.length);
  const from = stridesOf(dims);
  const outDims = perm.map((p) => dims[p]);
  const index = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < values.length; o++) {
    out[o] = values[index.reduce((at, i, j) => at + i * from[perm[j]], 0)];
    for (let j = dims.length - 1; j >= 0 && ++index[j] === outDims[j]; j--) index[j] = 0;
  }
  return out;
}

/**
 * A kernel [...K, a, b] as ONNX's [b, a, ...K] (Conv's [filters, channels / groups, ...K], and
 * ConvTranspose's [channels, filters, ...K] from Keras's [...K, filters, channels]).
 */
function onnxKernel(b: GraphBuilder, kernel: Variable): string {
  const d = kernel.shape.length - 2;
  const perm = [d + 1, d, ...range(d)];
  return b.weight(kernel, { dims: perm.map((p) => kernel.shape[p]), transform: (v) => permuted(v, kernel.shape, perm) });
}

/** A depthwise kernel [...K, C, M] as a grouped Conv's [C·M, 1, ...K] (filter c·M + m reads channel c). */
function onnxDepthwiseKernel(b: GraphBuilder, kernel: Variable): string {
  const d = kernel.shape.length - 2;
  const [C, M] = kernel.shape.slice(d);
  const perm = [d, d + 1, ...range(d)];
  return b.weight(kernel, { dims: [C * M, 1, ...kernel.shape.slice(0, d)], transform: (v) => permuted(v, kernel.shape, perm) });
}

/**
 * Conv's padding attributes: explicit pads wherever they do not depend on a size known only at
 * run time; else (strided 'same' on a dynamic axis) SAME_UPPER, TensorFlow's "SAME" (the odd pad
 * after), which onnxruntime runs only undilated.
 */
function convPadding(layer: ConvLayer, spatial: readonly (number | null)[]): Record<string, Attr> {
  const { padding, kernelSize: K, strides, dilationRate } = layer;
  const pads = spatial.map((s, i) => {
    // with stride 1, 'same' pads the window less one whatever the size
    if (s === null && padding === 'same' && strides[i] > 1) return null;
    return padsFor(padding, s ?? K[i], K[i], strides[i], dilationRate[i]);
  });
  if (pads.includes(null)) {
    // only depthwise and separable layers get here dilated: Keras refuses strides with dilation elsewhere
    if (Math.max(...dilationRate) > 1) {
      fail('onnx export', `layer '${layer.name}' (${layer.className}): 'same' padding with strides [${strides}] and dilationRate [${dilationRate}] on inputs of spatial sizes ${fmtShape(spatial)} pads by an amount known only at run time, which onnxruntime's SAME_UPPER cannot do with dilation; give the model's Input fixed spatial sizes`);
    }
    return { auto_pad: str('SAME_UPPER') };
  }
  return { pads: ints([...pads.map((p) => p![0]), ...pads.map((p) => p![1])]) };
}

/** Whether the activation maps each element alone, so that it can run in either layout. */
function elementwise(fn: ActivationFn): boolean {
  const found = activationRow(fn);
  return found !== null && found !== ACTIVATIONS.softmax && found !== ACTIVATIONS.log_softmax;
}

/**
 * The layer's ONNX ops on channels-first data between the moves a channels-last layer needs,
 * then its activation: `emit` takes the channels-first input and its spatial sizes.
 */
function convolution(args: LayerArgs<ConvLayer>, emit: (x: string, spatial: readonly (number | null)[]) => string): string[] {
  const { b, layer, inputs: [x] } = args;
  const d = layer.rank;
  const last = layer.dataFormat === 'channelsLast';
  const spatial = last ? x.shape.slice(1, -1) : x.shape.slice(2);
  let y = emit(last ? b.op('Transpose', [x.name], { perm: ints([0, d + 1, ...range(d, 1)]) }) : x.name, spatial);
  const inside = !last || elementwise(layer.activation);
  if (inside) y = activated(args, y, x);
  if (last) y = b.op('Transpose', [y], { perm: ints([0, ...range(d, 2), 1]) });
  return [inside ? y : activated(args, y, x)];
}

const activated = (args: LayerArgs<ConvLayer>, y: string, x: Value): string => activate(args, y, args.layer.activation, x.dtype);

const convAttrs = (layer: ConvLayer, spatial: readonly (number | null)[], group: number): Record<string, Attr> => ({
  kernel_shape: ints(layer.kernelSize), strides: ints(layer.strides), dilations: ints(layer.dilationRate), group: int(group), ...convPadding(layer, spatial),
});

const biasOf = (b: GraphBuilder, layer: ConvLayer): string[] => (layer.bias ? [b.weight(layer.bias)] : []);

const conv = (cls: RowClass<BaseConv>): RowEntry => row(cls, 'Conv (Transposes around it when channels-last)', (args) =>
  convolution(args, (x, spatial) => {
    const { b, layer } = args;
    return b.op('Conv', [x, onnxKernel(b, layer.kernel!), ...biasOf(b, layer)], convAttrs(layer, spatial, layer.groups));
  }));

const depthwise = (cls: RowClass<BaseDepthwiseConv>): RowEntry => row(cls, 'Conv with group = channels (Transposes around it when channels-last)', (args) =>
  convolution(args, (x, spatial) => {
    const { b, layer } = args;
    const channels = layer.kernel!.shape[layer.rank];
    return b.op('Conv', [x, onnxDepthwiseKernel(b, layer.kernel!), ...biasOf(b, layer)], convAttrs(layer, spatial, channels));
  }));

const separable = (cls: RowClass<BaseSeparableConv>): RowEntry => row(cls, 'Conv with group = channels, then a 1×1 Conv (Transposes around them when channels-last)', (args) =>
  convolution(args, (x, spatial) => {
    const { b, layer } = args;
    const channels = layer.depthwiseKernel!.shape[layer.rank];
    const hidden = b.op('Conv', [x, onnxDepthwiseKernel(b, layer.depthwiseKernel!)], convAttrs(layer, spatial, channels));
    const ones = layer.kernelSize.map(() => 1);
    return b.op('Conv', [hidden, onnxKernel(b, layer.pointwiseKernel!), ...biasOf(b, layer)], { kernel_shape: ints(ones), strides: ints(ones) });
  }));

/**
 * ConvTranspose's pads crop what Keras's padding leaves out: the window less one, less the
 * padding Keras's rule puts on each side of the zero-inserted input. Where that padding exceeds
 * the window at the end ('valid' with stride above the window, or outputPadding), the excess is
 * ONNX's output_padding, which only ever adds at the end.
 */
function transposeAttrs(layer: BaseConvTranspose, spatial: readonly (number | null)[]): Record<string, Attr> {
  const { kernelSize: K, strides, dilationRate } = layer;
  const resolved: Resolved = { strides, dilations: dilationRate, padding: layer.padding, channelsFirst: layer.dataFormat === 'channelsFirst' };
  const plan = transposePlan(layer.toString(), spatial, K, resolved, layer.outputPadding, `spatial sizes ${fmtShape(spatial)}`).conv;
  const window = K.map((k, i) => (k - 1) * dilationRate[i] + 1);
  const before = plan.padsBefore.map((p, i) => window[i] - 1 - p);
  const after = plan.padsAfter.map((p, i) => Math.max(window[i] - 1 - p, 0));
  const extra = plan.padsAfter.map((p, i) => Math.max(p - (window[i] - 1), 0));
  return {
    kernel_shape: ints(K), strides: ints(strides), dilations: ints(dilationRate), pads: ints([...before, ...after]), output_padding: ints(extra),
  };
}

const convTranspose = (cls: RowClass<BaseConvTranspose>): RowEntry => row(cls, 'ConvTranspose (Transposes around it when channels-last)', (args) =>
  convolution(args, (x, spatial) => {
    const { b, layer } = args;
    return b.op('ConvTranspose', [x, onnxKernel(b, layer.kernel!), ...biasOf(b, layer)], transposeAttrs(layer, spatial));
  }));

export const CONVOLUTIONAL_ROWS: readonly RowEntry[] = [
  conv(Conv1D), conv(Conv2D), conv(Conv3D),
  convTranspose(Conv1DTranspose), convTranspose(Conv2DTranspose), convTranspose(Conv3DTranspose),
  depthwise(DepthwiseConv1D), depthwise(DepthwiseConv2D),
  separable(SeparableConv1D), separable(SeparableConv2D),
];
