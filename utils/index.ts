/** kiln.utils: Keras's utilities for looking at models and runs. */
export { plotModel, type PlotModelOptions, type ModelPlot } from './plot/plot-model.js';
export { trainingReport, type TrainingReportOptions } from './report/training-report.js';
export type { HistoryLike } from '../callbacks/report/run-log.js';
