import { Optimizer, checkNumber, type OptimizerConfig, type OptimizerOptions, type SlotSpec } from './optimizer.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';

export interface SGDOptions extends OptimizerOptions {
  /** In [0, 1]; 0 is plain gradient descent. */
  momentum?: number;
  nesterov?: boolean;
}

/**
 * Gradient descent, with optional (Nesterov) momentum (Keras default learning rate 0.01):
 * `v = momentum * v - lr * g; w += v` (Nesterov: `w += momentum * v - lr * g`).
 * @example
 * const w = new kiln.Variable(kiln.tensor([1, 2]));
 * const opt = new kiln.optimizers.SGD({ learningRate: 0.1, momentum: 0.9 });
 * opt.applyGradients([[kiln.tensor([0.5, -0.5]), w]]); // w is now [0.95, 2.05]
 */
export class SGD extends Optimizer {
  static readonly className = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(options: SGDOptions = {}) {
    super({ learningRate: 0.01, name: 'SGD' }, options, ['momentum', 'nesterov']);
    this.momentum = checkNumber(this.name, 'momentum', options.momentum ?? 0, 0, 1);
    this.nesterov = options.nesterov ?? false;
  }

  protected slotSpecs(): SlotSpec[] {
    return this.momentum !== 0 ? [{ name: 'momentum' }] : [];
  }

  protected updateStep(g: Tensor, w: Variable, slots: readonly Variable[], lr: number): Tensor {
    return this.applyRule('sgd', [lr, this.momentum, this.nesterov ? 1 : 0], g, w, slots);
  }

  override getConfig(): OptimizerConfig {
    return { ...super.getConfig(), momentum: this.momentum, nesterov: this.nesterov };
  }
}
