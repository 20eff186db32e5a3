import { Optimizer, checkNumber, type OptimizerConfig, type OptimizerOptions, type SlotSpec } from './optimizer.js';
import * as ops from '../src/ops/index.js';
import type { UpdateRule } from '../backends/contract.js';
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

  protected updateStep(g: Tensor, w: Variable, [accumulator]: readonly Variable[], lr: number): Tensor {
    accumulator.assign(ops.add(accumulator, ops.square(g)));
    return ops.subtract(w, ops.divide(ops.multiply(lr, g), ops.sqrt(ops.add(accumulator, this.epsilon))));
  }

  protected override fusedRule(lr: number): { rule: UpdateRule; hyper: number[] } {
    return { rule: 'adagrad', hyper: [lr, this.epsilon] };
  }

  override getConfig(): OptimizerConfig {
    return { ...super.getConfig(), initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}
