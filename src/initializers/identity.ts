import type { DType } from '../../backends/contract.js';
import { fail } from '../errors.js';
import { tensorFrom } from '../convert.js';
import type { Tensor } from '../tensor.js';
import { Initializer } from './initializer.js';

/**
 * The identity matrix times `gain` (keras.initializers.Identity); 2-D shapes only, and a
 * non-square shape gets ones on the main diagonal.
 * @example
 * new kiln.initializers.Identity({ gain: 2 }).call([3, 3]); // 2·I
 */
export class Identity extends Initializer {
  static readonly className: string = 'Identity';
  readonly gain: number;

  constructor({ gain = 1 }: { gain?: number } = {}) {
    super();
    this.gain = gain;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    if (shape.length !== 2) {
      fail('Identity', `only 2-D shapes have an identity matrix, got [${shape.join(',')}] of rank ${shape.length}`);
    }
    const [rows, cols] = shape;
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < Math.min(rows, cols); i++) data[i * cols + i] = this.gain;
    return tensorFrom(data, shape, dtype, 'Identity');
  }

  override getConfig(): Record<string, unknown> {
    return { gain: this.gain };
  }
}
