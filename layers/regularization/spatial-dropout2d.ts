import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { SpatialDropout, type SpatialDropoutOptions } from './base-spatial-dropout.js';

/**
 * In training, drops whole feature maps of images [batch, height, width, channels]
 * (channelsLast) or [batch, channels, height, width] with probability `rate`, and scales the rest
 * by 1 / (1 - rate); the identity at inference (keras.layers.SpatialDropout2D).
 * @example
 * new kiln.layers.SpatialDropout2D(0.1, { seed: 1 }).apply(x, { training: true });
 */
export class SpatialDropout2D extends SpatialDropout {
  static readonly className = 'SpatialDropout2D';

  constructor(rate: number, options: SpatialDropoutOptions = {}) {
    super(2, rate, options);
  }

  static fromConfig(config: LayerConfig): SpatialDropout2D {
    return new SpatialDropout2D(config.rate as number, optionsFromConfig<SpatialDropoutOptions>(config));
  }
}
