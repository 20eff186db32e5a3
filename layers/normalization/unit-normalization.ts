import * as ops from '../../src/ops/index.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { axesOf, checkAxisOption } from './checks.js';

export interface UnitNormalizationOptions extends LayerArgs {
  /** The axis or axes whose L2 norm becomes 1 (default -1). */
  axis?: number | readonly number[];
}

/**
 * The squared norm is floored at 1e-24 (Keras's epsilon 1e-12, squared): an all-zero slice stays
 * zero, with a finite gradient.
 */
export const MIN_SQUARED_NORM = 1e-24;

/**
 * Scales each slice over `axis` to L2 norm 1: `x · rsqrt(max(sum(x²), 1e-24))`
 * (keras.layers.UnitNormalization). No weights.
 * @example
 * new kiln.layers.UnitNormalization().apply(kiln.tensor([[3, 4]]));   // [[0.6, 0.8]]
 */
export class UnitNormalization extends Layer {
  static readonly className = 'UnitNormalization';
  override supportsMasking = true;
  readonly axis: number | number[];

  constructor({ axis = -1, ...args }: UnitNormalizationOptions = {}) {
    super(args);
    checkAxisOption(this, axis, true);
    this.axis = typeof axis === 'number' ? axis : [...axis];
  }

  call(x: Tensor): Tensor {
    // Keras treats a scalar as a vector of one element
    const cast = x.dtype === this.dtype ? x : ops.cast(x, this.dtype);
    const t = cast.rank === 0 ? ops.reshape(cast, [1]) : cast;
    const axes = axesOf(this, this.axis, t.shape);
    const squared = ops.sum(ops.square(t), axes, true);
    return ops.multiply(t, ops.rsqrt(ops.maximum(squared, MIN_SQUARED_NORM)));
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), axis: this.axis };
  }

  static fromConfig(config: LayerConfig): UnitNormalization {
    return new UnitNormalization(optionsFromConfig(config));
  }
}
