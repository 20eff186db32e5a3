import * as ops from '../../src/ops/index.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export interface SoftmaxOptions extends LayerArgs {
  /** The axis, or axes, normalized over. */
  axis?: number | readonly number[];
}

/** What masked positions become before the softmax: exp underflows it to an exact 0. */
const LARGE_NEGATIVE = -1e9;

/**
 * exp(x) / sum(exp(x)) over `axis` (keras.layers.Softmax). A `mask` of the input's shape
 * (true or > 0.5 keeps a position) gives masked positions probability 0, and a row masked
 * throughout all zeros, as Keras 3.
 * @example
 * const sm = new kiln.layers.Softmax();
 * sm.apply(kiln.tensor([[1, 2, 1]]), { mask: kiln.tensor([[true, false, true]]) });   // [[0.5, 0, 0.5]]
 */
export class Softmax extends Layer {
  static readonly className = 'Softmax';
  override supportsMasking = true;
  readonly axis: number | number[];

  constructor({ axis = -1, ...args }: SoftmaxOptions = {}) {
    super(args);
    this.axis = typeof axis === 'number' ? axis : [...axis];
  }

  call(x: Tensor, { mask }: CallOptions = {}): Tensor {
    if (!mask) return ops.softmax(x, this.axis);
    const keep = mask.dtype === 'bool' ? mask : ops.greater(mask, 0.5);
    // zeros again after: a row masked throughout would otherwise come out uniform
    return ops.where(keep, ops.softmax(ops.where(keep, x, LARGE_NEGATIVE), this.axis), 0);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), axis: this.axis };
  }

  static fromConfig(config: LayerConfig): Softmax {
    return new Softmax(optionsFromConfig(config));
  }
}
