/** Reshaping layers: the same values in another shape or order. */
import { registerLayer } from '../registry.js';
import { Flatten } from './flatten.js';
import { Reshape } from './reshape.js';
import { Permute } from './permute.js';
import { RepeatVector } from './repeat-vector.js';

export { Flatten, type FlattenOptions } from './flatten.js';
export { Reshape } from './reshape.js';
export { Permute } from './permute.js';
export { RepeatVector } from './repeat-vector.js';

for (const cls of [Flatten, Reshape, Permute, RepeatVector]) registerLayer(cls);
