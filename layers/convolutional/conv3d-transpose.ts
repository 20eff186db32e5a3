import type { SpatialInts } from '../../src/ops/conv-options.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { BaseConvTranspose, type ConvTransposeOptions } from './base-conv-transpose.js';

/**
 * Transposed 3D convolution (keras.layers.Conv3DTranspose): upsamples volumes,
 * [batch, depth, height, width, channels] → [batch, depth', height', width', filters].
 * @example
 * const up = new kiln.layers.Conv3DTranspose(2, 2, { strides: 2 });
 * up.apply(kiln.zeros([1, 4, 4, 4, 3])).shape;   // [1, 8, 8, 8, 2]
 */
export class Conv3DTranspose extends BaseConvTranspose {
  static readonly className = 'Conv3DTranspose';

  constructor(filters: number, kernelSize: SpatialInts, options: ConvTransposeOptions = {}) {
    super(3, filters, kernelSize, options);
  }

  static fromConfig(config: LayerConfig): Conv3DTranspose {
    return new Conv3DTranspose(config.filters as number, config.kernelSize as number[], optionsFromConfig<ConvTransposeOptions>(config));
  }
}
