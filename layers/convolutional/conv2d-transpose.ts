import type { SpatialInts } from '../../src/ops/conv-options.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { BaseConvTranspose, type ConvTransposeOptions } from './base-conv-transpose.js';

/**
 * Transposed 2D convolution (keras.layers.Conv2DTranspose): upsamples images, as decoders and
 * U-Nets do, [batch, height, width, channels] → [batch, height', width', filters].
 * @example
 * const up = new kiln.layers.Conv2DTranspose(16, 3, { strides: 2, padding: 'same' });
 * up.apply(kiln.zeros([1, 7, 7, 32])).shape;   // [1, 14, 14, 16]
 */
export class Conv2DTranspose extends BaseConvTranspose {
  static readonly className = 'Conv2DTranspose';

  constructor(filters: number, kernelSize: SpatialInts, options: ConvTransposeOptions = {}) {
    super(2, filters, kernelSize, options);
  }

  static fromConfig(config: LayerConfig): Conv2DTranspose {
    return new Conv2DTranspose(config.filters as number, config.kernelSize as number[], optionsFromConfig<ConvTransposeOptions>(config));
  }
}
