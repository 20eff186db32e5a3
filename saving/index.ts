/** Saving and loading models: one `.kiln` file per model (docs/format.md). */
export { saveModel, saveWeights, type SaveOptions } from './save.js';
export { loadModel, loadWeights, type LoadOptions } from './load.js';
export { writeFileAtomic } from './atomic.js';
