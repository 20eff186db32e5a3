import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import type { EdgeWidths } from './edge-widths.js';
import { ZeroPadding, type ZeroPaddingOptions } from './base-zero-padding.js';

/**
 * Rows and columns of zeros around images (keras.layers.ZeroPadding2D): [batch, height, width,
 * channels] (channelsLast) or [batch, channels, height, width]. `padding` is 1 by default: an
 * integer for every side, [height, width] (each for both its sides), or
 * [[top, bottom], [left, right]].
 * @example
 * new kiln.layers.ZeroPadding2D([[1, 0], 2]).apply(kiln.ones([1, 4, 4, 3])).shape;   // [1, 5, 8, 3]
 */
export class ZeroPadding2D extends ZeroPadding {
  static readonly className = 'ZeroPadding2D';

  constructor(padding: EdgeWidths = 1, options: ZeroPaddingOptions = {}) {
    super(2, padding, options);
  }

  static fromConfig(config: LayerConfig): ZeroPadding2D {
    return new ZeroPadding2D(config.padding as EdgeWidths, optionsFromConfig<ZeroPaddingOptions>(config));
  }
}
