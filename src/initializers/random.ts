import type { DType } from '../../backends/contract.js';
import { normal, truncatedNormal, uniform } from '../random.js';
import type { Tensor } from '../tensor.js';
import { RandomInitializer, type SeedOptions } from './initializer.js';

/**
 * Normal draws (keras.initializers.RandomNormal): mean 0, stddev 0.05 by default.
 * @example
 * new kiln.initializers.RandomNormal({ stddev: 0.02, seed: 1 }).call([128, 64]);
 */
export class RandomNormal extends RandomInitializer {
  static readonly className: string = 'RandomNormal';
  readonly mean: number;
  readonly stddev: number;

  constructor({ mean = 0, stddev = 0.05, seed }: { mean?: number; stddev?: number } & SeedOptions = {}) {
    super(seed);
    this.mean = mean;
    this.stddev = stddev;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return normal(shape, { mean: this.mean, stddev: this.stddev, dtype, seed: this.seed });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mean: this.mean, stddev: this.stddev };
  }
}

/**
 * Uniform draws in [minval, maxval) (keras.initializers.RandomUniform): [-0.05, 0.05) by default.
 * @example
 * new kiln.initializers.RandomUniform({ minval: 0, maxval: 1, seed: 1 }).call([10]);
 */
export class RandomUniform extends RandomInitializer {
  static readonly className: string = 'RandomUniform';
  readonly minval: number;
  readonly maxval: number;

  constructor({ minval = -0.05, maxval = 0.05, seed }: { minval?: number; maxval?: number } & SeedOptions = {}) {
    super(seed);
    this.minval = minval;
    this.maxval = maxval;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return uniform(shape, { minval: this.minval, maxval: this.maxval, dtype, seed: this.seed });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), minval: this.minval, maxval: this.maxval };
  }
}

/**
 * Normal draws redrawn until within two stddev of the mean (keras.initializers.TruncatedNormal).
 * `stddev` is that of the normal before truncation, as in Keras.
 * @example
 * new kiln.initializers.TruncatedNormal({ stddev: 0.02, seed: 1 }).call([768, 768]);
 */
// the same parameters and config as RandomNormal; only the draw differs
export class TruncatedNormal extends RandomNormal {
  static override readonly className: string = 'TruncatedNormal';
  override call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return truncatedNormal(shape, { mean: this.mean, stddev: this.stddev, dtype, seed: this.seed });
  }
}
