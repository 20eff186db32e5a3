/** Regularization layers: noise and dropout while training, and activity penalties. */
import { registerLayer } from '../registry.js';
import { Dropout } from './dropout.js';
import { GaussianNoise } from './gaussian-noise.js';
import { GaussianDropout } from './gaussian-dropout.js';
import { ActivityRegularization } from './activity-regularization.js';
import { SpatialDropout1D } from './spatial-dropout1d.js';
import { SpatialDropout2D } from './spatial-dropout2d.js';
import { SpatialDropout3D } from './spatial-dropout3d.js';
import { AlphaDropout } from './alpha-dropout.js';

export { Dropout, type DropoutOptions } from './dropout.js';
export { GaussianNoise, type GaussianNoiseOptions } from './gaussian-noise.js';
export { GaussianDropout, type GaussianDropoutOptions } from './gaussian-dropout.js';
export { ActivityRegularization, type ActivityRegularizationOptions } from './activity-regularization.js';
export type { SpatialDropoutOptions } from './base-spatial-dropout.js';
export { SpatialDropout1D } from './spatial-dropout1d.js';
export { SpatialDropout2D } from './spatial-dropout2d.js';
export { SpatialDropout3D } from './spatial-dropout3d.js';
export { AlphaDropout, type AlphaDropoutOptions } from './alpha-dropout.js';

for (const cls of [
  Dropout, GaussianNoise, GaussianDropout, ActivityRegularization, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, AlphaDropout,
]) registerLayer(cls);
