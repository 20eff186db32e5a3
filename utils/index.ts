/**
 * kiln.utils: Keras's utilities. Looking at models and runs (plotModel, trainingReport) is here;
 * the data helpers live in data/, beside the Datasets three of them return, and the image files
 * in io/, beside the other file formats.
 */
export { plotModel, type PlotModelOptions, type ModelPlot } from './plot/plot-model.js';
export { trainingReport, type TrainingReportOptions } from './report/training-report.js';
export type { HistoryLike } from '../callbacks/report/run-log.js';
export { toCategorical } from '../data/categorical.js';
export { padSequences, type PadSequencesOptions } from '../data/sequences.js';
export { timeseriesDatasetFromArray, type TimeseriesOptions } from '../data/timeseries.js';
export { splitDataset, type SplitDatasetOptions } from '../data/split.js';
export { imageDatasetFromDirectory, type ImageDataset, type ImageDatasetOptions } from '../data/image-dataset.js';
export { loadImg, imgToArray, arrayToImg, saveImg, type LoadImgOptions, type ArrayToImgOptions, type SaveImgOptions } from '../io/images.js';
export type { Img } from '../io/img.js';
