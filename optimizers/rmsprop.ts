import { Optimizer, checkNumber, type OptimizerConfig, type OptimizerOptions, type SlotSpec } from './optimizer.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';

export interface RMSpropOptions extends OptimizerOptions {
  /** Decay rate of the mean squared gradient. */
  rho?: number;
  /** Plain (not Nesterov) momentum on the increments; 0 keeps no momentum slot. */
  momentum?: number;
  /** Added inside the square root, to the mean square, as Keras does. */
  epsilon?: number;
  /** Divide by an estimate of the variance (mean square minus squared mean) instead. */
  centered?: boolean;
}

/**
 * RMSprop (Hinton, 2012): `v = rho * v + (1 - rho) * g²; w -= lr * g / sqrt(v + epsilon)`.
 * @example
 * const opt = new kiln.optimizers.RMSprop({ learningRate: 1e-3, centered: true });
 */
export class RMSprop extends Optimizer {
  static readonly className = 'RMSprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;

  constructor(options: RMSpropOptions = {}) {
    super({ learningRate: 0.001, name: 'rmsprop' }, options, ['rho', 'momentum', 'epsilon', 'centered']);
    this.rho = checkNumber(this.name, 'rho', options.rho ?? 0.9, 0, 1);
    this.momentum = checkNumber(this.name, 'momentum', options.momentum ?? 0, 0);
    this.epsilon = checkNumber(this.name, 'epsilon', options.epsilon ?? 1e-7, 0);
    this.centered = options.centered ?? false;
  }

  protected slotSpecs(): SlotSpec[] {
    return [
      { name: 'velocity' },
      ...(this.momentum > 0 ? [{ name: 'momentum' }] : []),
      ...(this.centered ? [{ name: 'average_gradient' }] : []),
    ];
  }

  protected updateStep(g: Tensor, w: Variable, slots: readonly Variable[], lr: number): Tensor {
    return this.applyRule('rmsprop', [lr, this.rho, this.momentum, this.epsilon, this.centered ? 1 : 0], g, w, slots);
  }

  override getConfig(): OptimizerConfig {
    return { ...super.getConfig(), rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}
