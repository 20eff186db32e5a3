/** kiln.layers: the layer classes, Keras 3's names and defaults. Importing it registers every family's classes. */
export { Layer, type LayerArgs, type LayerConfig, type CallOptions, type Tensors, type Shapes } from './layer.js';
export { maskOf, type LayerMask, type MaskOptions } from './mask.js';
export * from './core/index.js';
export * from './activations/index.js';
export * from './regularization/index.js';
export * from './reshaping/index.js';
export * from './merging/index.js';
export * from './preprocessing/index.js';
export * from './convolutional/index.js';
export * from './pooling/index.js';
export * from './normalization/index.js';
export * from './recurrent/index.js';
export * from './attention/index.js';
export { registerLayer, layerFromConfig, serializeLayer, getLayerClass, type LayerClass, type SerializedLayer } from './registry.js';
