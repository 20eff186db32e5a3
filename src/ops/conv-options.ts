/**
 * The convolution ops' options as Keras 3 reads them (one integer or one per spatial axis,
 * 'valid' / 'same' padding, the data format) and the sizes they give: the padding on each side
 * and the output's spatial sizes, for kiln.ops' conv, convTranspose, depthwiseConv and
 * separableConv.
 */
import { fail, fmtShape } from '../errors.js';
import { SymbolicTensor } from '../symbolic.js';
import type { Dim, Shape } from '../shape.js';
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { transpose } from './movement.js';

export type DataFormat = 'channelsLast' | 'channelsFirst';
/** 'causal' (left padding only) is Conv1D's, not an op's. */
export type ConvPadding = 'valid' | 'same' | 'causal';
/** An integer per spatial axis; one number serves every axis. */
export type SpatialInts = number | readonly number[];

/** keras.ops.conv's options, camelCase. */
export interface ConvOptions {
  /** Default 1. */
  strides?: SpatialInts;
  /** 'valid' (default, no padding) or 'same' (as TF: output size ceil(size / stride), the odd pad after). */
  padding?: 'valid' | 'same';
  /** 'channelsLast' (default): [N, ...spatial, C]; 'channelsFirst': [N, C, ...spatial]. */
  dataFormat?: DataFormat;
  /** Default 1. */
  dilationRate?: SpatialInts;
}

/** The options of one call, checked and resolved against the number of spatial axes. */
export interface Resolved {
  strides: number[];
  dilations: number[];
  padding: ConvPadding;
  channelsFirst: boolean;
}

/** The native addon takes window sizes, strides and dilations as int32: 2^32 would wrap to 0. */
const MAX_INT32 = 2 ** 31 - 1;

/** `value` as `d` integers, each >= `min` and at most 2^31 - 1. */
export function spatialInts(op: string, name: string, value: SpatialInts, d: number, min: number): number[] {
  const list = typeof value === 'number' ? new Array<number>(d).fill(value) : Array.isArray(value) ? [...value] : null;
  if (list === null || list.length !== d || !list.every((v) => Number.isInteger(v) && v >= min)) {
    fail(op, `${name} must be an integer >= ${min} or a list of ${d} of them (one per spatial axis), got ${JSON.stringify(value)}`);
  }
  if (list.some((v) => v > MAX_INT32)) fail(op, `${name} must be at most ${MAX_INT32}, got ${JSON.stringify(value)}`);
  return list;
}

/** Keras's snake_case spellings are accepted too, so that options copied from Python work. */
const FORMATS: Record<string, DataFormat> = {
  channelsLast: 'channelsLast', channelsFirst: 'channelsFirst', channels_last: 'channelsLast', channels_first: 'channelsFirst',
};

/** Checks an op's options against an input with `d` spatial axes; `causal` padding where the caller allows it. */
export function resolveOptions(op: string, options: Omit<ConvOptions, 'padding'> & { padding?: ConvPadding }, d: number, allowCausal = false): Resolved {
  const { strides = 1, padding = 'valid', dataFormat = 'channelsLast', dilationRate = 1 } = options;
  const allowed: ConvPadding[] = allowCausal ? ['valid', 'same', 'causal'] : ['valid', 'same'];
  const pad = typeof padding === 'string' ? padding.toLowerCase() : padding;
  if (!allowed.includes(pad as ConvPadding)) fail(op, `padding must be ${allowed.map((p) => `'${p}'`).join(' or ')}, got ${JSON.stringify(padding)}`);
  const format = typeof dataFormat === 'string' && Object.hasOwn(FORMATS, dataFormat) ? FORMATS[dataFormat] : undefined;
  if (!format) fail(op, `dataFormat must be 'channelsLast' or 'channelsFirst', got ${JSON.stringify(dataFormat)}`);
  return {
    strides: spatialInts(op, 'strides', strides, d, 1),
    dilations: spatialInts(op, 'dilationRate', dilationRate, d, 1),
    padding: pad as ConvPadding,
    channelsFirst: format === 'channelsFirst',
  };
}

/** Checks an input's rank (batch, 1 to 3 spatial axes, channels); returns the number of spatial axes. */
export function spatialRank(op: string, x: Tensor, kernel: Tensor, kernelLayout: string): number {
  const d = x.rank - 2;
  if (d < 1 || d > 3) fail(op, `expected inputs of rank 3, 4 or 5 (batch, 1 to 3 spatial axes, channels), got shape ${fmtShape(x.shape)}`);
  if (kernel.rank !== x.rank) fail(op, `expected a kernel ${kernelLayout} of rank ${x.rank} for inputs ${fmtShape(x.shape)}, got shape ${fmtShape(kernel.shape)}`);
  return d;
}

/** [N, C, ...spatial] as [N, ...spatial, C], where the data format is channels-first. */
export function toChannelsLast(x: Tensor, channelsFirst: boolean): Tensor {
  const d = x.rank - 2;
  return channelsFirst ? transpose(x, [0, ...Array.from({ length: d }, (_, i) => i + 2), 1]) : x;
}

/** [N, ...spatial, C] back as [N, C, ...spatial], where the data format is channels-first. */
export function fromChannelsLast(y: Tensor, channelsFirst: boolean): Tensor {
  const d = y.rank - 2;
  return channelsFirst ? transpose(y, [0, d + 1, ...Array.from({ length: d }, (_, i) => i + 1)]) : y;
}

/** [N, ...spatial, C] in the data format's order. */
export function inFormat(shape: Shape, channelsFirst: boolean): Dim[] {
  return channelsFirst ? [shape[0], shape[shape.length - 1], ...shape.slice(1, -1)] : [...shape];
}

/**
 * Zero padding [before, after] of one axis, as TF and Keras pad: 'same' gives ceil(size / stride)
 * outputs, the odd element of the total after; 'causal' pads the whole window before.
 */
export function padsFor(padding: ConvPadding, size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'valid') return [0, 0];
  if (padding === 'causal') return [span - 1, 0];
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + span - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * The result of a convolution whose input has a spatial size unknown until run time (a
 * Functional model built on Input([null, 8])): its shape, recorded under the op's name. Its
 * padding and slices depend on that size, so it cannot be composed from primitives now; the
 * model runs the layer again on real tensors.
 */
export function unknownSpatial(op: string, inputs: readonly Tensor[], shape: Shape, dtype: DType): Tensor {
  return new SymbolicTensor(shape, dtype, { prim: { name: op }, inputs, attrs: {} }) as unknown as Tensor;
}
