import * as ops from '../../src/ops/index.js';
import { fail } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export interface ELUOptions extends LayerArgs {
  alpha?: number;
}

/**
 * x for x > 0, else alpha · (exp(x) - 1) (keras.layers.ELU).
 * @example
 * new kiln.layers.ELU({ alpha: 2 }).apply(kiln.tensor([-100, 1]));   // [-2, 1]
 */
export class ELU extends Layer {
  static readonly className = 'ELU';
  override supportsMasking = true;
  readonly alpha: number;

  constructor({ alpha = 1, ...args }: ELUOptions = {}) {
    super(args);
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) fail(this.toString(), `alpha must be a finite number, got ${String(alpha)}`);
    this.alpha = alpha;
  }

  call(x: Tensor): Tensor {
    return ops.elu(x, this.alpha);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), alpha: this.alpha };
  }

  static fromConfig(config: LayerConfig): ELU {
    return new ELU(optionsFromConfig(config));
  }
}
