import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import type { EdgeWidths } from './edge-widths.js';
import { Cropping, type CroppingOptions } from './base-cropping.js';

/**
 * Elements cut from the edges of volumes (keras.layers.Cropping3D): [batch, depth, height,
 * width, channels] (channelsLast) or [batch, channels, depth, height, width]. `cropping` is 1 by
 * default: an integer for every side, one integer per axis, or a [before, after] pair per axis.
 * @example
 * new kiln.layers.Cropping3D([1, 0, [0, 2]]).apply(kiln.ones([1, 4, 4, 4, 1])).shape;   // [1, 2, 4, 2, 1]
 */
export class Cropping3D extends Cropping {
  static readonly className = 'Cropping3D';

  constructor(cropping: EdgeWidths = 1, options: CroppingOptions = {}) {
    super(3, cropping, options);
  }

  static fromConfig(config: LayerConfig): Cropping3D {
    return new Cropping3D(config.cropping as EdgeWidths, optionsFromConfig<CroppingOptions>(config));
  }
}
