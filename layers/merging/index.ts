/** Merging layers: one output from a list of inputs. */
import { registerLayer } from '../registry.js';
import { Add, Average, Maximum, Minimum, Multiply, Subtract } from './merge.js';
import { Concatenate } from './concatenate.js';
import { Dot } from './dot.js';

export { Merge, Add, Subtract, Multiply, Average, Maximum, Minimum } from './merge.js';
export { Concatenate, type ConcatenateOptions } from './concatenate.js';
export { Dot, type DotOptions } from './dot.js';

for (const cls of [Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot]) registerLayer(cls);
