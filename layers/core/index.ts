/** Core layers: the graph's input, Dense, and the pass-through and function layers. */
import { registerLayer } from '../registry.js';
import { InputLayer } from './input.js';
import { Dense } from './dense.js';
import { Identity } from './identity.js';
import { Lambda } from './lambda.js';

export { InputLayer, Input, type InputOptions } from './input.js';
export { Dense, type DenseOptions } from './dense.js';
export { Identity } from './identity.js';
export { Lambda, type LambdaFn, type LambdaOptions } from './lambda.js';

for (const cls of [InputLayer, Dense, Identity, Lambda]) registerLayer(cls);
