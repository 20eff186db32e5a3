import * as ops from '../../src/ops/index.js';
import { fail } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export interface LeakyReLUOptions extends LayerArgs {
  /** The slope for x < 0: 0.3 in Keras 3's layer (its function, kiln.ops.leakyRelu, uses 0.2). */
  negativeSlope?: number;
}

/**
 * x for x > 0, else negativeSlope · x (keras.layers.LeakyReLU).
 * @example
 * new kiln.layers.LeakyReLU().apply(kiln.tensor([-10, 1]));   // [-3, 1]
 */
export class LeakyReLU extends Layer {
  static readonly className = 'LeakyReLU';
  override supportsMasking = true;
  readonly negativeSlope: number;

  constructor({ negativeSlope = 0.3, ...args }: LeakyReLUOptions = {}) {
    super(args);
    if (typeof negativeSlope !== 'number' || !(negativeSlope >= 0)) {
      fail(this.toString(), `negativeSlope must be a number >= 0, got ${String(negativeSlope)}`);
    }
    this.negativeSlope = negativeSlope;
  }

  call(x: Tensor): Tensor {
    return ops.leakyRelu(x, this.negativeSlope);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), negativeSlope: this.negativeSlope };
  }

  static fromConfig(config: LayerConfig): LeakyReLU {
    return new LeakyReLU(optionsFromConfig(config));
  }
}
