import { max } from '../../src/ops/reduce.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { GlobalPooling, type GlobalPoolingOptions } from './base-global-pooling.js';

/**
 * The max over all steps, per channel (keras.layers.GlobalMaxPooling1D): [batch, steps, channels]
 * → [batch, channels] ([batch, 1, channels] with keepdims).
 * @example
 * new kiln.layers.GlobalMaxPooling1D().apply(kiln.tensor([[[1, 6], [4, 2]]]));   // [[4, 6]]
 */
export class GlobalMaxPooling1D extends GlobalPooling {
  static readonly className = 'GlobalMaxPooling1D';

  constructor(options: GlobalPoolingOptions = {}) {
    super(max, 1, options);
  }

  static fromConfig(config: LayerConfig): GlobalMaxPooling1D {
    return new GlobalMaxPooling1D(optionsFromConfig(config));
  }
}

/**
 * The max over height and width, per channel (keras.layers.GlobalMaxPooling2D).
 * @example
 * new kiln.layers.GlobalMaxPooling2D({ keepdims: true }).apply(kiln.zeros([8, 7, 7, 64])).shape;   // [8, 1, 1, 64]
 */
export class GlobalMaxPooling2D extends GlobalPooling {
  static readonly className = 'GlobalMaxPooling2D';

  constructor(options: GlobalPoolingOptions = {}) {
    super(max, 2, options);
  }

  static fromConfig(config: LayerConfig): GlobalMaxPooling2D {
    return new GlobalMaxPooling2D(optionsFromConfig(config));
  }
}

/**
 * The max over depth, height and width, per channel (keras.layers.GlobalMaxPooling3D).
 * @example
 * new kiln.layers.GlobalMaxPooling3D().apply(kiln.zeros([2, 4, 4, 4, 3])).shape;   // [2, 3]
 */
export class GlobalMaxPooling3D extends GlobalPooling {
  static readonly className = 'GlobalMaxPooling3D';

  constructor(options: GlobalPoolingOptions = {}) {
    super(max, 3, options);
  }

  static fromConfig(config: LayerConfig): GlobalMaxPooling3D {
    return new GlobalMaxPooling3D(optionsFromConfig(config));
  }
}
