/** kiln.data: input pipelines with tf.data's semantics. */
export { Dataset } from './dataset.js';
export type { Element, ElementOf } from './element.js';
export type { ShuffleOptions } from './reorder.js';
export type { GeneratorFn, IdxOptions } from './sources.js';
export type { CsvOptions } from './csv.js';
export { imageDatasetFromDirectory, type ImageDataset, type ImageDatasetOptions, type ImageDatasetResult, type LabelMode } from './image-dataset.js';
