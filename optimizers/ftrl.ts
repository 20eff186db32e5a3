import { Optimizer, checkNumber, type OptimizerConfig, type OptimizerOptions, type SlotSpec } from './optimizer.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';

export interface FtrlOptions extends OptimizerOptions {
  /** How the per-coordinate rate falls with the accumulated squared gradient (<= 0; 0 keeps it fixed). */
  learningRatePower?: number;
  /** Starting value of the accumulated squared gradient (>= 0). */
  initialAccumulatorValue?: number;
  l1RegularizationStrength?: number;
  /** The paper's stabilizing L2 term. */
  l2RegularizationStrength?: number;
  /** An L2 penalty on the weights' magnitude, added to the gradient. */
  l2ShrinkageRegularizationStrength?: number;
  /** The paper's beta. */
  beta?: number;
}

const FTRL_OPTIONS = [
  'learningRatePower', 'initialAccumulatorValue', 'l1RegularizationStrength', 'l2RegularizationStrength',
  'l2ShrinkageRegularizationStrength', 'beta',
];

/**
 * FTRL-Proximal (McMahan et al., 2013), with Keras's online L2 and shrinkage L2. Per coordinate:
 * `n' = n + g²; z += g + 2 l2s w - (n'^-p - n^-p) / lr * w; w = (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 l2)`,
 * with `p` the learning rate power and `l2` including `beta / (2 lr)`.
 * @example
 * const opt = new kiln.optimizers.Ftrl({ learningRate: 0.1, l1RegularizationStrength: 0.01 });
 */
export class Ftrl extends Optimizer {
  static readonly className = 'Ftrl';
  readonly learningRatePower: number;
  readonly initialAccumulatorValue: number;
  readonly l1RegularizationStrength: number;
  readonly l2RegularizationStrength: number;
  readonly l2ShrinkageRegularizationStrength: number;
  readonly beta: number;

  constructor(options: FtrlOptions = {}) {
    super({ learningRate: 0.001, name: 'ftrl' }, options, FTRL_OPTIONS);
    const op = this.name;
    this.learningRatePower = checkNumber(op, 'learningRatePower', options.learningRatePower ?? -0.5, -Infinity, 0);
    this.initialAccumulatorValue = checkNumber(op, 'initialAccumulatorValue', options.initialAccumulatorValue ?? 0.1, 0);
    this.l1RegularizationStrength = checkNumber(op, 'l1RegularizationStrength', options.l1RegularizationStrength ?? 0, 0);
    this.l2RegularizationStrength = checkNumber(op, 'l2RegularizationStrength', options.l2RegularizationStrength ?? 0, 0);
    this.l2ShrinkageRegularizationStrength = checkNumber(
      op, 'l2ShrinkageRegularizationStrength', options.l2ShrinkageRegularizationStrength ?? 0, 0,
    );
    this.beta = checkNumber(op, 'beta', options.beta ?? 0);
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'accumulator', initial: this.initialAccumulatorValue }, { name: 'linear' }];
  }

  protected updateStep(g: Tensor, w: Variable, [accumulator, linear]: readonly Variable[], lr: number): Tensor {
    const power = -this.learningRatePower;
    const l1 = this.l1RegularizationStrength;
    const l2 = this.l2RegularizationStrength + this.beta / (2 * lr);
    const gradient = ops.add(g, ops.multiply(2 * this.l2ShrinkageRegularizationStrength, w));
    const next = ops.add(accumulator, ops.square(g));
    const sigma = ops.divide(ops.subtract(ops.power(next, power), ops.power(accumulator, power)), lr);
    linear.assign(ops.add(linear, ops.subtract(gradient, ops.multiply(sigma, w))));
    const quadratic = ops.add(ops.divide(ops.power(next, power), lr), 2 * l2);
    const clipped = ops.clip(linear, -l1, l1);
    accumulator.assign(next);
    return ops.divide(ops.subtract(clipped, linear), quadratic);
  }

  override getConfig(): OptimizerConfig {
    return {
      ...super.getConfig(),
      learningRatePower: this.learningRatePower,
      initialAccumulatorValue: this.initialAccumulatorValue,
      l1RegularizationStrength: this.l1RegularizationStrength,
      l2RegularizationStrength: this.l2RegularizationStrength,
      l2ShrinkageRegularizationStrength: this.l2ShrinkageRegularizationStrength,
      beta: this.beta,
    };
  }
}
