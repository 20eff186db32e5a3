/**
 * kiln.utils in the browser bundle (browser.ts): the helpers on arrays. plotModel and
 * trainingReport write files, the image helpers read them, and the helpers that return a Dataset
 * (timeseriesDatasetFromArray, splitDataset) bring the Dataset's file sources with them: those
 * stay in the Node entry.
 */
export { toCategorical } from '../data/categorical.js';
export { padSequences, type PadSequencesOptions } from '../data/sequences.js';
