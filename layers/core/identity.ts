import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

/**
 * Returns its input unchanged (keras.layers.Identity): a placeholder where a layer is optional.
 * @example
 * const skip = useNorm ? new kiln.layers.Normalization() : new kiln.layers.Identity();
 */
export class Identity extends Layer {
  static readonly className = 'Identity';
  override supportsMasking = true;

  call(x: Tensor): Tensor {
    return x;
  }

  static fromConfig(config: LayerConfig): Identity {
    return new Identity(optionsFromConfig(config));
  }
}
