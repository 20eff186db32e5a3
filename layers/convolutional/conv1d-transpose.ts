import type { SpatialInts } from '../../src/ops/conv-options.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { BaseConvTranspose, type ConvTransposeOptions } from './base-conv-transpose.js';

/**
 * Transposed 1D convolution (keras.layers.Conv1DTranspose): upsamples sequences,
 * [batch, steps, channels] → [batch, steps', filters].
 * @example
 * const up = new kiln.layers.Conv1DTranspose(4, 3, { strides: 2, padding: 'same' });
 * up.apply(kiln.zeros([2, 10, 8])).shape;   // [2, 20, 4]
 */
export class Conv1DTranspose extends BaseConvTranspose {
  static readonly className = 'Conv1DTranspose';

  constructor(filters: number, kernelSize: SpatialInts, options: ConvTransposeOptions = {}) {
    super(1, filters, kernelSize, options);
  }

  static fromConfig(config: LayerConfig): Conv1DTranspose {
    return new Conv1DTranspose(config.filters as number, config.kernelSize as number[], optionsFromConfig<ConvTransposeOptions>(config));
  }
}
