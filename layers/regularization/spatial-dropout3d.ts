import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { SpatialDropout, type SpatialDropoutOptions } from './base-spatial-dropout.js';

/**
 * In training, drops whole feature maps of volumes [batch, depth, height, width, channels]
 * (channelsLast) or [batch, channels, depth, height, width] with probability `rate`, and scales
 * the rest by 1 / (1 - rate); the identity at inference (keras.layers.SpatialDropout3D).
 * @example
 * new kiln.layers.SpatialDropout3D(0.1).apply(x, { training: true });
 */
export class SpatialDropout3D extends SpatialDropout {
  static readonly className = 'SpatialDropout3D';

  constructor(rate: number, options: SpatialDropoutOptions = {}) {
    super(3, rate, options);
  }

  static fromConfig(config: LayerConfig): SpatialDropout3D {
    return new SpatialDropout3D(config.rate as number, optionsFromConfig<SpatialDropoutOptions>(config));
  }
}
