import { Optimizer, checkNumber, type OptimizerConfig, type OptimizerOptions, type SlotSpec } from './optimizer.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';

export interface AdagradOptions extends OptimizerOptions {
  /** Starting value of the sum of squared gradients (>= 0). */
  initialAccumulatorValue?: number;
  /** Added inside the square root. */
  epsilon?: number;
}

/**
 * Adagrad (Duchi et al., 2011): `a += g²; w -= lr * g / sqrt(a + epsilon)`. Per-parameter rates
 * shrink with the updates a parameter has received.
 * @example
 * const opt = new kiln.optimizers.Adagrad({ learningRate: 0.01 });
 */
export class Adagrad extends Optimizer {
  static readonly className = 'Adagrad';
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;

  constructor(options: AdagradOptions = {}) {
    super({ learningRate: 0.001, name: 'adagrad' }, options, ['initialAccumulatorValue', 'epsilon']);
    this.initialAccumulatorValue = checkNumber(this.name, 'initialAccumulatorValue', options.initialAccumulatorValue ?? 0.1, 0);
    this.epsilon = checkNumber(this.name, 'epsilon', options.epsilon ?? 1e-7, 0);
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'accumulator', initial: this.initialAccumulatorValue }];
  }

  protected updateStep(g: Tensor, w: Variable, slots: readonly Variable[], lr: number): Tensor {
    return this.applyRule('adagrad', [lr, this.epsilon], g, w, slots);
  }

  override getConfig(): OptimizerConfig {
    return { ...super.getConfig(), initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}
