import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Dim, Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { addAffineWeights, affineConfig, checkAffine, type AffineOptions } from './affine.js';
import { checkAxisOption, checkBuiltFor, checkEpsilon, layerAxes } from './checks.js';

export interface GroupNormalizationOptions extends LayerArgs, AffineOptions {
  /** How many groups the channels split into (default 32); -1: one per channel (instance normalization). */
  groups?: number;
  /** The channels axis (default -1). */
  axis?: number;
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
}

/**
 * Splits the channels into `groups` groups of consecutive channels and normalizes each group of
 * each sample over its channels and every other non-batch axis, then scales by 'gamma' and shifts
 * by 'beta', one per channel (keras.layers.GroupNormalization, Wu and He 2018).
 * @example
 * const gn = new kiln.layers.GroupNormalization({ groups: 4 });
 * gn.apply(kiln.zeros([2, 8, 8, 16])).shape;   // [2, 8, 8, 16]; gamma and beta are [16]
 */
export class GroupNormalization extends Layer {
  static readonly className = 'GroupNormalization';
  override supportsMasking = true;
  readonly groups: number;
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  /** The channels axis (non-negative), its size, the groups it splits into and the input rank, once built. */
  private channels = { axis: 0, size: 0, groups: 0, rank: 0 };

  constructor(private readonly options: GroupNormalizationOptions = {}) {
    super(options);
    const { groups = 32, axis = -1, epsilon = 1e-3, center = true, scale = true } = options;
    if (!Number.isInteger(groups) || (groups <= 0 && groups !== -1)) {
      fail(this.toString(), `groups must be a positive integer (or -1 for one group per channel), got ${JSON.stringify(groups)}`);
    }
    checkAxisOption(this, axis, false);
    this.groups = groups;
    this.axis = axis;
    this.epsilon = checkEpsilon(this, epsilon);
    this.center = center;
    this.scale = scale;
    checkAffine(options);
  }

  override build(inputShape: Shape): void {
    const [axis] = layerAxes(this, this.axis, inputShape);
    if (axis === 0) fail(this.toString(), `axis ${this.axis} is the batch axis of inputs of shape ${fmtShape(inputShape)}; expected the channels axis`);
    const size = inputShape[axis] as number;
    const groups = this.groups === -1 ? size : this.groups;
    if (size % groups !== 0) {
      fail(this.toString(), `groups (${groups}) must divide the number of channels: inputs of shape ${fmtShape(inputShape)} have ${size} on axis ${this.axis}`);
    }
    this.channels = { axis, size, groups, rank: inputShape.length };
    const weights = addAffineWeights(this, [size], this.options, this.scale, this.center);
    this.gamma = weights.gamma;
    this.beta = weights.beta;
  }

  call(x: Tensor): Tensor {
    const { axis, size, groups, rank } = this.channels;
    checkBuiltFor(this, x.shape, rank, [axis], [size]);
    const t = x.dtype === this.dtype ? x : ops.cast(x, this.dtype);
    // the channels axis becomes [groups, size / groups]: each group's statistics are over every
    // axis but the batch and the groups
    const split = (shape: readonly Dim[]): Dim[] => [...shape.slice(0, axis), groups, size / groups, ...shape.slice(axis + 1)];
    const grouped = ops.reshape(t, split(t.shape));
    const reduce = Array.from({ length: rank + 1 }, (_, i) => i).filter((i) => i !== 0 && i !== axis);
    const [mean, variance] = ops.moments(grouped, reduce, { keepdims: true });
    const perChannel = split(t.shape.map(() => 1));
    let inv = ops.rsqrt(ops.add(variance, this.epsilon));
    if (this.gamma) inv = ops.multiply(inv, ops.reshape(this.gamma.value, perChannel));
    let shift = ops.multiply(ops.neg(mean), inv);
    if (this.beta) shift = ops.add(shift, ops.reshape(this.beta.value, perChannel));
    return ops.reshape(ops.add(ops.multiply(grouped, inv), shift), t.shape);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), groups: this.groups, axis: this.axis, epsilon: this.epsilon, ...affineConfig(this.options) };
  }

  static fromConfig(config: LayerConfig): GroupNormalization {
    return new GroupNormalization(optionsFromConfig(config));
  }
}
