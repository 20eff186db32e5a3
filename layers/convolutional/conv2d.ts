import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { BaseConv, type ConvOptions } from './base-conv.js';
import type { SpatialInts } from '../../src/ops/conv-options.js';

/**
 * 2D convolution over images (keras.layers.Conv2D): inputs [batch, height, width, channels]
 * (channelsLast) or [batch, channels, height, width].
 * @example
 * const conv = new kiln.layers.Conv2D(32, 3, { activation: 'relu' });
 * conv.apply(kiln.zeros([8, 28, 28, 1])).shape;   // [8, 26, 26, 32]
 */
export class Conv2D extends BaseConv {
  static readonly className = 'Conv2D';

  constructor(filters: number, kernelSize: SpatialInts, options: ConvOptions = {}) {
    super(2, filters, kernelSize, options);
  }

  static fromConfig(config: LayerConfig): Conv2D {
    return new Conv2D(config.filters as number, config.kernelSize as number[], optionsFromConfig<ConvOptions>(config));
  }
}
