/** kiln.utils: Keras's utilities for looking at models and runs. */
export { plotModel, type PlotModelOptions, type ModelPlot } from './plot/plot-model.js';
