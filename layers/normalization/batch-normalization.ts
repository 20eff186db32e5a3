import * as ops from '../../src/ops/index.js';
import { ENGINE } from '../../src/engine.js';
import { fail, fmtShape } from '../../src/errors.js';
import { getInitializer, serializeInitializer, type InitializerId } from '../../src/initializers/index.js';
import type { Shape } from '../../src/shape.js';
import { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { addAffineWeights, affineConfig, checkAffine, type AffineOptions } from './affine.js';
import { checkAxisOption, checkBuiltFor, checkEpsilon, layerAxes } from './checks.js';

export interface BatchNormalizationOptions extends LayerArgs, AffineOptions {
  /** The features axis, which gets its own statistics (default -1; 1 for channels-first images). */
  axis?: number;
  /** How much of the moving statistics each training step keeps (default 0.99). */
  momentum?: number;
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  movingMeanInitializer?: InitializerId;
  movingVarianceInitializer?: InitializerId;
  /** Keras syncs the batch statistics across replicas; kiln trains on one device, so it changes nothing. */
  synchronized?: boolean;
}

/** Keras's backend.epsilon(), added to the kept count: an all-masked batch has moments 0, not NaN. */
const COUNT_EPSILON = 1e-7;

/**
 * Normalizes each feature to mean 0 and variance 1, then scales by 'gamma' and shifts by 'beta'
 * (keras.layers.BatchNormalization). In training it uses the batch's statistics and folds them
 * into the non-trainable 'moving_mean' and 'moving_variance', once per call:
 * `moving = moving · momentum + batch · (1 - momentum)`. Otherwise (evaluate, predict, and always
 * when `trainable` is false, as in Keras 3) it uses the moving statistics. Given a mask (one axis
 * fewer than the input: [batch, steps] for [batch, steps, features]), training takes the mean and
 * variance of the kept steps only; inference ignores it, and the output carries it on.
 * @example
 * const bn = new kiln.layers.BatchNormalization();
 * bn.apply(x, { training: true });   // batch statistics; the moving ones move toward them
 */
export class BatchNormalization extends Layer {
  static readonly className = 'BatchNormalization';
  override supportsMasking = true;
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly synchronized: boolean;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  movingMean: Variable | null = null;
  movingVariance: Variable | null = null;
  /** The features axis (non-negative), its size and the input rank, once built. */
  private features = { axis: 0, size: 0, rank: 0 };

  constructor(private readonly options: BatchNormalizationOptions = {}) {
    super(options);
    const { axis = -1, momentum = 0.99, epsilon = 1e-3, center = true, scale = true, synchronized = false } = options;
    checkAxisOption(this, axis, false);
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) fail(this.toString(), `momentum must be a number in [0, 1], got ${JSON.stringify(momentum)}`);
    this.axis = axis;
    this.momentum = momentum;
    this.epsilon = checkEpsilon(this, epsilon);
    this.center = center;
    this.scale = scale;
    this.synchronized = synchronized;
    checkAffine(options);
    for (const id of [options.movingMeanInitializer, options.movingVarianceInitializer]) if (id !== undefined) getInitializer(id);
  }

  override build(inputShape: Shape): void {
    const [axis] = layerAxes(this, this.axis, inputShape);
    const size = inputShape[axis] as number;
    this.features = { axis, size, rank: inputShape.length };
    const o = this.options;
    ({ gamma: this.gamma, beta: this.beta } = addAffineWeights(this, [size], o, this.scale, this.center));
    const state = { trainable: false } as const;
    this.movingMean = this.addWeight('moving_mean', [size], { ...state, initializer: o.movingMeanInitializer ?? 'zeros' });
    this.movingVariance = this.addWeight('moving_variance', [size], { ...state, initializer: o.movingVarianceInitializer ?? 'ones' });
  }

  call(x: Tensor, options: CallOptions = {}): Tensor {
    const { training } = options;
    const { axis, size, rank } = this.features;
    checkBuiltFor(this, x.shape, rank, [axis], [size]);
    const t = x.dtype === this.dtype ? x : ops.cast(x, this.dtype);
    const affine = { offset: this.beta?.value ?? null, scale: this.gamma?.value ?? null, epsilon: this.epsilon };
    if (!(training && this.trainable)) return ops.batchNormalization(t, this.movingMean!.value, this.movingVariance!.value, axis, affine);
    const reduce = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis);
    // the mask is read here only, where it counts: a graph records a layer that reads it as taking masks
    const { mask } = options;
    const [mean, variance] = mask == null ? ops.moments(t, reduce, { synchronized: this.synchronized }) : this.maskedMoments(t, mask, reduce);
    // a symbolic call only infers shapes: there are no statistics to keep
    if (t instanceof Tensor) this.updateMovingStatistics(mean, variance);
    return ops.batchNormalization(t, mean, variance, axis, affine);
  }

  /** The mean and variance over `reduce` of the entries whose step the mask keeps, as Keras 3's _moments. */
  private maskedMoments(t: Tensor, mask: Tensor, reduce: number[]): [Tensor, Tensor] {
    if (mask.rank !== t.rank - 1) fail(this.toString(), `expects a mask of one axis fewer than its input ${fmtShape(t.shape)}, got a mask of shape ${fmtShape(mask.shape)}`);
    // the mask spread over the features axis to the input's shape, which a symbolic call knows only through t
    const kept = ops.logicalAnd(ops.expandDims(ops.cast(mask, 'bool'), -1), ops.logicalOr(ops.cast(t, 'bool'), true));
    const count = ops.add(ops.sum(ops.cast(kept, t.dtype), reduce, true), COUNT_EPSILON);
    const mean = ops.divide(ops.sum(ops.where(kept, t, 0), reduce, true), count);
    const variance = ops.divide(ops.sum(ops.square(ops.where(kept, ops.subtract(t, mean), 0)), reduce, true), count);
    const size = [this.features.size];
    return [ops.reshape(mean, size), ops.reshape(variance, size)];
  }

  /**
   * Folds the batch statistics into the moving ones. Outside every tape: they are the layer's
   * state, not part of what a gradient differentiates; tidy frees the arithmetic, and assign
   * keeps the new values (and frees the old ones), so a training step holds no extra tensor.
   */
  private updateMovingStatistics(mean: Tensor, variance: Tensor): void {
    ENGINE.withoutTapes(() => ENGINE.tidy(() => {
      for (const [moving, batch] of [[this.movingMean!, mean], [this.movingVariance!, variance]] as const) {
        moving.assign(ops.add(ops.multiply(moving.value, this.momentum), ops.multiply(batch, 1 - this.momentum)));
      }
    }));
  }

  override getConfig(): LayerConfig {
    const o = this.options;
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      ...affineConfig(o),
      movingMeanInitializer: serializeInitializer(o.movingMeanInitializer ?? 'zeros'),
      movingVarianceInitializer: serializeInitializer(o.movingVarianceInitializer ?? 'ones'),
      synchronized: this.synchronized,
    };
  }

  static fromConfig(config: LayerConfig): BatchNormalization {
    return new BatchNormalization(optionsFromConfig(config));
  }
}
