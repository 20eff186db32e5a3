/** kiln.utils: the helpers Keras users reach for in keras.utils. */
export { toCategorical } from './categorical.js';
export { padSequences, type PadSequencesOptions } from './sequences.js';
export { timeseriesDatasetFromArray, type TimeseriesOptions } from './timeseries.js';
export { splitDataset, type SplitDatasetOptions } from './split.js';
