import type { SpatialInts } from '../../src/ops/conv-options.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { BaseSeparableConv, type SeparableConvOptions } from './base-separable-conv.js';

/**
 * Separable 1D convolution (keras.layers.SeparableConv1D): a depthwise convolution of each
 * channel, then a pointwise one into `filters` channels.
 * @example
 * const sep = new kiln.layers.SeparableConv1D(16, 3, { activation: 'relu' });
 * sep.apply(kiln.zeros([2, 20, 8])).shape;   // [2, 18, 16]
 */
export class SeparableConv1D extends BaseSeparableConv {
  static readonly className = 'SeparableConv1D';

  constructor(filters: number, kernelSize: SpatialInts, options: SeparableConvOptions = {}) {
    super(1, filters, kernelSize, options);
  }

  static fromConfig(config: LayerConfig): SeparableConv1D {
    return new SeparableConv1D(config.filters as number, config.kernelSize as number[], optionsFromConfig<SeparableConvOptions>(config));
  }
}
