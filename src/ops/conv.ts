/**
 * kiln.ops' convolutions, as keras.ops has them: conv (groups inferred from the kernel's input
 * channels), convTranspose, depthwiseConv and separableConv, channels last or first, checked
 * here and run channels last by the fused conv (src/fused/conv.ts) or its composition. The
 * `...WithBias` forms are what the convolution layers call: the same op with the layer's bias,
 * an activation the kernel applies, and Conv1D's 'causal' padding.
 */
import type { FusedActivation } from '../../backends/contract.js';
import { fail, fmtShape } from '../errors.js';
import type { Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { convolve, convOutputSize } from '../fused/conv.js';
import { operands } from './binary.js';
import { cast } from './select.js';
import { flip, reshape, transpose } from './movement.js';
import {
  fromChannelsLast, inFormat, padsFor, resolveOptions, spatialInts, spatialRank, toChannelsLast, unknownSpatial,
  type ConvOptions, type ConvPadding, type Resolved, type SpatialInts,
} from './conv-options.js';
import { dilateSpatial, transposePlan } from './conv-transpose.js';

export type { ConvOptions, ConvPadding, DataFormat, SpatialInts } from './conv-options.js';

/** keras.ops.conv_transpose's options: conv's, and the extra size given to the output's end. */
export interface ConvTransposeOptions extends ConvOptions {
  /** Added after each spatial axis of the output (>= 0); null (default): inferred as Keras does. */
  outputPadding?: SpatialInts | null;
}

/** What a layer adds to an op: its bias ([filters], or null) and an activation fused into the kernel. */
export interface LayerExtras {
  bias?: TensorLike | null;
  /** Default 'linear'; any other activation is the layer's to apply after. */
  activation?: FusedActivation;
}

/** The inputs and kernel in one float dtype (Keras computes convolutions in the kernel's). */
function convOperands(op: string, inputs: TensorLike, kernel: TensorLike): [Tensor, Tensor] {
  const [x, w] = operands(op, inputs, kernel);
  if (x.dtype === 'bool') fail(op, 'expected numeric inputs and kernel, got bool; cast them to a float dtype first');
  return [x, w];
}

function biasOf(op: string, bias: TensorLike | null | undefined, x: Tensor, filters: number): Tensor | null {
  if (bias === null || bias === undefined) return null;
  const b = cast(asTensor(bias, op), x.dtype);
  if (b.rank !== 1 || b.shape[0] !== filters) fail(op, `expected a bias of shape [${filters}] (one per filter), got ${fmtShape(b.shape)}`);
  return b;
}

/**
 * The convolution of x (in the user's layout) with w [...K, C / groups, F] and the layer's
 * extras, groups = C / w's input channels: what conv, depthwiseConv and separableConv's two
 * steps share. `shown` is the kernel as the user gave it, for errors.
 */
function grouped(op: string, x: Tensor, w: Tensor, shown: Tensor, o: Resolved, extras: LayerExtras): Tensor {
  const d = x.rank - 2;
  const xl = toChannelsLast(x, o.channelsFirst);
  const [C, cg, F] = [xl.shape[d + 1], w.shape[d] as number, w.shape[d + 1] as number];
  const shapes = `inputs ${fmtShape(x.shape)} (${o.channelsFirst ? 'channelsFirst' : 'channelsLast'}), kernel ${fmtShape(shown.shape)}`;
  if (C === null) fail(op, `the inputs' channel axis must be known, got ${shapes}`);
  if (cg === 0 || C % cg !== 0) fail(op, `the inputs' ${C} channels must be a multiple of the kernel's ${cg} input channels (groups = channels / kernel input channels), got ${shapes}`);
  const groups = C / cg;
  if (F % groups !== 0) fail(op, `the kernel's ${F} filters must be a multiple of the ${groups} groups (${C} channels / ${cg} kernel input channels), got ${shapes}`);
  const bias = biasOf(op, extras.bias, x, F);
  const S = xl.shape.slice(1, d + 1);
  const K = w.shape.slice(0, d) as number[];
  const pads = S.map((s, i) => (s === null ? [0, 0] : padsFor(o.padding, s, K[i], o.strides[i], o.dilations[i])));
  const sizes = S.map((s, i): Dim => {
    if (s === null) return null;
    const out = convOutputSize(s, K[i], o.strides[i], o.dilations[i], pads[i][0], pads[i][1]);
    if (out <= 0 && s > 0) {
      fail(op, `the output would have size ${out} on spatial axis ${i}: a window of ${(K[i] - 1) * o.dilations[i] + 1} (kernel ${K[i]}, dilationRate ${o.dilations[i]}) does not fit in ${s} with padding '${o.padding}', strides ${o.strides[i]}; ${shapes}`);
    }
    return out;
  });
  if (sizes.includes(null)) return unknownSpatial(op, [x, shown, ...(bias ? [bias] : [])], inFormat([xl.shape[0], ...sizes, F], o.channelsFirst), x.dtype);
  const plan = { strides: o.strides, dilations: o.dilations, padsBefore: pads.map((p) => p[0]), padsAfter: pads.map((p) => p[1]), groups };
  return fromChannelsLast(convolve(xl, w, bias, plan, extras.activation), o.channelsFirst);
}

function convImpl(inputs: TensorLike, kernel: TensorLike, options: LayerConvOptions, extras: LayerExtras, allowCausal: boolean): Tensor {
  const [x, w] = convOperands('conv', inputs, kernel);
  const d = spatialRank('conv', x, w, '[...kernelSize, inChannels / groups, filters]');
  return grouped('conv', x, w, w, resolveOptions('conv', options, d, allowCausal), extras);
}

/**
 * N-D convolution (1 to 3 spatial axes), keras.ops.conv: inputs [N, ...spatial, C] (or
 * [N, C, ...spatial]), kernel [...kernelSize, C / groups, filters]; groups are the inputs'
 * channels over the kernel's input channels.
 * @example
 * kiln.ops.conv(kiln.ones([1, 5, 1]), kiln.ones([3, 1, 1]));   // [[[3], [3], [3]]]
 */
export function conv(inputs: TensorLike, kernel: TensorLike, options: ConvOptions = {}): Tensor {
  return convImpl(inputs, kernel, options, {}, false);
}

/** conv's options in a layer: Conv1D's 'causal' padding too (all of the window before each step). */
export type LayerConvOptions = Omit<ConvOptions, 'padding'> & { padding?: ConvPadding };

/** conv with a layer's bias and fused activation; padding may be 'causal' (Conv1D). */
export function convWithBias(inputs: TensorLike, kernel: TensorLike, options: LayerConvOptions & LayerExtras = {}): Tensor {
  return convImpl(inputs, kernel, options, options, true);
}

function depthwiseImpl(op: string, inputs: TensorLike, kernel: TensorLike, options: ConvOptions, extras: LayerExtras): Tensor {
  const [x, w] = convOperands(op, inputs, kernel);
  const d = spatialRank(op, x, w, '[...kernelSize, channels, depthMultiplier]');
  const o = resolveOptions(op, options, d);
  const C = o.channelsFirst ? x.shape[1] : x.shape[d + 1];
  if (C !== null && w.shape[d] !== C) fail(op, `the kernel's input channels (${w.shape[d]}) must equal the inputs' channels (${C}): inputs ${fmtShape(x.shape)}, kernel ${fmtShape(w.shape)}`);
  // channel c's multiplier m becomes filter c·M + m of a grouped convolution, one group per channel
  const asGrouped = reshape(w, [...w.shape.slice(0, d), 1, (w.shape[d] as number) * (w.shape[d + 1] as number)]);
  return grouped(op, x, asGrouped, w, o, extras);
}

/**
 * Depthwise convolution, keras.ops.depthwise_conv: each input channel convolved with its own
 * `depthMultiplier` filters; kernel [...kernelSize, C, depthMultiplier], output channel
 * c·depthMultiplier + m.
 */
export function depthwiseConv(inputs: TensorLike, kernel: TensorLike, options: ConvOptions = {}): Tensor {
  return depthwiseImpl('depthwiseConv', inputs, kernel, options, {});
}

/** depthwiseConv with a layer's bias ([C · depthMultiplier]) and fused activation. */
export function depthwiseConvWithBias(inputs: TensorLike, kernel: TensorLike, options: ConvOptions & LayerExtras = {}): Tensor {
  return depthwiseImpl('depthwiseConv', inputs, kernel, options, options);
}

function separableImpl(inputs: TensorLike, depthwiseKernel: TensorLike, pointwiseKernel: TensorLike, options: ConvOptions, extras: LayerExtras): Tensor {
  const op = 'separableConv';
  const hidden = depthwiseImpl(op, inputs, depthwiseKernel, options, {});
  const [h, p] = convOperands(op, hidden, pointwiseKernel);
  const d = spatialRank(op, h, p, '[...ones, channels · depthMultiplier, filters]');
  const o = resolveOptions(op, { dataFormat: options.dataFormat }, d);
  const channels = o.channelsFirst ? h.shape[1] : h.shape[d + 1];
  if (p.shape.slice(0, d).some((k) => k !== 1) || p.shape[d] !== channels) {
    fail(op, `expected a pointwise kernel [...ones, ${channels} (channels · depthMultiplier), filters], got ${fmtShape(p.shape)}`);
  }
  return grouped(op, h, p, p, o, extras);
}

/**
 * Depthwise then pointwise (1×1) convolution, keras.ops.separable_conv; the pointwise kernel
 * [...ones, C · depthMultiplier, filters] must take every depthwise channel (one group).
 */
export function separableConv(inputs: TensorLike, depthwiseKernel: TensorLike, pointwiseKernel: TensorLike, options: ConvOptions = {}): Tensor {
  return separableImpl(inputs, depthwiseKernel, pointwiseKernel, options, {});
}

/** separableConv with a layer's bias ([filters]) and fused activation, both in the pointwise step. */
export function separableConvWithBias(
  inputs: TensorLike, depthwiseKernel: TensorLike, pointwiseKernel: TensorLike, options: ConvOptions & LayerExtras = {},
): Tensor {
  return separableImpl(inputs, depthwiseKernel, pointwiseKernel, options, options);
}

function transposeImpl(inputs: TensorLike, kernel: TensorLike, options: ConvTransposeOptions, extras: LayerExtras): Tensor {
  const op = 'convTranspose';
  const [x, w] = convOperands(op, inputs, kernel);
  const d = spatialRank(op, x, w, '[...kernelSize, filters, inChannels]');
  const o = resolveOptions(op, options, d);
  const outputPadding = options.outputPadding == null ? null : spatialInts(op, 'outputPadding', options.outputPadding, d, 0);
  const xl = toChannelsLast(x, o.channelsFirst);
  const [C, F] = [xl.shape[d + 1], w.shape[d] as number];
  const shapes = `inputs ${fmtShape(x.shape)} (${o.channelsFirst ? 'channelsFirst' : 'channelsLast'}), kernel ${fmtShape(w.shape)}`;
  if (C !== w.shape[d + 1]) fail(op, `the kernel's input channels (its last axis, ${w.shape[d + 1]}) must equal the inputs' channels (${C}): ${shapes}`);
  const bias = biasOf(op, extras.bias, x, F);
  const plan = transposePlan(op, xl.shape.slice(1, d + 1), w.shape.slice(0, d) as number[], o, outputPadding, shapes);
  if (plan.sizes.includes(null)) return unknownSpatial(op, [x, w, ...(bias ? [bias] : [])], inFormat([xl.shape[0], ...plan.sizes, F], o.channelsFirst), x.dtype);
  // the adjoint of a convolution: zeros between the inputs, then a stride-1 convolution with
  // the kernel reversed in space and its in/out axes swapped to [...K, inChannels, filters]
  const spatial = Array.from({ length: d }, (_, i) => i);
  const kernelCl = transpose(flip(w, spatial), [...spatial, d + 1, d]);
  const y = convolve(dilateSpatial(xl, o.strides), kernelCl, bias, plan.conv, extras.activation);
  return fromChannelsLast(y, o.channelsFirst);
}

/**
 * Transposed convolution (the gradient of conv with respect to its input),
 * keras.ops.conv_transpose: kernel [...kernelSize, filters, inChannels]; each output size is
 * (size - 1)·stride + window + outputPadding for 'valid' (outputPadding inferred as
 * max(window, stride) - window) and size·stride for 'same', as Keras computes them.
 */
export function convTranspose(inputs: TensorLike, kernel: TensorLike, options: ConvTransposeOptions = {}): Tensor {
  return transposeImpl(inputs, kernel, options, {});
}

/** convTranspose with a layer's bias ([filters]) and fused activation. */
export function convTransposeWithBias(inputs: TensorLike, kernel: TensorLike, options: ConvTransposeOptions & LayerExtras = {}): Tensor {
  return transposeImpl(inputs, kernel, options, options);
}
