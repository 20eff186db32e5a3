import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { BaseConv, type ConvOptions } from './base-conv.js';
import type { SpatialInts } from '../../src/ops/conv-options.js';

/**
 * 3D convolution over volumes or video (keras.layers.Conv3D): inputs
 * [batch, depth, height, width, channels] (channelsLast) or [batch, channels, depth, height, width].
 * @example
 * const conv = new kiln.layers.Conv3D(4, [3, 3, 3], { padding: 'same', strides: 2 });
 * conv.apply(kiln.zeros([2, 8, 16, 16, 3])).shape;   // [2, 4, 8, 8, 4]
 */
export class Conv3D extends BaseConv {
  static readonly className = 'Conv3D';

  constructor(filters: number, kernelSize: SpatialInts, options: ConvOptions = {}) {
    super(3, filters, kernelSize, options);
  }

  static fromConfig(config: LayerConfig): Conv3D {
    return new Conv3D(config.filters as number, config.kernelSize as number[], optionsFromConfig<ConvOptions>(config));
  }
}
