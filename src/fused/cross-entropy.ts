import type { TensorInfo } from '../../backends/contract.js';
import { isFloat } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { divide, multiply } from '../ops/binary.js';
import { log, neg } from '../ops/unary.js';
import { sum } from '../ops/reduce.js';
import { clip } from '../ops/math.js';
import { takeAlongAxis } from '../ops/indexing.js';
import { expandDims, squeeze } from '../ops/movement.js';
import { logSoftmax } from '../ops/activations.js';
import { asFlat, asRows, defineFused } from './define.js';

export interface CrossEntropyOptions {
  /** Whether pred holds logits rather than probabilities. */
  fromLogits: boolean;
  /** Probabilities are clipped to [epsilon, 1 - epsilon] before the log (Keras's epsilon). */
  epsilon: number;
  /** pred's class axis, non-negative; the kernel takes the last one. */
  axis: number;
}

/**
 * log-probabilities along `axis`: log-softmax of logits, or probabilities rescaled to sum 1 and
 * kept in [epsilon, 1 - epsilon], as Keras computes them.
 */
export function logProbabilities(p: Tensor, axis: number, fromLogits: boolean, epsilon: number): Tensor {
  if (fromLogits) return logSoftmax(p, axis);
  return log(clip(divide(p, sum(p, axis, true)), epsilon, 1 - epsilon));
}

/** Class indices have no class axis; label rows have pred's shape. */
function sparse(predRank: number, labelsRank: number): boolean {
  return labelsRank === predRank - 1;
}

/** The labels as the kernels take them: [rows] class indices or [rows, n] label rows. */
function labelRows(pred: TensorInfo, labels: TensorInfo): TensorInfo {
  return sparse(pred.shape.length, labels.shape.length) ? asFlat(labels) : asRows(labels);
}

/** Keras's crossentropy from primitives: -log p[label], or -Σ t·log p over the class axis. */
function composedCrossEntropy([pred, labels]: readonly Tensor[], { fromLogits, epsilon, axis }: CrossEntropyOptions): Tensor {
  const logProb = logProbabilities(pred, axis, fromLogits, epsilon);
  if (sparse(pred.rank, labels.rank)) return neg(squeeze(takeAlongAxis(logProb, expandDims(labels, axis), axis), axis));
  return neg(sum(multiply(labels, logProb), axis));
}

const CROSS_ENTROPY = defineFused({
  kernel: 'crossEntropy',
  infer: ([pred], { axis }) => ({ shape: pred.shape.filter((_, i) => i !== axis), dtype: pred.dtype }),
  compose: composedCrossEntropy,
  applies: ([pred, labels], { axis }) =>
    isFloat(pred.dtype) && pred.size > 0 && axis === pred.rank - 1 &&
    (sparse(pred.rank, labels.rank) ? labels.dtype === 'int32' : labels.rank === pred.rank && labels.dtype === pred.dtype),
  run: (crossEntropy, [pred, labels], out, { fromLogits, epsilon }) =>
    crossEntropy(asRows(pred), labelRows(pred, labels), fromLogits, epsilon, asFlat(out)),
  // softmax minus the labels (from logits), in one pass per row
  backward: {
    kernel: 'crossEntropyGrad',
    infer: ([pred]) => [{ shape: pred.shape, dtype: pred.dtype }, null],
    // the labels' gradient (probabilities a tape watches) comes from the composition
    applies: (_inputs, _attrs, needs) => !needs[1],
    run: (crossEntropyGrad, dy, _y, [pred, labels], [dPred], { fromLogits, epsilon }) =>
      crossEntropyGrad(asRows(pred), labelRows(pred, labels), fromLogits, epsilon, asFlat(dy), asRows(dPred!)),
  },
});

/**
 * Per-row crossentropy of float `pred` against `labels` over pred's class `axis`, as Keras
 * computes it: labels are int32 class indices (pred's shape without the axis, checked in range
 * by the caller) or label rows of pred's shape. One fused kernel where the backend has it and
 * the axis is the last, else composed.
 */
export function crossEntropy(pred: Tensor, labels: Tensor, options: CrossEntropyOptions): Tensor {
  return CROSS_ENTROPY.apply([pred, labels], options);
}
