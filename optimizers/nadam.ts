import { Optimizer, checkNumber, type OptimizerConfig, type OptimizerOptions, type SlotSpec } from './optimizer.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';

export interface NadamOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  /** Added to `sqrt(v_hat)`. */
  epsilon?: number;
}

/** Dozat's momentum schedule: the momentum at step t is `beta1 * (1 - 0.5 * 0.96^t)`. */
const DECAY = 0.96;

/**
 * Nadam (Dozat, 2015), Adam with Nesterov momentum, with Keras 3's momentum cache schedule:
 * `mu_t = beta1 (1 - 0.5 * 0.96^t)` and the running product of the mu's in the bias correction.
 * @example
 * const opt = new kiln.optimizers.Nadam({ learningRate: 2e-3 });
 */
export class Nadam extends Optimizer {
  static readonly className = 'Nadam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /**
   * The product of mu_1 … mu_step. Keras keeps it as state; it is a function of the step
   * alone, so it is recomputed here (same multiplications, same order) after a restore.
   */
  private product = { step: 0, value: 1 };

  constructor(options: NadamOptions = {}) {
    super({ learningRate: 0.001, name: 'nadam' }, options, ['beta1', 'beta2', 'epsilon']);
    this.beta1 = checkNumber(this.name, 'beta1', options.beta1 ?? 0.9, 0, 1);
    this.beta2 = checkNumber(this.name, 'beta2', options.beta2 ?? 0.999, 0, 1);
    this.epsilon = checkNumber(this.name, 'epsilon', options.epsilon ?? 1e-7, 0);
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'momentum' }, { name: 'velocity' }];
  }

  protected updateStep(g: Tensor, w: Variable, [m, v]: readonly Variable[], lr: number): Tensor {
    const t = this.iterations + 1;
    const beta1 = this.beta1;
    const uT = beta1 * (1 - 0.5 * DECAY ** t);
    const uNext = beta1 * (1 - 0.5 * DECAY ** (t + 1));
    const productT = this.muProduct(t);
    const productNext = productT * uNext;
    m.assign(ops.add(m, ops.multiply(ops.subtract(g, m), 1 - beta1)));
    v.assign(ops.add(v, ops.multiply(ops.subtract(ops.square(g), v), 1 - this.beta2)));
    const mHat = ops.add(ops.divide(ops.multiply(uNext, m), 1 - productNext), ops.divide(ops.multiply(1 - uT, g), 1 - productT));
    const vHat = ops.divide(v, 1 - this.beta2 ** t);
    return ops.subtract(w, ops.divide(ops.multiply(mHat, lr), ops.add(ops.sqrt(vHat), this.epsilon)));
  }

  private muProduct(t: number): number {
    if (this.product.step > t) this.product = { step: 0, value: 1 };
    while (this.product.step < t) {
      const k = ++this.product.step;
      this.product.value = this.product.value * this.beta1 * (1 - 0.5 * DECAY ** k);
    }
    return this.product.value;
  }

  override getConfig(): OptimizerConfig {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
