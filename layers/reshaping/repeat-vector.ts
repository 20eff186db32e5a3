import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

/**
 * Repeats each sample vector n times: [batch, features] → [batch, n, features]
 * (keras.layers.RepeatVector).
 * @example
 * new kiln.layers.RepeatVector(3).apply(kiln.zeros([2, 5])).shape;   // [2, 3, 5]
 */
export class RepeatVector extends Layer {
  static readonly className = 'RepeatVector';
  readonly n: number;

  constructor(n: number, args: LayerArgs = {}) {
    super(args);
    if (!Number.isInteger(n) || n < 1) fail(this.toString(), `n must be a positive integer, got ${String(n)}`);
    this.n = n;
  }

  call(x: Tensor): Tensor {
    if (x.rank !== 2) fail(this.toString(), `expects inputs of rank 2 [batch, features], got shape ${fmtShape(x.shape)}`);
    return ops.tile(ops.expandDims(x, 1), [1, this.n, 1]);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), n: this.n };
  }

  static fromConfig(config: LayerConfig): RepeatVector {
    return new RepeatVector(config.n as number, optionsFromConfig(config));
  }
}
