import { Optimizer, checkNumber, type OptimizerConfig, type OptimizerOptions, type SlotSpec } from './optimizer.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';

export interface LionOptions extends OptimizerOptions {
  /** Mix of momentum and gradient whose sign is the update; in (0, 1]. */
  beta1?: number;
  /** Decay rate of the momentum. */
  beta2?: number;
}

/**
 * Lion (Chen et al., 2023): `w -= lr * sign(beta1 m + (1 - beta1) g); m = beta2 m + (1 - beta2) g`.
 * Every update has the same magnitude, so Lion wants a 3-10x smaller learning rate than AdamW.
 * @example
 * const opt = new kiln.optimizers.Lion({ learningRate: 1e-4 });
 */
export class Lion extends Optimizer {
  static readonly className = 'Lion';
  readonly beta1: number;
  readonly beta2: number;

  constructor(options: LionOptions = {}) {
    super({ learningRate: 0.001, name: 'lion' }, options, ['beta1', 'beta2']);
    // beta1 = 0 would make Lion plain sign-SGD, which Keras refuses
    this.beta1 = checkNumber(this.name, 'beta1', options.beta1 ?? 0.9, Number.MIN_VALUE, 1);
    this.beta2 = checkNumber(this.name, 'beta2', options.beta2 ?? 0.99, 0, 1);
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'momentum' }];
  }

  protected updateStep(g: Tensor, w: Variable, [m]: readonly Variable[], lr: number): Tensor {
    const direction = ops.sign(ops.add(ops.multiply(m, this.beta1), ops.multiply(g, 1 - this.beta1)));
    const next = ops.subtract(w, ops.multiply(lr, direction));
    m.assign(ops.add(ops.multiply(m, this.beta2), ops.multiply(g, 1 - this.beta2)));
    return next;
  }

  override getConfig(): OptimizerConfig {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2 };
  }
}
