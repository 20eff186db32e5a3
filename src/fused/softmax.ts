import { isFloat } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { divide, subtract } from '../ops/binary.js';
import { exp, log } from '../ops/unary.js';
import { max, sum } from '../ops/reduce.js';
import { stopGradient } from '../ops/stop-gradient.js';
import { asRows, defineFused } from './define.js';

interface SoftmaxAttrs {
  /** Sorted, normalized axes; the kernel takes the last one alone. */
  axes: readonly number[];
  /** Log-softmax rather than softmax. */
  log: boolean;
}

/**
 * x minus its max over `axes`, the max held constant: softmax and logSoftmax do not change under
 * the shift, so its gradient (zero in exact arithmetic) is not taken.
 */
function shifted(x: Tensor, axes: readonly number[]): Tensor {
  return subtract(x, stopGradient(max(x, axes, true)));
}

/** Softmax (log: log-softmax) over `axes` from primitives, max-shifted so that large inputs are exact. */
function composedSoftmax([x]: readonly Tensor[], { axes, log: isLog }: SoftmaxAttrs): Tensor {
  const s = shifted(x, axes);
  if (isLog) return subtract(s, log(sum(exp(s), axes, true)));
  const e = exp(s);
  return divide(e, sum(e, axes, true));
}

const SOFTMAX = defineFused({
  kernel: 'softmax',
  infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
  compose: composedSoftmax,
  applies: ([x], { axes }) => isFloat(x.dtype) && x.size > 0 && axes.length === 1 && axes[0] === x.rank - 1,
  run: (softmax, [x], out, { log: isLog }) => softmax(asRows(x), isLog, asRows(out)),
  // one pass per row from the output, instead of the composition's four ops
  backward: {
    kernel: 'softmaxGrad',
    infer: ([x]) => [{ shape: x.shape, dtype: x.dtype }],
    run: (softmaxGrad, dy, y, _inputs, [dx], { log: isLog }) => softmaxGrad(asRows(dy), asRows(y), isLog, asRows(dx!)),
  },
});

/**
 * Softmax (log: log-softmax) of float `x` over `axes` (normalized by the caller): the backend's
 * fused kernel over the last axis where it has one, else composed.
 */
export function fusedSoftmax(x: Tensor, axes: readonly number[], log: boolean): Tensor {
  return SOFTMAX.apply([x], { axes, log });
}
