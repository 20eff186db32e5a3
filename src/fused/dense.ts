import type { FusedActivation } from '../../backends/contract.js';
import { isFloat } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { add } from '../ops/binary.js';
import { matmul } from '../ops/matmul.js';
import { activate } from './activate.js';
import { asRows, defineFused } from './define.js';

interface DenseAttrs {
  activation: FusedActivation;
}

/** act(x · w + bias) from primitives; inputs are [x, w] or [x, w, bias]. */
function composedDense([x, w, bias]: readonly Tensor[], { activation }: DenseAttrs): Tensor {
  const y = matmul(x, w);
  return activate(bias ? add(y, bias) : y, activation);
}

const DENSE = defineFused({
  kernel: 'dense',
  infer: ([x, w]) => ({ shape: [...x.shape.slice(0, -1), w.shape[1]], dtype: x.dtype }),
  compose: composedDense,
  applies: ([x, w, bias]) =>
    isFloat(x.dtype) && w.dtype === x.dtype && (bias === undefined || bias.dtype === x.dtype) && x.size > 0 && w.size > 0,
  run: (dense, [x, w, bias], out, { activation }) => dense(asRows(x), w, bias ?? null, activation, asRows(out)),
  // the whole backward pass (activation, both matmuls and the bias sum) in one kernel
  backward: {
    kernel: 'denseGrad',
    infer: ([x, w, bias]) => [
      { shape: x.shape, dtype: x.dtype },
      { shape: w.shape, dtype: w.dtype },
      ...(bias ? [{ shape: bias.shape, dtype: bias.dtype }] : []),
    ],
    run: (denseGrad, dy, y, [x, w], [dx, dw, dBias], { activation }) =>
      denseGrad(asRows(dy), asRows(y), asRows(x), w, activation, dx && asRows(dx), dw, dBias ?? null),
  },
});

/**
 * act(x · w + bias) over the last axis of x (rank >= 2, last dim = w's first), as Dense computes
 * it: one fused kernel where the backend has it, else matmul, add and the activation. The
 * caller has checked the shapes.
 */
export function dense(x: Tensor, w: Tensor, bias: Tensor | null, activation: FusedActivation): Tensor {
  return DENSE.apply(bias ? [x, w, bias] : [x, w], { activation });
}
