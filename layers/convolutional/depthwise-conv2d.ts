import type { SpatialInts } from '../../src/ops/conv-options.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { BaseDepthwiseConv, type DepthwiseConvOptions } from './base-depthwise-conv.js';

/**
 * Depthwise 2D convolution (keras.layers.DepthwiseConv2D), MobileNet's spatial step: each
 * channel of an image filtered on its own, giving channels · depthMultiplier channels.
 * @example
 * const dw = new kiln.layers.DepthwiseConv2D(3, { padding: 'same' });
 * dw.apply(kiln.zeros([1, 16, 16, 32])).shape;   // [1, 16, 16, 32]
 */
export class DepthwiseConv2D extends BaseDepthwiseConv {
  static readonly className = 'DepthwiseConv2D';

  constructor(kernelSize: SpatialInts, options: DepthwiseConvOptions = {}) {
    super(2, kernelSize, options);
  }

  static fromConfig(config: LayerConfig): DepthwiseConv2D {
    return new DepthwiseConv2D(config.kernelSize as number[], optionsFromConfig<DepthwiseConvOptions>(config));
  }
}
