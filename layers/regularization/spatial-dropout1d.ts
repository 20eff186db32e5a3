import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { SpatialDropout, type SpatialDropoutOptions } from './base-spatial-dropout.js';

/**
 * In training, drops whole channels of sequences [batch, steps, channels] with probability
 * `rate`, the same at every step, and scales the rest by 1 / (1 - rate); the identity at
 * inference (keras.layers.SpatialDropout1D).
 * @example
 * new kiln.layers.SpatialDropout1D(0.2).apply(x, { training: true });
 */
export class SpatialDropout1D extends SpatialDropout {
  static readonly className = 'SpatialDropout1D';

  constructor(rate: number, options: Omit<SpatialDropoutOptions, 'dataFormat'> = {}) {
    super(1, rate, options);
  }

  /** Keras's SpatialDropout1D takes no dataFormat: its channels are always last. */
  override getConfig(): LayerConfig {
    const { dataFormat, ...config } = super.getConfig();
    return config as LayerConfig;
  }

  static fromConfig(config: LayerConfig): SpatialDropout1D {
    return new SpatialDropout1D(config.rate as number, optionsFromConfig(config));
  }
}
