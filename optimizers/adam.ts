import { Optimizer, checkNumber, type OptimizerConfig, type OptimizerOptions, type SlotSpec } from './optimizer.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';

export interface AdamOptions extends OptimizerOptions {
  /** Decay rate of the first-moment (mean) estimate. */
  beta1?: number;
  /** Decay rate of the second-moment (uncentered variance) estimate. */
  beta2?: number;
  /** Added to `sqrt(v)`: Kingma and Ba's "epsilon hat", outside the bias correction. */
  epsilon?: number;
  /** Divide by the running maximum of v (AMSGrad, Reddi et al. 2018). */
  amsgrad?: boolean;
}

const ADAM_OPTIONS = ['beta1', 'beta2', 'epsilon', 'amsgrad'];

/**
 * Adam (Kingma and Ba, 2014) as Keras 3 computes it: the bias corrections are folded into the
 * step size, `w -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon)`.
 * @example
 * const opt = new kiln.optimizers.Adam({ learningRate: 1e-3 });
 */
export class Adam extends Optimizer {
  static readonly className: string = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly amsgrad: boolean;

  constructor(options: AdamOptions = {}) {
    super({ learningRate: 0.001, name: 'adam' }, options, ADAM_OPTIONS);
    this.beta1 = checkNumber(this.name, 'beta1', options.beta1 ?? 0.9, 0, 1);
    this.beta2 = checkNumber(this.name, 'beta2', options.beta2 ?? 0.999, 0, 1);
    this.epsilon = checkNumber(this.name, 'epsilon', options.epsilon ?? 1e-7, 0);
    this.amsgrad = options.amsgrad ?? false;
  }

  protected slotSpecs(): SlotSpec[] {
    const slots = [{ name: 'momentum' }, { name: 'velocity' }];
    return this.amsgrad ? [...slots, { name: 'velocity_hat' }] : slots;
  }

  protected updateStep(g: Tensor, w: Variable, slots: readonly Variable[], lr: number): Tensor {
    const t = this.iterations + 1;
    const alpha = (lr * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
    return this.applyRule('adam', [alpha, this.beta1, this.beta2, this.epsilon], g, w, slots);
  }

  override getConfig(): OptimizerConfig {
    return { ...super.getConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad };
  }
}
