import type { SpatialInts } from '../../src/ops/conv-options.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { BaseSeparableConv, type SeparableConvOptions } from './base-separable-conv.js';

/**
 * Separable 2D convolution (keras.layers.SeparableConv2D), Xception's building block: a
 * depthwise convolution of each channel, then a pointwise one into `filters` channels.
 * @example
 * const sep = new kiln.layers.SeparableConv2D(64, 3, { padding: 'same', depthMultiplier: 2 });
 * sep.apply(kiln.zeros([1, 32, 32, 16])).shape;   // [1, 32, 32, 64]
 */
export class SeparableConv2D extends BaseSeparableConv {
  static readonly className = 'SeparableConv2D';

  constructor(filters: number, kernelSize: SpatialInts, options: SeparableConvOptions = {}) {
    super(2, filters, kernelSize, options);
  }

  static fromConfig(config: LayerConfig): SeparableConv2D {
    return new SeparableConv2D(config.filters as number, config.kernelSize as number[], optionsFromConfig<SeparableConvOptions>(config));
  }
}
