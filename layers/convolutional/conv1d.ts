import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { BaseConv, type ConvOptions } from './base-conv.js';
import type { SpatialInts } from '../../src/ops/conv-options.js';

/**
 * 1D convolution over sequences (keras.layers.Conv1D): inputs [batch, steps, channels]
 * (channelsLast) or [batch, channels, steps]. `padding: 'causal'` pads the past only, so that
 * output t sees inputs up to t (WaveNet's dilated causal convolutions).
 * @example
 * const conv = new kiln.layers.Conv1D(8, 3, { padding: 'causal', dilationRate: 2 });
 * conv.apply(kiln.zeros([4, 100, 16])).shape;   // [4, 100, 8]
 */
export class Conv1D extends BaseConv {
  static readonly className = 'Conv1D';

  constructor(filters: number, kernelSize: SpatialInts, options: ConvOptions = {}) {
    super(1, filters, kernelSize, options);
  }

  static fromConfig(config: LayerConfig): Conv1D {
    return new Conv1D(config.filters as number, config.kernelSize as number[], optionsFromConfig<ConvOptions>(config));
  }
}
