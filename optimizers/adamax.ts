import { Optimizer, checkNumber, type OptimizerConfig, type OptimizerOptions, type SlotSpec } from './optimizer.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';

export interface AdamaxOptions extends OptimizerOptions {
  beta1?: number;
  /** Decay rate of the exponentially weighted infinity norm. */
  beta2?: number;
  epsilon?: number;
}

/**
 * Adamax (Kingma and Ba, 2014, section 7.1), Adam with the infinity norm:
 * `m += (g - m)(1 - beta1); u = max(beta2 u, |g|); w -= lr m / ((1 - beta1^t)(u + epsilon))`.
 * @example
 * const opt = new kiln.optimizers.Adamax({ learningRate: 2e-3 });
 */
export class Adamax extends Optimizer {
  static readonly className = 'Adamax';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(options: AdamaxOptions = {}) {
    super({ learningRate: 0.001, name: 'adamax' }, options, ['beta1', 'beta2', 'epsilon']);
    this.beta1 = checkNumber(this.name, 'beta1', options.beta1 ?? 0.9, 0, 1);
    this.beta2 = checkNumber(this.name, 'beta2', options.beta2 ?? 0.999, 0, 1);
    this.epsilon = checkNumber(this.name, 'epsilon', options.epsilon ?? 1e-7, 0);
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'momentum' }, { name: 'norm' }];
  }

  protected updateStep(g: Tensor, w: Variable, [m, u]: readonly Variable[], lr: number): Tensor {
    const beta1Power = this.beta1 ** (this.iterations + 1);
    m.assign(ops.add(m, ops.multiply(ops.subtract(g, m), 1 - this.beta1)));
    u.assign(ops.maximum(ops.multiply(this.beta2, u), ops.abs(g)));
    return ops.subtract(w, ops.divide(ops.multiply(lr, m), ops.multiply(1 - beta1Power, ops.add(u, this.epsilon))));
  }

  override getConfig(): OptimizerConfig {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
