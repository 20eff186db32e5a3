/** Reshaping layers: the same values in another shape or order. */
import { registerLayer } from '../registry.js';
import { Flatten } from './flatten.js';
import { Reshape } from './reshape.js';
import { Permute } from './permute.js';
import { RepeatVector } from './repeat-vector.js';
import { ZeroPadding1D } from './zero-padding1d.js';
import { ZeroPadding2D } from './zero-padding2d.js';
import { ZeroPadding3D } from './zero-padding3d.js';
import { Cropping1D } from './cropping1d.js';
import { Cropping2D } from './cropping2d.js';
import { Cropping3D } from './cropping3d.js';
import { UpSampling1D } from './up-sampling1d.js';
import { UpSampling2D } from './up-sampling2d.js';
import { UpSampling3D } from './up-sampling3d.js';

export { Flatten, type FlattenOptions } from './flatten.js';
export { Reshape } from './reshape.js';
export { Permute } from './permute.js';
export { RepeatVector } from './repeat-vector.js';
// the bases stay inside, as in Keras: only the layers are kiln.layers
export type { ZeroPaddingOptions } from './base-zero-padding.js';
export type { CroppingOptions } from './base-cropping.js';
export type { UpSamplingOptions } from './base-up-sampling.js';
export type { EdgeWidths } from './edge-widths.js';
export { ZeroPadding1D } from './zero-padding1d.js';
export { ZeroPadding2D } from './zero-padding2d.js';
export { ZeroPadding3D } from './zero-padding3d.js';
export { Cropping1D } from './cropping1d.js';
export { Cropping2D } from './cropping2d.js';
export { Cropping3D } from './cropping3d.js';
export { UpSampling1D } from './up-sampling1d.js';
export { UpSampling2D, type UpSampling2DOptions, type UpSampling2DInterpolation } from './up-sampling2d.js';
export { UpSampling3D } from './up-sampling3d.js';

for (const cls of [
  Flatten, Reshape, Permute, RepeatVector, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D,
  Cropping1D, Cropping2D, Cropping3D, UpSampling1D, UpSampling2D, UpSampling3D,
]) registerLayer(cls);
