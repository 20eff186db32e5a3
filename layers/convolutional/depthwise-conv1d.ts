import type { SpatialInts } from '../../src/ops/conv-options.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { BaseDepthwiseConv, type DepthwiseConvOptions } from './base-depthwise-conv.js';

/**
 * Depthwise 1D convolution (keras.layers.DepthwiseConv1D): each channel of [batch, steps,
 * channels] filtered on its own, giving channels · depthMultiplier channels.
 * @example
 * const dw = new kiln.layers.DepthwiseConv1D(5, { depthMultiplier: 2, padding: 'same' });
 * dw.apply(kiln.zeros([2, 30, 4])).shape;   // [2, 30, 8]
 */
export class DepthwiseConv1D extends BaseDepthwiseConv {
  static readonly className = 'DepthwiseConv1D';

  constructor(kernelSize: SpatialInts, options: DepthwiseConvOptions = {}) {
    super(1, kernelSize, options);
  }

  static fromConfig(config: LayerConfig): DepthwiseConv1D {
    return new DepthwiseConv1D(config.kernelSize as number[], optionsFromConfig<DepthwiseConvOptions>(config));
  }
}
