import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { maximum, minimum } from './binary.js';
import { cast } from './select.js';

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
