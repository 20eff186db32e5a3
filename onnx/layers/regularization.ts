/** Rows of layers/regularization/: noise, dropout and penalties act only in training, so each is the identity. */
import { ActivityRegularization } from '../../layers/regularization/activity-regularization.js';
import { Dropout } from '../../layers/regularization/dropout.js';
import { GaussianDropout } from '../../layers/regularization/gaussian-dropout.js';
import { GaussianNoise } from '../../layers/regularization/gaussian-noise.js';
import { passThrough, type RowEntry } from './row.js';

export const REGULARIZATION_ROWS: readonly RowEntry[] = [
  passThrough(Dropout),
  passThrough(GaussianNoise),
  passThrough(GaussianDropout),
  passThrough(ActivityRegularization),
];
