import type { SpatialInts } from '../../src/ops/conv-options.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { UpSampling, type UpSamplingOptions } from './base-up-sampling.js';

/**
 * Volumes [batch, depth, height, width, channels] (channelsLast) or [batch, channels, depth,
 * height, width] stretched by `size` ([2, 2, 2] by default, or one integer for all three), each
 * element repeated (keras.layers.UpSampling3D).
 * @example
 * new kiln.layers.UpSampling3D([1, 2, 2]).apply(kiln.ones([1, 3, 4, 4, 2])).shape;   // [1, 3, 8, 8, 2]
 */
export class UpSampling3D extends UpSampling {
  static readonly className = 'UpSampling3D';

  constructor(size: SpatialInts = 2, options: UpSamplingOptions = {}) {
    super(3, size, options);
  }

  static fromConfig(config: LayerConfig): UpSampling3D {
    return new UpSampling3D(config.size as number[], optionsFromConfig<UpSamplingOptions>(config));
  }
}
