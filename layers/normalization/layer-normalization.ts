import * as ops from '../../src/ops/index.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { addAffineWeights, affineConfig, checkAffine, type AffineOptions } from './affine.js';
import { checkAxisOption, checkBuiltFor, checkEpsilon, layerAxes } from './checks.js';

export interface LayerNormalizationOptions extends LayerArgs, AffineOptions {
  /** The axis or axes normalized over, which 'gamma' and 'beta' span (default -1). */
  axis?: number | readonly number[];
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  /**
   * Keras's deprecated form: x · rsqrt(variance + epsilon) · gamma, no centering and no 'beta'.
   * RMSNormalization divides by the root mean square instead.
   */
  rmsScaling?: boolean;
}

/**
 * Normalizes each sample over `axis` to mean 0 and variance 1, then scales by 'gamma' and shifts
 * by 'beta', both shaped as the normalized axes (keras.layers.LayerNormalization).
 * @example
 * const ln = new kiln.layers.LayerNormalization({ axis: [1, 2] });
 * ln.apply(kiln.zeros([8, 4, 16])).shape;   // [8, 4, 16]; gamma and beta are [4, 16]
 */
export class LayerNormalization extends Layer {
  static readonly className = 'LayerNormalization';
  override supportsMasking = true;
  readonly axis: number | number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly rmsScaling: boolean;
  gamma: Variable | null = null;
  beta: Variable | null = null;
  /** The normalized axes (sorted, non-negative), their sizes and the input rank, once built. */
  private normalized = { axes: [] as number[], sizes: [] as number[], rank: 0 };

  constructor(private readonly options: LayerNormalizationOptions = {}) {
    super(options);
    const { axis = -1, epsilon = 1e-3, center = true, scale = true, rmsScaling = false } = options;
    checkAxisOption(this, axis, true);
    this.axis = typeof axis === 'number' ? axis : [...axis];
    this.epsilon = checkEpsilon(this, epsilon);
    this.center = center;
    this.scale = scale;
    this.rmsScaling = rmsScaling;
    checkAffine(options);
  }

  override build(inputShape: Shape): void {
    const axes = layerAxes(this, this.axis, inputShape);
    const sizes = axes.map((a) => inputShape[a] as number);
    this.normalized = { axes, sizes, rank: inputShape.length };
    // as Keras: rmsScaling keeps gamma and drops beta
    const weights = addAffineWeights(this, sizes, this.options, this.scale || this.rmsScaling, this.center && !this.rmsScaling);
    this.gamma = weights.gamma;
    this.beta = weights.beta;
  }

  call(x: Tensor): Tensor {
    const { axes, sizes, rank } = this.normalized;
    checkBuiltFor(this, x.shape, rank, axes, sizes);
    const t = x.dtype === this.dtype ? x : ops.cast(x, this.dtype);
    return ops.layerNormalization(t, {
      gamma: this.gamma?.value ?? null, beta: this.beta?.value ?? null, axis: axes, epsilon: this.epsilon, rmsScaling: this.rmsScaling,
    });
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), axis: this.axis, epsilon: this.epsilon, rmsScaling: this.rmsScaling, ...affineConfig(this.options) };
  }

  static fromConfig(config: LayerConfig): LayerNormalization {
    return new LayerNormalization(optionsFromConfig(config));
  }
}
