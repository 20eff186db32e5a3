import { averagePool } from '../../src/ops/pool.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import type { SpatialInts } from '../../src/ops/conv-options.js';
import { Pooling, type PoolingOptions } from './base-pooling.js';

// Keras 3 gives the average poolings no default poolSize (the max poolings have 2), so neither does kiln.

/**
 * The mean over windows of steps (keras.layers.AveragePooling1D): [batch, steps, channels]
 * (channelsLast) or [batch, channels, steps]; strides `poolSize` by default. With padding 'same'
 * an edge window averages only the steps it covers.
 * @example
 * new kiln.layers.AveragePooling1D(2).apply(kiln.tensor([[[1], [3], [2], [5], [4]]]));   // [[[2], [3.5]]]
 */
export class AveragePooling1D extends Pooling {
  static readonly className = 'AveragePooling1D';

  constructor(poolSize: SpatialInts, options: PoolingOptions = {}) {
    super(averagePool, 1, poolSize, options);
  }

  static fromConfig(config: LayerConfig): AveragePooling1D {
    return new AveragePooling1D(config.poolSize as number[], optionsFromConfig<PoolingOptions>(config));
  }
}

/**
 * The mean over windows of images (keras.layers.AveragePooling2D): [batch, height, width,
 * channels] (channelsLast) or [batch, channels, height, width].
 * @example
 * new kiln.layers.AveragePooling2D(2, { strides: 1 }).apply(kiln.zeros([8, 28, 28, 3])).shape;   // [8, 27, 27, 3]
 */
export class AveragePooling2D extends Pooling {
  static readonly className = 'AveragePooling2D';

  constructor(poolSize: SpatialInts, options: PoolingOptions = {}) {
    super(averagePool, 2, poolSize, options);
  }

  static fromConfig(config: LayerConfig): AveragePooling2D {
    return new AveragePooling2D(config.poolSize as number[], optionsFromConfig<PoolingOptions>(config));
  }
}

/**
 * The mean over windows of volumes (keras.layers.AveragePooling3D): [batch, depth, height, width,
 * channels] (channelsLast) or [batch, channels, depth, height, width].
 * @example
 * new kiln.layers.AveragePooling3D([1, 2, 2]).apply(kiln.zeros([1, 3, 4, 4, 2])).shape;   // [1, 3, 2, 2, 2]
 */
export class AveragePooling3D extends Pooling {
  static readonly className = 'AveragePooling3D';

  constructor(poolSize: SpatialInts, options: PoolingOptions = {}) {
    super(averagePool, 3, poolSize, options);
  }

  static fromConfig(config: LayerConfig): AveragePooling3D {
    return new AveragePooling3D(config.poolSize as number[], optionsFromConfig<PoolingOptions>(config));
  }
}
