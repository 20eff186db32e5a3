import { Optimizer, checkNumber, type OptimizerConfig, type OptimizerOptions, type SlotSpec } from './optimizer.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';

export interface AdadeltaOptions extends OptimizerOptions {
  /** Decay rate of both running averages. */
  rho?: number;
  /** Added inside both square roots. */
  epsilon?: number;
}

/**
 * Adadelta (Zeiler, 2012), with Keras's learning rate on top (1.0 is the paper's form):
 * `G = rho G + (1-rho) g²; d = -sqrt(D + eps) / sqrt(G + eps) * g; D = rho D + (1-rho) d²; w += lr d`.
 * @example
 * const opt = new kiln.optimizers.Adadelta({ learningRate: 1.0 });
 */
export class Adadelta extends Optimizer {
  static readonly className = 'Adadelta';
  readonly rho: number;
  readonly epsilon: number;

  constructor(options: AdadeltaOptions = {}) {
    super({ learningRate: 0.001, name: 'adadelta' }, options, ['rho', 'epsilon']);
    this.rho = checkNumber(this.name, 'rho', options.rho ?? 0.95, 0, 1);
    this.epsilon = checkNumber(this.name, 'epsilon', options.epsilon ?? 1e-7, 0);
  }

  protected slotSpecs(): SlotSpec[] {
    return [{ name: 'accumulated_grad' }, { name: 'accumulated_delta_var' }];
  }

  protected updateStep(g: Tensor, w: Variable, [grads, deltas]: readonly Variable[], lr: number): Tensor {
    const rho = this.rho;
    const rms = (x: Variable) => ops.sqrt(ops.add(x, this.epsilon));
    grads.assign(ops.add(ops.multiply(rho, grads), ops.multiply(1 - rho, ops.square(g))));
    const delta = ops.negative(ops.divide(ops.multiply(rms(deltas), g), rms(grads)));
    deltas.assign(ops.add(ops.multiply(rho, deltas), ops.multiply(1 - rho, ops.square(delta))));
    return ops.add(w, ops.multiply(lr, delta));
  }

  override getConfig(): OptimizerConfig {
    return { ...super.getConfig(), rho: this.rho, epsilon: this.epsilon };
  }
}
