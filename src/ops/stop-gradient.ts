import { ENGINE } from '../engine.js';
import { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';

/**
 * The same values, cut off from autodiff: no gradient flows through (keras.ops.stop_gradient).
 * A view that the tape never records, so it costs no copy.
 * @example
 * const dx = kiln.grad((x) => kiln.ops.multiply(x, kiln.ops.stopGradient(x)))(kiln.tensor([3]));   // [3]
 */
export function stopGradient(x: TensorLike): Tensor {
  const t = asTensor(x, 'stopGradient');
  return t instanceof Tensor ? ENGINE.view(t) : t;
}
