/** Normalization layers: batch, layer, group, RMS and unit normalization. */
import { registerLayer } from '../registry.js';
import { BatchNormalization } from './batch-normalization.js';
import { LayerNormalization } from './layer-normalization.js';
import { GroupNormalization } from './group-normalization.js';
import { RMSNormalization } from './rms-normalization.js';
import { UnitNormalization } from './unit-normalization.js';

export { BatchNormalization, type BatchNormalizationOptions } from './batch-normalization.js';
export { LayerNormalization, type LayerNormalizationOptions } from './layer-normalization.js';
export { GroupNormalization, type GroupNormalizationOptions } from './group-normalization.js';
export { RMSNormalization, type RMSNormalizationOptions } from './rms-normalization.js';
export { UnitNormalization, type UnitNormalizationOptions } from './unit-normalization.js';
export type { AffineOptions } from './affine.js';

for (const cls of [BatchNormalization, LayerNormalization, GroupNormalization, RMSNormalization, UnitNormalization]) registerLayer(cls);
