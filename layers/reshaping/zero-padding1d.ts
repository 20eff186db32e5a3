import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { ZeroPadding, type ZeroPaddingOptions } from './base-zero-padding.js';

/**
 * Zeros before and after the steps of a sequence (keras.layers.ZeroPadding1D): [batch, steps,
 * channels] (channelsLast) or [batch, channels, steps]. `padding` is 1 by default, an integer for
 * both ends or a [before, after] pair.
 * @example
 * new kiln.layers.ZeroPadding1D([1, 2]).apply(kiln.ones([4, 5, 3])).shape;   // [4, 8, 3]
 */
export class ZeroPadding1D extends ZeroPadding {
  static readonly className = 'ZeroPadding1D';

  constructor(padding: number | readonly [number, number] = 1, options: ZeroPaddingOptions = {}) {
    super(1, padding, options);
  }

  static fromConfig(config: LayerConfig): ZeroPadding1D {
    return new ZeroPadding1D(config.padding as [number, number], optionsFromConfig<ZeroPaddingOptions>(config));
  }
}
