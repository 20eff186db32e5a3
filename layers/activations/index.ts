/** Activation layers: an activation function, or a parametrized one, as a layer. */
import { registerLayer } from '../registry.js';
import { Activation } from './activation.js';
import { ReLU } from './relu.js';
import { LeakyReLU } from './leaky-relu.js';
import { PReLU } from './prelu.js';
import { ELU } from './elu.js';
import { Softmax } from './softmax.js';

export { Activation } from './activation.js';
export { ReLU, type ReLUOptions } from './relu.js';
export { LeakyReLU, type LeakyReLUOptions } from './leaky-relu.js';
export { PReLU, type PReLUOptions } from './prelu.js';
export { ELU, type ELUOptions } from './elu.js';
export { Softmax, type SoftmaxOptions } from './softmax.js';

for (const cls of [Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax]) registerLayer(cls);
