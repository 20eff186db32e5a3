import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import type { EdgeWidths } from './edge-widths.js';
import { ZeroPadding, type ZeroPaddingOptions } from './base-zero-padding.js';

/**
 * Zeros around volumes (keras.layers.ZeroPadding3D): [batch, depth, height, width, channels]
 * (channelsLast) or [batch, channels, depth, height, width]. `padding` is 1 by default: an
 * integer for every side, one integer per axis, or a [before, after] pair per axis.
 * @example
 * new kiln.layers.ZeroPadding3D([1, 0, 2]).apply(kiln.ones([1, 2, 2, 2, 1])).shape;   // [1, 4, 2, 6, 1]
 */
export class ZeroPadding3D extends ZeroPadding {
  static readonly className = 'ZeroPadding3D';

  constructor(padding: EdgeWidths = 1, options: ZeroPaddingOptions = {}) {
    super(3, padding, options);
  }

  static fromConfig(config: LayerConfig): ZeroPadding3D {
    return new ZeroPadding3D(config.padding as EdgeWidths, optionsFromConfig<ZeroPaddingOptions>(config));
  }
}
