/** Core layers: the graph's input, Dense, Embedding, Masking, and the pass-through and function layers. */
import { registerLayer } from '../registry.js';
import { InputLayer } from './input.js';
import { Dense } from './dense.js';
import { Identity } from './identity.js';
import { Lambda } from './lambda.js';
import { Embedding } from './embedding.js';
import { Masking } from './masking.js';

export { InputLayer, Input, type InputOptions } from './input.js';
export { Dense, type DenseOptions } from './dense.js';
export { Identity } from './identity.js';
export { Lambda, type LambdaFn, type LambdaOptions } from './lambda.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { Masking, type MaskingOptions } from './masking.js';

for (const cls of [InputLayer, Dense, Identity, Lambda, Embedding, Masking]) registerLayer(cls);
