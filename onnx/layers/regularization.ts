/** Rows of layers/regularization/: noise, dropout and penalties act only in training, so each is the identity. */
import { ActivityRegularization } from '../../layers/regularization/activity-regularization.js';
import { Dropout } from '../../layers/regularization/dropout.js';
import { GaussianDropout } from '../../layers/regularization/gaussian-dropout.js';
import { GaussianNoise } from '../../layers/regularization/gaussian-noise.js';
import { SpatialDropout1D } from '../../layers/regularization/spatial-dropout1d.js';
import { SpatialDropout2D } from '../../layers/regularization/spatial-dropout2d.js';
import { SpatialDropout3D } from '../../layers/regularization/spatial-dropout3d.js';
import { AlphaDropout } from '../../layers/regularization/alpha-dropout.js';
import { passThrough, type RowEntry } from './row.js';

export const REGULARIZATION_ROWS: readonly RowEntry[] = [
  passThrough(Dropout),
  passThrough(GaussianNoise),
  passThrough(GaussianDropout),
  passThrough(ActivityRegularization),
  passThrough(SpatialDropout1D),
  passThrough(SpatialDropout2D),
  passThrough(SpatialDropout3D),
  passThrough(AlphaDropout),
];
