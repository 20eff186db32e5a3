import * as ops from '../../src/ops/index.js';
import { fail } from '../../src/errors.js';
import { isFloat } from '../../src/dtype.js';
import { unknownSpatial, type SpatialInts } from '../../src/ops/conv-options.js';
import type { Tensor } from '../../src/tensor.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { UpSampling, type UpSamplingOptions } from './base-up-sampling.js';
import { upsampleLinear } from './linear-upsample.js';

export type UpSampling2DInterpolation = 'nearest' | 'bilinear';

export interface UpSampling2DOptions extends UpSamplingOptions {
  /** 'nearest' (the default: rows and columns repeated) or 'bilinear' (half-pixel centers, as keras.ops.image.resize). */
  interpolation?: UpSampling2DInterpolation;
}

const INTERPOLATIONS: readonly string[] = ['nearest', 'bilinear'];

/**
 * Images [batch, height, width, channels] (channelsLast) or [batch, channels, height, width]
 * stretched by `size` ([2, 2] by default, or one integer for both), rows and columns repeated or
 * interpolated (keras.layers.UpSampling2D).
 * @example
 * new kiln.layers.UpSampling2D(2, { interpolation: 'bilinear' }).apply(kiln.ones([1, 4, 4, 3])).shape;   // [1, 8, 8, 3]
 */
export class UpSampling2D extends UpSampling {
  static readonly className = 'UpSampling2D';
  readonly interpolation: UpSampling2DInterpolation;

  constructor(size: SpatialInts = 2, { interpolation = 'nearest', ...options }: UpSampling2DOptions = {}) {
    super(2, size, options);
    // Keras lowercases it; its other methods (bicubic, lanczos) are not in kiln
    const method = typeof interpolation === 'string' ? interpolation.toLowerCase() : interpolation;
    if (!INTERPOLATIONS.includes(method)) fail(this.toString(), `interpolation must be 'nearest' or 'bilinear', got ${JSON.stringify(interpolation)}`);
    this.interpolation = method as UpSampling2DInterpolation;
  }

  protected override stretch(x: Tensor, axis: number, factor: number): Tensor {
    if (this.interpolation === 'nearest') return super.stretch(x, axis, factor);
    // the weights are fractions: integer images interpolate in the layer's float dtype
    const dtype = isFloat(x.dtype) ? x.dtype : this.dtype;
    // and they depend on the size: one known only at run time is interpolated when the model runs
    if (x.shape[axis] === null) return unknownSpatial(this.className, [x], x.shape, dtype);
    return upsampleLinear(ops.cast(x, dtype), axis, factor);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), interpolation: this.interpolation };
  }

  static fromConfig(config: LayerConfig): UpSampling2D {
    return new UpSampling2D(config.size as number[], optionsFromConfig<UpSampling2DOptions>(config));
  }
}
