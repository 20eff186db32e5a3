/** Regularization layers: noise and dropout while training, and activity penalties. */
import { registerLayer } from '../registry.js';
import { Dropout } from './dropout.js';
import { GaussianNoise } from './gaussian-noise.js';
import { GaussianDropout } from './gaussian-dropout.js';
import { ActivityRegularization } from './activity-regularization.js';

export { Dropout, type DropoutOptions } from './dropout.js';
export { GaussianNoise, type GaussianNoiseOptions } from './gaussian-noise.js';
export { GaussianDropout, type GaussianDropoutOptions } from './gaussian-dropout.js';
export { ActivityRegularization, type ActivityRegularizationOptions } from './activity-regularization.js';

for (const cls of [Dropout, GaussianNoise, GaussianDropout, ActivityRegularization]) registerLayer(cls);
