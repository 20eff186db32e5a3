import type { LayerArgs, LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { Cropping } from './base-cropping.js';

/**
 * Steps cut from the start and end of sequences [batch, steps, channels]
 * (keras.layers.Cropping1D). `cropping` is [1, 1] by default, an integer for both ends or a
 * [start, end] pair; at least one step must remain.
 * @example
 * new kiln.layers.Cropping1D([1, 2]).apply(kiln.ones([4, 6, 3])).shape;   // [4, 3, 3]
 */
export class Cropping1D extends Cropping {
  static readonly className = 'Cropping1D';

  constructor(cropping: number | readonly [number, number] = [1, 1], args: LayerArgs = {}) {
    super(1, cropping, args);
  }

  /** Keras's Cropping1D takes no dataFormat: its steps are always axis 1. */
  override getConfig(): LayerConfig {
    const { dataFormat, ...config } = super.getConfig();
    return config as LayerConfig;
  }

  static fromConfig(config: LayerConfig): Cropping1D {
    return new Cropping1D(config.cropping as [number, number], optionsFromConfig(config));
  }
}
