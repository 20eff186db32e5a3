/**
 * Rows of layers/pooling/: MaxPool, AveragePool, GlobalMaxPool and GlobalAveragePool, which ONNX
 * defines channels-first. A channels-last layer moves its input there and its output back with
 * a Transpose each; between adjacent channels-last layers (a convolution, then a pooling) the
 * clean-up in ../optimize.ts composes the pair into the identity and drops it.
 */
import { isFloat } from '../../src/dtype.js';
import { padsFor } from '../../src/ops/conv-options.js';
import type { Pooling } from '../../layers/pooling/base-pooling.js';
import { AveragePooling1D, AveragePooling2D, AveragePooling3D } from '../../layers/pooling/average-pooling.js';
import type { GlobalPooling } from '../../layers/pooling/base-global-pooling.js';
import { GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D } from '../../layers/pooling/global-average-pooling.js';
import { GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D } from '../../layers/pooling/global-max-pooling.js';
import { MaxPooling1D, MaxPooling2D, MaxPooling3D } from '../../layers/pooling/max-pooling.js';
import type { GraphBuilder, Value } from '../builder.js';
import { elemType, int, ints, str, type Attr } from '../proto.js';
import { row, type RowClass, type RowEntry } from './row.js';

/** [N, ...S, C] → [N, C, ...S] over `rank` spatial axes. */
const toFirst = (rank: number): number[] => [0, rank + 1, ...Array.from({ length: rank }, (_, i) => i + 1)];
/** [N, C, ...S] → [N, ...S, C]. */
const toLast = (rank: number): number[] => [0, ...Array.from({ length: rank }, (_, i) => i + 2), 1];

/** `x` channels-first: as it is, or through a Transpose for a channels-last layer. */
function channelsFirst(b: GraphBuilder, x: string, rank: number, last: boolean): string {
  return last ? b.op('Transpose', [x], { perm: ints(toFirst(rank)) }) : x;
}

/** `y` (channels-first) in the layer's layout. */
function inLayout(b: GraphBuilder, y: string, rank: number, last: boolean): string {
  return last ? b.op('Transpose', [y], { perm: ints(toLast(rank)) }) : y;
}

/** Integer inputs pool in float32, as kiln.ops casts them. */
function floating(b: GraphBuilder, x: Value): string {
  return isFloat(x.dtype) ? x.name : b.op('Cast', [x.name], { to: int(elemType('float32')) });
}

/**
 * The window attributes: explicit pads where every spatial size is known (kiln's own, computed
 * as ops.maxPool does), SAME_UPPER where one is only known at run time (ONNX's rule for it is
 * TensorFlow's: the odd padding after).
 */
function windowAttrs(layer: Pooling, x: Value): Record<string, Attr> {
  const last = layer.dataFormat === 'channelsLast';
  const spatial = last ? x.shape.slice(1, -1) : x.shape.slice(2);
  const base = { kernel_shape: ints(layer.poolSize), strides: ints(layer.strides) };
  if (layer.padding === 'valid') return base;
  if (spatial.includes(null)) return { ...base, auto_pad: str('SAME_UPPER') };
  const pads = spatial.map((size, d) => padsFor('same', size!, layer.poolSize[d], layer.strides[d], 1));
  return { ...base, pads: ints([...pads.map((p) => p[0]), ...pads.map((p) => p[1])]) };
}

function windowRow(cls: RowClass<Pooling>, opType: 'MaxPool' | 'AveragePool'): RowEntry {
  const ops = `${opType} (Transposes around it for channelsLast${opType === 'AveragePool' ? '; count_include_pad=0' : ''})`;
  return row(cls, ops, ({ b, layer, inputs: [x] }) => {
    const last = layer.dataFormat === 'channelsLast';
    const attrs = windowAttrs(layer, x);
    // padding is left out of the average, as in Keras (0, ONNX's default, said outright)
    if (opType === 'AveragePool') attrs.count_include_pad = int(0);
    const y = b.op(opType, [channelsFirst(b, floating(b, x), layer.rank, last)], attrs);
    return [inLayout(b, y, layer.rank, last)];
  });
}

/**
 * GlobalMaxPool / GlobalAveragePool leave [N, C, 1, …]: a Flatten makes it [N, C] (no Transpose
 * back is needed), or with keepdims a channels-last layer moves the channels last again. An
 * integer max stays an integer, as ops.max keeps it: ReduceMax, which takes int32.
 */
function globalRow(cls: RowClass<GlobalPooling>, opType: 'GlobalMaxPool' | 'GlobalAveragePool'): RowEntry {
  return row(cls, `${opType} (a Transpose first for channelsLast), Flatten; ReduceMax for integers`, ({ b, layer, inputs: [x] }) => {
    const last = layer.dataFormat === 'channelsLast';
    if (opType === 'GlobalMaxPool' && !isFloat(x.dtype)) {
      const axes = Array.from({ length: layer.rank }, (_, i) => i + (last ? 1 : 2));
      return [b.reduce('ReduceMax', x.name, axes, layer.keepdims)];
    }
    const y = b.op(opType, [channelsFirst(b, floating(b, x), layer.rank, last)]);
    return [layer.keepdims ? inLayout(b, y, layer.rank, last) : b.op('Flatten', [y], { axis: int(1) })];
  });
}

export const POOLING_ROWS: readonly RowEntry[] = [
  ...[MaxPooling1D, MaxPooling2D, MaxPooling3D].map((cls) => windowRow(cls, 'MaxPool')),
  ...[AveragePooling1D, AveragePooling2D, AveragePooling3D].map((cls) => windowRow(cls, 'AveragePool')),
  ...[GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D].map((cls) => globalRow(cls, 'GlobalMaxPool')),
  ...[GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D].map((cls) => globalRow(cls, 'GlobalAveragePool')),
];
