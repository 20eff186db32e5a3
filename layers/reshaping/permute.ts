import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

/**
 * Permutes the axes of each sample (keras.layers.Permute). `dims` counts from 1, as in Keras:
 * the batch axis 0 never moves.
 * @example
 * new kiln.layers.Permute([2, 1]).apply(kiln.zeros([8, 10, 64])).shape;   // [8, 64, 10]
 */
export class Permute extends Layer {
  static readonly className = 'Permute';
  readonly dims: number[];

  constructor(dims: readonly number[], args: LayerArgs = {}) {
    super(args);
    const sorted = Array.isArray(dims) ? [...dims].sort((a, b) => a - b) : [];
    if (!Array.isArray(dims) || dims.length === 0 || !sorted.every((d, i) => d === i + 1)) {
      fail(this.toString(), `dims must be a permutation of 1..n (the batch axis 0 stays), got ${JSON.stringify(dims)}`);
    }
    this.dims = [...dims];
  }

  call(x: Tensor): Tensor {
    if (x.rank !== this.dims.length + 1) {
      fail(this.toString(), `expects inputs of rank ${this.dims.length + 1} for dims ${JSON.stringify(this.dims)}, got shape ${fmtShape(x.shape)}`);
    }
    return ops.transpose(x, [0, ...this.dims]);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), dims: this.dims };
  }

  static fromConfig(config: LayerConfig): Permute {
    return new Permute(config.dims as number[], optionsFromConfig(config));
  }
}
