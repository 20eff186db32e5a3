import { ENGINE, type Primitive } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { reshape } from '../ops/movement.js';
import { composedGrad } from './composed-grad.js';
import { fusedKernel } from './switch.js';

interface SoftmaxAttrs {
  log: boolean;
}

/** The gradient through softmax from its output: one pass per row instead of four ops. */
const SOFTMAX_GRAD: Primitive<SoftmaxAttrs> = {
  name: 'softmaxGrad',
  infer([dy]) {
    return { shape: dy.shape, dtype: dy.dtype };
  },
  run(backend, [dy, y], out, { log }) {
    backend.fused!.softmaxGrad!(dy, y, log, out);
  },
};

interface FusedSoftmaxAttrs extends SoftmaxAttrs {
  /** The op's composition over the last axis, whose gradient serves when the backward pass is recorded. */
  composed: (x: Tensor) => Tensor;
}

/** Softmax (or log-softmax) over the last axis of a [rows, n] tensor, as one kernel. */
const SOFTMAX: Primitive<FusedSoftmaxAttrs> = {
  name: 'softmax',
  infer([x]) {
    return { shape: x.shape, dtype: x.dtype };
  },
  run(backend, [x], out, { log }) {
    backend.fused!.softmax!(x, log, out);
  },
  grad(dy, inputs, y, { log, composed }, needs) {
    if (ENGINE.recording || !fusedKernel('softmaxGrad', inputs)) return composedGrad(composed, inputs, dy, needs);
    return [ENGINE.run(SOFTMAX_GRAD, [dy, y], { log })];
  },
};

/**
 * softmax or logSoftmax of float `x` over its last axis by the backend's fused kernel, or null
 * where there is none (the caller composes). `composed(x)` computes the same from primitives.
 */
export function fusedSoftmax(x: Tensor, log: boolean, composed: (x: Tensor) => Tensor): Tensor | null {
  if (x.rank === 0 || x.size === 0 || !fusedKernel('softmax', [x])) return null;
  const n = x.shape[x.rank - 1];
  const rows = x.rank === 2 ? x : reshape(x, [-1, n]);
  const y = ENGINE.run(SOFTMAX, [rows], { log, composed });
  return x.rank === 2 ? y : reshape(y, x.shape);
}
