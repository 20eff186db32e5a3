import { maxPool } from '../../src/ops/pool.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import type { SpatialInts } from '../../src/ops/conv-options.js';
import { Pooling, type PoolingOptions } from './base-pooling.js';

/**
 * The max over windows of steps (keras.layers.MaxPooling1D): [batch, steps, channels] (channelsLast)
 * or [batch, channels, steps]; `poolSize` 2 by default, strides `poolSize`.
 * @example
 * new kiln.layers.MaxPooling1D(2).apply(kiln.zeros([4, 10, 3])).shape;   // [4, 5, 3]
 */
export class MaxPooling1D extends Pooling {
  static readonly className = 'MaxPooling1D';

  constructor(poolSize: SpatialInts = 2, options: PoolingOptions = {}) {
    super(maxPool, 1, poolSize, options);
  }

  static fromConfig(config: LayerConfig): MaxPooling1D {
    return new MaxPooling1D(config.poolSize as number[], optionsFromConfig<PoolingOptions>(config));
  }
}

/**
 * The max over windows of images (keras.layers.MaxPooling2D): [batch, height, width, channels]
 * (channelsLast) or [batch, channels, height, width]; `poolSize` [2, 2] by default.
 * @example
 * new kiln.layers.MaxPooling2D(2).apply(kiln.zeros([8, 28, 28, 32])).shape;   // [8, 14, 14, 32]
 */
export class MaxPooling2D extends Pooling {
  static readonly className = 'MaxPooling2D';

  constructor(poolSize: SpatialInts = 2, options: PoolingOptions = {}) {
    super(maxPool, 2, poolSize, options);
  }

  static fromConfig(config: LayerConfig): MaxPooling2D {
    return new MaxPooling2D(config.poolSize as number[], optionsFromConfig<PoolingOptions>(config));
  }
}

/**
 * The max over windows of volumes (keras.layers.MaxPooling3D): [batch, depth, height, width,
 * channels] (channelsLast) or [batch, channels, depth, height, width]; `poolSize` [2, 2, 2] by default.
 * @example
 * new kiln.layers.MaxPooling3D(2, { padding: 'same' }).apply(kiln.zeros([1, 5, 4, 4, 2])).shape;   // [1, 3, 2, 2, 2]
 */
export class MaxPooling3D extends Pooling {
  static readonly className = 'MaxPooling3D';

  constructor(poolSize: SpatialInts = 2, options: PoolingOptions = {}) {
    super(maxPool, 3, poolSize, options);
  }

  static fromConfig(config: LayerConfig): MaxPooling3D {
    return new MaxPooling3D(config.poolSize as number[], optionsFromConfig<PoolingOptions>(config));
  }
}
