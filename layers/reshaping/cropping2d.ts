import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import type { EdgeWidths } from './edge-widths.js';
import { Cropping, type CroppingOptions } from './base-cropping.js';

/**
 * Rows and columns cut from the edges of images (keras.layers.Cropping2D): [batch, height,
 * width, channels] (channelsLast) or [batch, channels, height, width]. `cropping` is 0 by
 * default: an integer for every side, [height, width] (each for both its sides), or
 * [[top, bottom], [left, right]]; at least one row and one column must remain.
 * @example
 * new kiln.layers.Cropping2D([[2, 2], [4, 4]]).apply(kiln.ones([2, 28, 28, 3])).shape;   // [2, 24, 20, 3]
 */
export class Cropping2D extends Cropping {
  static readonly className = 'Cropping2D';

  constructor(cropping: EdgeWidths = 0, options: CroppingOptions = {}) {
    super(2, cropping, options);
  }

  static fromConfig(config: LayerConfig): Cropping2D {
    return new Cropping2D(config.cropping as EdgeWidths, optionsFromConfig<CroppingOptions>(config));
  }
}
