/**
 * Rows of layers/reshaping/: one movement op each, the batch axis left in place. Pad, Slice and
 * Resize take any layout, so the spatial layers need no Transpose in either data format.
 */
import { Flatten } from '../../layers/reshaping/flatten.js';
import { Permute } from '../../layers/reshaping/permute.js';
import { RepeatVector } from '../../layers/reshaping/repeat-vector.js';
import { Reshape } from '../../layers/reshaping/reshape.js';
import type { ZeroPadding } from '../../layers/reshaping/base-zero-padding.js';
import type { Cropping } from '../../layers/reshaping/base-cropping.js';
import type { UpSampling } from '../../layers/reshaping/base-up-sampling.js';
import { spatialAxes } from '../../layers/reshaping/spatial-axes.js';
import { ZeroPadding1D } from '../../layers/reshaping/zero-padding1d.js';
import { ZeroPadding2D } from '../../layers/reshaping/zero-padding2d.js';
import { ZeroPadding3D } from '../../layers/reshaping/zero-padding3d.js';
import { Cropping1D } from '../../layers/reshaping/cropping1d.js';
import { Cropping2D } from '../../layers/reshaping/cropping2d.js';
import { Cropping3D } from '../../layers/reshaping/cropping3d.js';
import { UpSampling1D } from '../../layers/reshaping/up-sampling1d.js';
import { UpSampling2D } from '../../layers/reshaping/up-sampling2d.js';
import { UpSampling3D } from '../../layers/reshaping/up-sampling3d.js';
import { fail } from '../../src/errors.js';
import { INT64_MAX, elemType, int, ints, str, type Attr } from '../proto.js';
import { row, type RowClass, type RowEntry } from './row.js';

/** Pad's pads input: every axis's before, then every axis's after; only the spatial axes move. */
function padRow(cls: RowClass<ZeroPadding>): RowEntry {
  return row(cls, 'Pad', ({ b, layer, inputs: [x] }) => {
    const before = x.shape.map(() => 0);
    const after = x.shape.map(() => 0);
    spatialAxes(layer.rank, layer.dataFormat).forEach((a, i) => ([before[a], after[a]] = layer.padding[i]));
    return [b.op('Pad', [x.name, b.int64s([...before, ...after], 'pads')], { mode: str('constant') })];
  });
}

/** Ends counted from the end of each axis, so that one file serves every spatial size. */
function sliceRow(cls: RowClass<Cropping>): RowEntry {
  return row(cls, 'Slice', ({ b, layer, inputs: [x] }) => {
    const starts = layer.cropping.map(([before]) => before);
    const ends = layer.cropping.map(([, after]) => (after === 0 ? INT64_MAX : -after));
    const axes = spatialAxes(layer.rank, layer.dataFormat);
    return [b.op('Slice', [x.name, b.int64s(starts, 'starts'), b.int64s(ends, 'ends'), b.int64s(axes, 'axes')])];
  });
}

/**
 * Resize by each axis's factor. Nearest as Keras repeats: output j reads input floor(j / factor)
 * ('asymmetric', 'floor'); bilinear as keras.ops.image.resize: half-pixel centers, clamped at the
 * edges, which onnxruntime's 'half_pixel' linear mode also does. onnxruntime has no float64
 * Resize, so a float64 layer of known spatial sizes is traced into its repeats or gathers.
 */
function resizeRow(cls: RowClass<UpSampling>, ops: string): RowEntry {
  return row(cls, `${ops}; traced for float64`, ({ b, layer, inputs: [x], outputs: [out], trace }) => {
    const axes = spatialAxes(layer.rank, layer.dataFormat);
    const linear = layer instanceof UpSampling2D && layer.interpolation === 'bilinear';
    if (x.dtype === 'float64') {
      // the traced repeats and gathers are written for one spatial size
      if (axes.some((a) => x.shape[a] === null)) {
        fail('onnx export', `layer '${layer.name}' (${layer.className}): onnxruntime has no float64 Resize, and the float64 form needs the spatial sizes, which are known only at run time; give the Input fixed sizes or use float32`);
      }
      return trace();
    }
    const scales = x.shape.map(() => 1);
    axes.forEach((a, i) => (scales[a] = layer.size[i]));
    const attrs: Record<string, Attr> = linear
      ? { mode: str('linear'), coordinate_transformation_mode: str('half_pixel') }
      : { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') };
    // integer images interpolate in the layer's float dtype, as its call casts them
    const input = out.dtype === x.dtype ? x.name : b.op('Cast', [x.name], { to: int(elemType(out.dtype)) });
    return [b.op('Resize', [input, '', b.constant('float32', [scales.length], scales, 'scales')], attrs)];
  });
}

export const RESHAPING_ROWS: readonly RowEntry[] = [
  row(Flatten, 'Flatten (Transpose first for channels_first)', ({ b, layer, inputs: [x] }) => {
    const rank = x.shape.length;
    let y = x.name;
    if (layer.dataFormat === 'channels_first' && rank > 2) {
      y = b.op('Transpose', [y], { perm: ints([0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1]) });
    }
    return [b.op('Flatten', [y], { axis: int(1) })];
  }),
  // 0 copies the batch size from the input, so one file serves every batch size
  row(Reshape, 'Reshape', ({ b, layer, inputs: [x] }) => [b.reshape(x.name, [0, ...layer.targetShape])]),
  row(Permute, 'Transpose', ({ b, layer, inputs: [x] }) => [b.op('Transpose', [x.name], { perm: ints([0, ...layer.dims]) })]),
  row(RepeatVector, 'Unsqueeze, Tile', ({ b, layer, inputs: [x] }) => [b.op('Tile', [b.unsqueeze(x.name, [1]), b.int64s([1, layer.n, 1], 'repeats')])]),
  padRow(ZeroPadding1D),
  padRow(ZeroPadding2D),
  padRow(ZeroPadding3D),
  sliceRow(Cropping1D),
  sliceRow(Cropping2D),
  sliceRow(Cropping3D),
  resizeRow(UpSampling1D, 'Resize (nearest)'),
  resizeRow(UpSampling2D, "Resize (nearest; 'linear' with half_pixel for bilinear)"),
  resizeRow(UpSampling3D, 'Resize (nearest)'),
];
