import type { DType } from '../../backends/contract.js';
import { fail } from '../errors.js';
import { normal, truncatedNormal, uniform } from '../random.js';
import type { Tensor } from '../tensor.js';
import { RandomInitializer, type SeedOptions } from './initializer.js';

/**
 * Fan-in and fan-out of a weight shape, as Keras's `compute_fans`: a matrix is [in, out]; a
 * convolution kernel is [...spatial, in, out], each input and output unit seeing the product of
 * the spatial dims (the receptive field).
 */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  let receptiveField = 1;
  for (const d of shape.slice(0, -2)) receptiveField *= d;
  return { fanIn: shape[shape.length - 2] * receptiveField, fanOut: shape[shape.length - 1] * receptiveField };
}

export type FanMode = 'fan_in' | 'fan_out' | 'fan_avg';
export type Distribution = 'truncated_normal' | 'untruncated_normal' | 'uniform';

export interface VarianceScalingOptions extends SeedOptions {
  scale?: number;
  mode?: FanMode;
  /** 'normal' is accepted as Keras's old name for 'truncated_normal'. */
  distribution?: Distribution | 'normal';
}

/**
 * The stddev of a standard normal truncated to [-2, 2]: dividing by it makes the truncated
 * draws' stddev the one asked for (Keras's constant).
 */
const TRUNCATED_STDDEV = 0.87962566103423978;

/**
 * Draws scaled to the weight's fans (keras.initializers.VarianceScaling): variance
 * `scale / n` where n is fan-in, fan-out or their mean. Normal draws get stddev `sqrt(scale / n)`
 * (after truncation, for 'truncated_normal'); uniform draws lie in ±`sqrt(3 * scale / n)`.
 * @example
 * new kiln.initializers.VarianceScaling({ scale: 2, mode: 'fan_out', distribution: 'untruncated_normal', seed: 1 }).call([3, 3, 16, 32]);
 */
export class VarianceScaling extends RandomInitializer {
  static readonly className: string = 'VarianceScaling';
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: Distribution;

  constructor({ scale = 1, mode = 'fan_in', distribution = 'truncated_normal', seed }: VarianceScalingOptions = {}) {
    super(seed);
    const name = this.className;
    if (!(scale > 0)) fail(name, `scale must be a positive number, got ${scale}`);
    if (!['fan_in', 'fan_out', 'fan_avg'].includes(mode)) fail(name, `mode must be one of fan_in, fan_out, fan_avg, got '${mode}'`);
    const dist = String(distribution).toLowerCase();
    const resolved = dist === 'normal' ? 'truncated_normal' : dist;
    if (!['truncated_normal', 'untruncated_normal', 'uniform'].includes(resolved)) {
      fail(name, `distribution must be one of truncated_normal, untruncated_normal, uniform, got '${distribution}'`);
    }
    this.scale = scale;
    this.mode = mode;
    this.distribution = resolved as Distribution;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const { fanIn, fanOut } = computeFans(shape);
    const n = this.mode === 'fan_in' ? fanIn : this.mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
    const variance = this.scale / Math.max(1, n);
    const seed = this.seed;
    switch (this.distribution) {
      case 'truncated_normal':
        return truncatedNormal(shape, { stddev: Math.sqrt(variance) / TRUNCATED_STDDEV, dtype, seed });
      case 'untruncated_normal':
        return normal(shape, { stddev: Math.sqrt(variance), dtype, seed });
      case 'uniform': {
        const limit = Math.sqrt(3 * variance);
        return uniform(shape, { minval: -limit, maxval: limit, dtype, seed });
      }
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scale: this.scale, mode: this.mode, distribution: this.distribution };
  }
}

/**
 * The presets are VarianceScaling with fixed arguments; like Keras, their config is the seed
 * alone, so a preset saved and loaded stays the same class.
 */
abstract class VarianceScalingPreset extends VarianceScaling {
  override getConfig(): Record<string, unknown> {
    return { seed: this.seed ?? null };
  }
}

/**
 * Glorot (Xavier) uniform: ±sqrt(6 / (fanIn + fanOut)). Keras's default kernel initializer.
 * @example
 * new kiln.initializers.GlorotUniform({ seed: 1 }).call([784, 128]);
 */
export class GlorotUniform extends VarianceScalingPreset {
  static override readonly className: string = 'GlorotUniform';
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 1, mode: 'fan_avg', distribution: 'uniform', seed });
  }
}

/**
 * Glorot (Xavier) normal: truncated normal with stddev sqrt(2 / (fanIn + fanOut)).
 * @example
 * new kiln.initializers.GlorotNormal({ seed: 1 }).call([784, 128]);
 */
export class GlorotNormal extends VarianceScalingPreset {
  static override readonly className: string = 'GlorotNormal';
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 1, mode: 'fan_avg', distribution: 'truncated_normal', seed });
  }
}

/**
 * He normal: truncated normal with stddev sqrt(2 / fanIn), for ReLU networks.
 * @example
 * new kiln.initializers.HeNormal({ seed: 1 }).call([3, 3, 64, 128]);
 */
export class HeNormal extends VarianceScalingPreset {
  static override readonly className: string = 'HeNormal';
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 2, mode: 'fan_in', distribution: 'truncated_normal', seed });
  }
}

/**
 * He uniform: ±sqrt(6 / fanIn).
 * @example
 * new kiln.initializers.HeUniform({ seed: 1 }).call([256, 256]);
 */
export class HeUniform extends VarianceScalingPreset {
  static override readonly className: string = 'HeUniform';
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 2, mode: 'fan_in', distribution: 'uniform', seed });
  }
}

/**
 * LeCun normal: truncated normal with stddev sqrt(1 / fanIn), for SELU networks.
 * @example
 * new kiln.initializers.LecunNormal({ seed: 1 }).call([256, 256]);
 */
export class LecunNormal extends VarianceScalingPreset {
  static override readonly className: string = 'LecunNormal';
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 1, mode: 'fan_in', distribution: 'truncated_normal', seed });
  }
}

/**
 * LeCun uniform: ±sqrt(3 / fanIn).
 * @example
 * new kiln.initializers.LecunUniform({ seed: 1 }).call([256, 256]);
 */
export class LecunUniform extends VarianceScalingPreset {
  static override readonly className: string = 'LecunUniform';
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 1, mode: 'fan_in', distribution: 'uniform', seed });
  }
}

