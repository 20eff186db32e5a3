import type { LayerArgs, LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { UpSampling } from './base-up-sampling.js';

/**
 * Each step of a sequence [batch, steps, channels] repeated `size` times (2 by default)
 * (keras.layers.UpSampling1D).
 * @example
 * new kiln.layers.UpSampling1D(3).apply(kiln.ones([4, 5, 2])).shape;   // [4, 15, 2]
 */
export class UpSampling1D extends UpSampling {
  static readonly className = 'UpSampling1D';

  constructor(size = 2, args: LayerArgs = {}) {
    super(1, size, args);
  }

  /** Keras's UpSampling1D saves its one factor as a number and takes no dataFormat. */
  override getConfig(): LayerConfig {
    const { dataFormat, ...config } = super.getConfig();
    return { ...config, size: this.size[0] } as LayerConfig;
  }

  static fromConfig(config: LayerConfig): UpSampling1D {
    return new UpSampling1D(config.size as number, optionsFromConfig(config));
  }
}
