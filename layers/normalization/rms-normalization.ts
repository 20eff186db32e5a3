import * as ops from '../../src/ops/index.js';
import type { Dim, Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { checkAxisOption, checkBuiltFor, checkEpsilon, layerAxes } from './checks.js';

export interface RMSNormalizationOptions extends LayerArgs {
  /** The axis or axes normalized over, which 'scale' spans (default -1). */
  axis?: number | readonly number[];
  /** Added to the mean square (default 1e-6). */
  epsilon?: number;
}

/**
 * `x · rsqrt(mean(x²) + epsilon) · scale` over `axis`, with the learned 'scale' (initially ones)
 * shaped as the normalized axes (keras.layers.RMSNormalization, Zhang and Sennrich 2019).
 * @example
 * const rms = new kiln.layers.RMSNormalization();
 * rms.apply(kiln.tensor([[3, 4]]));   // [[3, 4]] / √12.5, nearly
 */
export class RMSNormalization extends Layer {
  static readonly className = 'RMSNormalization';
  readonly axis: number | number[];
  readonly epsilon: number;
  scale: Variable | null = null;
  /** The normalized axes (sorted, non-negative), their sizes and the input rank, once built. */
  private normalized = { axes: [] as number[], sizes: [] as number[], rank: 0 };

  constructor({ axis = -1, epsilon = 1e-6, ...args }: RMSNormalizationOptions = {}) {
    super(args);
    checkAxisOption(this, axis, true);
    this.axis = typeof axis === 'number' ? axis : [...axis];
    this.epsilon = checkEpsilon(this, epsilon);
  }

  override build(inputShape: Shape): void {
    const axes = layerAxes(this, this.axis, inputShape);
    const sizes = axes.map((a) => inputShape[a] as number);
    this.normalized = { axes, sizes, rank: inputShape.length };
    this.scale = this.addWeight('scale', sizes, { initializer: 'ones' });
  }

  call(x: Tensor): Tensor {
    const { axes, sizes, rank } = this.normalized;
    checkBuiltFor(this, x.shape, rank, axes, sizes);
    const t = x.dtype === this.dtype ? x : ops.cast(x, this.dtype);
    // 'scale' spans the normalized axes, which need not be the last ones: size 1 on the others
    const shape: Dim[] = Array.from({ length: rank }, () => 1);
    axes.forEach((a, i) => (shape[a] = sizes[i]));
    const scale = axes.length === 1 && axes[0] === rank - 1 ? this.scale!.value : ops.reshape(this.scale!.value, shape);
    return ops.rmsNormalization(t, { scale, axis: axes, epsilon: this.epsilon });
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), axis: this.axis, epsilon: this.epsilon };
  }

  static fromConfig(config: LayerConfig): RMSNormalization {
    return new RMSNormalization(optionsFromConfig(config));
  }
}
