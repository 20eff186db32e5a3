import type { DType } from '../../backends/contract.js';
import { fail } from '../errors.js';
import { fill, zeros } from '../creation.js';
import type { Tensor } from '../tensor.js';
import { Initializer } from './initializer.js';

/**
 * All zeros.
 * @example
 * new kiln.initializers.Zeros().call([2, 3]); // float32 [2,3] of 0
 */
export class Zeros extends Initializer {
  static readonly className: string = 'Zeros';
  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return zeros(shape, dtype);
  }
}

/**
 * All ones.
 * @example
 * new kiln.initializers.Ones().call([3]); // [1, 1, 1]
 */
export class Ones extends Initializer {
  static readonly className: string = 'Ones';
  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return fill(shape, 1, dtype);
  }
}

/**
 * Every element set to `value` (default 0).
 * @example
 * new kiln.initializers.Constant({ value: 0.1 }).call([4]); // [0.1, 0.1, 0.1, 0.1]
 */
export class Constant extends Initializer {
  static readonly className: string = 'Constant';
  readonly value: number;

  constructor({ value = 0 }: { value?: number } = {}) {
    super();
    if (typeof value !== 'number') fail('Constant', `value must be a number, got ${typeof value}`);
    this.value = value;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return fill(shape, this.value, dtype);
  }

  override getConfig(): Record<string, unknown> {
    return { value: this.value };
  }
}

/**
 * Base of the random initializers. With a seed, every call draws the same values (as in Keras);
 * without one, each call draws from kiln's global stream, so `kiln.setSeed` makes it
 * reproducible. (Keras instead fixes a hidden seed per unseeded instance and warns when one is
 * reused: the same values in two layers is rarely what anyone wants.)
 */
