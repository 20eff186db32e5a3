/** Preprocessing layers: rescaling and normalizing inputs inside the model. */
import { registerLayer } from '../registry.js';
import { Rescaling } from './rescaling.js';
import { Normalization } from './normalization.js';

export { Rescaling, type RescalingOptions, type Scalars } from './rescaling.js';
export { Normalization, type NormalizationOptions } from './normalization.js';

for (const cls of [Rescaling, Normalization]) registerLayer(cls);
