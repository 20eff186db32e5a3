import { ENGINE, type Primitive } from '../engine.js';
import { isFloat } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { reshape } from '../ops/movement.js';
import { composedGrad } from './composed-grad.js';
import { fusedKernel } from './switch.js';

interface CrossEntropyAttrs {
  fromLogits: boolean;
  epsilon: number;
}

/** The rows' gradient with respect to pred, in one pass: softmax minus labels (from logits). */
const CROSS_ENTROPY_GRAD: Primitive<CrossEntropyAttrs> = {
  name: 'crossEntropyGrad',
  infer([pred]) {
    return { shape: pred.shape, dtype: pred.dtype };
  },
  run(backend, [pred, labels, dy], out, { fromLogits, epsilon }) {
    backend.fused!.crossEntropyGrad!(pred, labels, fromLogits, epsilon, dy, out);
  },
};

interface FusedCrossEntropyAttrs extends CrossEntropyAttrs {
  /** The loss's composition over [rows, n], whose gradient serves when the backward pass is recorded. */
  composed: (pred: Tensor, labels: Tensor) => Tensor;
}

/** Per-row crossentropy of [rows, n] predictions against [rows] class indices or [rows, n] probabilities. */
const CROSS_ENTROPY: Primitive<FusedCrossEntropyAttrs> = {
  name: 'crossEntropy',
  infer([pred]) {
    return { shape: [pred.shape[0]], dtype: pred.dtype };
  },
  run(backend, [pred, labels], out, { fromLogits, epsilon }) {
    backend.fused!.crossEntropy!(pred, labels, fromLogits, epsilon, out);
  },
  grad(dy, inputs, _out, { fromLogits, epsilon, composed }, needs) {
    // a gradient for the labels (probabilities a tape watches) comes from the composition
    if (ENGINE.recording || needs[1] || !fusedKernel('crossEntropyGrad', inputs)) {
      return composedGrad(composed, inputs, dy, needs);
    }
    return [ENGINE.run(CROSS_ENTROPY_GRAD, [inputs[0], inputs[1], dy], { fromLogits, epsilon }), null];
  },
};

/**
 * Crossentropy over the last axis of float `pred` [..., n] by the backend's fused kernel, or null
 * where there is none (the caller composes). `labels` are int32 class indices [...] (checked in
 * range by the caller) or probabilities [..., n] of pred's dtype; from probabilities, each row is
 * rescaled to sum 1 and clipped to [epsilon, 1 - epsilon] before the log, as Keras does.
 * `composed(pred, labels)` computes the same per-row values from primitives.
 */
export function fusedCrossEntropy(
  pred: Tensor, labels: Tensor, fromLogits: boolean, epsilon: number, composed: (pred: Tensor, labels: Tensor) => Tensor,
): Tensor | null {
  const sparse = labels.dtype === 'int32' && labels.rank === pred.rank - 1;
  const dense = labels.dtype === pred.dtype && labels.rank === pred.rank;
  if (!isFloat(pred.dtype) || pred.rank === 0 || pred.size === 0 || !(sparse || dense)) return null;
  if (!fusedKernel('crossEntropy', [pred, labels])) return null;
  const n = pred.shape[pred.rank - 1];
  const rows = pred.rank === 2 ? pred : reshape(pred, [-1, n]);
  const rowLabels = sparse ? (labels.rank === 1 ? labels : reshape(labels, [-1])) : labels.rank === 2 ? labels : reshape(labels, [-1, n]);
  const values = ENGINE.run(CROSS_ENTROPY, [rows, rowLabels], { fromLogits, epsilon, composed });
  return pred.rank === 2 ? values : reshape(values, pred.shape.slice(0, -1));
}
