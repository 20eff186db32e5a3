/** Pooling layers: the max or the mean over windows of the spatial axes, or over all of them. */
import { registerLayer } from '../registry.js';
import { MaxPooling1D, MaxPooling2D, MaxPooling3D } from './max-pooling.js';
import { AveragePooling1D, AveragePooling2D, AveragePooling3D } from './average-pooling.js';
import { GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D } from './global-max-pooling.js';
import { GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D } from './global-average-pooling.js';

// the bases stay inside, as in Keras: only the layers are kiln.layers
export type { PoolingOptions } from './base-pooling.js';
export type { GlobalPoolingOptions } from './base-global-pooling.js';
export { MaxPooling1D, MaxPooling2D, MaxPooling3D } from './max-pooling.js';
export { AveragePooling1D, AveragePooling2D, AveragePooling3D } from './average-pooling.js';
export { GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D } from './global-max-pooling.js';
export { GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D } from './global-average-pooling.js';

for (const cls of [
  MaxPooling1D, MaxPooling2D, MaxPooling3D, AveragePooling1D, AveragePooling2D, AveragePooling3D,
  GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D,
]) registerLayer(cls);
