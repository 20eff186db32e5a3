import * as ops from '../../src/ops/index.js';
import { fail } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { product } from '../../src/ops/movement.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export interface FlattenOptions extends LayerArgs {
  /**
   * Where images keep their channels. 'channels_first' inputs are moved to channels-last before
   * flattening, so a Dense after it sees the same order for either layout.
   */
  dataFormat?: 'channels_last' | 'channels_first';
}

/**
 * Flattens each sample: [batch, ...dims] → [batch, product(dims)] (keras.layers.Flatten).
 * A rank-1 input [batch] becomes [batch, 1].
 * @example
 * new kiln.layers.Flatten().apply(kiln.zeros([32, 28, 28])).shape;   // [32, 784]
 */
export class Flatten extends Layer {
  static readonly className = 'Flatten';
  readonly dataFormat: 'channels_last' | 'channels_first';

  constructor({ dataFormat = 'channels_last', ...args }: FlattenOptions = {}) {
    super(args);
    if (dataFormat !== 'channels_last' && dataFormat !== 'channels_first') {
      fail(this.toString(), `dataFormat must be 'channels_last' or 'channels_first', got ${JSON.stringify(dataFormat)}`);
    }
    this.dataFormat = dataFormat;
  }

  call(x: Tensor): Tensor {
    if (x.rank === 0) fail(this.toString(), 'expects inputs with a batch dimension, got a scalar');
    if (this.dataFormat === 'channels_first' && x.rank > 2) x = ops.moveaxis(x, 1, -1);
    const shape: Shape = x.shape;
    return ops.reshape(x, [shape[0], product(shape.slice(1)) ?? -1]);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), dataFormat: this.dataFormat };
  }

  static fromConfig(config: LayerConfig): Flatten {
    return new Flatten(optionsFromConfig(config));
  }
}
