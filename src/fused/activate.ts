import type { FusedActivation } from '../../backends/contract.js';
import type { Tensor } from '../tensor.js';
import { relu, sigmoid } from '../ops/activations.js';
import { tanh } from '../ops/unary.js';

/** A fused kernel's activation applied with ops: what the composed forms (dense, conv) end with. */
export function activate(y: Tensor, activation: FusedActivation): Tensor {
  switch (activation) {
    case 'linear': return y;
    case 'relu': return relu(y);
    case 'sigmoid': return sigmoid(y);
    case 'tanh': return tanh(y);
  }
}
