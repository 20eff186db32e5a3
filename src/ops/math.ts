import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { divide, equal, maximum, minimum } from './binary.js';
import { cast, where } from './select.js';

/**
 * `x` limited to [min, max] elementwise; bool counts as int32. At a bound the gradient still
 * goes to x (maximum's and minimum's ties do), as TF's clip_by_value does.
 * @example
 * kiln.ops.clip(kiln.tensor([-2, 0.5, 3]), 0, 1);   // [0, 0.5, 1]
 */
export function clip(x: TensorLike, min: TensorLike, max: TensorLike): Tensor {
  const t = asTensor(x, 'clip');
  return minimum(maximum(t.dtype === 'bool' ? cast(t, 'int32') : t, min), max);
}

/**
 * x / y, with 0 wherever y is 0 (keras.ops.divide_no_nan), whatever x is there. The divisor is
 * swapped for 1 at those positions before dividing, so their gradient is 0 rather than the
 * NaN or infinity that dividing by 0 would send back into x and y.
 * @example
 * kiln.ops.divideNoNan(kiln.tensor([1, 2, 3]), kiln.tensor([2, 0, 4]));   // [0.5, 0, 0.75]
 */
export function divideNoNan(x: TensorLike, y: TensorLike): Tensor {
  const zero = equal(y, 0);
  return where(zero, 0, divide(x, where(zero, 1, y)));
}
