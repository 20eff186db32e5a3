import { asTensor, type TensorLike } from '../src/convert.js';
import { range } from '../src/creation.js';
import { fail } from '../src/errors.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import { MeanMetricWrapper, type MetricConfig, type MetricOptions } from './metric.js';
import { squeezeOrExpand } from '../losses/loss.js';

/** 1 where the prediction equals the label, averaged over the last axis. */
export function accuracy(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const p = asTensor(yPred, 'accuracy');
  const [t, q] = squeezeOrExpand(ops.cast(asTensor(yTrue, 'accuracy', p.dtype), p.dtype), p);
  return ops.mean(ops.cast(ops.equal(t, q), 'float32'), -1);
}

/** 1 where `yPred > threshold` matches the 0/1 label, averaged over the last axis. */
export function binaryAccuracy(yTrue: TensorLike, yPred: TensorLike, threshold = 0.5): Tensor {
  const [t, p] = squeezeOrExpand(asTensor(yTrue, 'binaryAccuracy'), asTensor(yPred, 'binaryAccuracy'));
  return ops.mean(ops.cast(ops.equal(t, ops.cast(ops.greater(p, threshold), t.dtype)), 'float32'), -1);
}

/** 1 where the argmax of the prediction is the argmax of the one-hot label. */
export function categoricalAccuracy(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return sparseMatches(ops.argmax(asTensor(yTrue, 'categoricalAccuracy'), -1), asTensor(yPred, 'categoricalAccuracy'), false);
}

/** 1 where the argmax of the prediction is the integer label ([N] or [N,1] labels). */
export function sparseCategoricalAccuracy(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return sparseMatches(asTensor(yTrue, 'sparseCategoricalAccuracy'), asTensor(yPred, 'sparseCategoricalAccuracy'), true);
}

/**
 * Labels against argmax(yPred). A label tensor with yPred's rank and a trailing 1 is compared
 * without that axis, and the matches keep the labels' shape (sparse drops the trailing 1 again).
 */
function sparseMatches(labels: Tensor, yPred: Tensor, sparse: boolean): Tensor {
  const squeeze = labels.rank === yPred.rank && (!sparse || labels.shape[labels.rank - 1] === 1);
  const t = squeeze ? ops.squeeze(labels, -1) : labels;
  let matches = ops.cast(ops.equal(t, ops.cast(ops.argmax(yPred, -1), t.dtype)), 'float32');
  if (squeeze) matches = ops.reshape(matches, labels.shape);
  return sparse && matches.rank > 1 && matches.shape[matches.rank - 1] === 1 ? ops.squeeze(matches, -1) : matches;
}

/**
 * Whether each target's score is among the k largest of its row (keras.ops.in_top_k), as a bool
 * per row of `predictions` [M, C]. A score tied with the k-th largest counts as in: the target
 * is in when fewer than k scores are strictly greater than its own, so ties never depend on
 * class order. A target out of [0, C) or with a NaN score is never in the top k, as in TF.
 */
export function inTopK(targets: Tensor, predictions: Tensor, k: number): Tensor {
  const hit = ops.equal(ops.expandDims(ops.cast(targets, 'int32'), -1), range(predictions.shape[1]));
  // a sum over the one-hot row, not a gather: an out-of-range target has no row to gather from
  const score = ops.sum(ops.where(hit, predictions, 0), -1, true);
  const greater = ops.sum(ops.greater(predictions, score), -1);
  return ops.logicalAnd(ops.logicalAnd(ops.less(greater, k), ops.any(hit, -1)), ops.logicalNot(ops.isnan(ops.squeeze(score, -1))));
}

/** Rows flattened to [M, C] and targets to [M]; the result takes the targets' shape back. */
function topKMatches(targets: Tensor, yPred: Tensor, k: number): Tensor {
  const p = yPred.rank > 2 ? ops.reshape(yPred, [-1, yPred.shape[yPred.rank - 1]]) : yPred;
  const t = targets.rank > 1 ? ops.reshape(targets, [-1]) : targets;
  const matches = ops.cast(inTopK(t, p, k), 'float32');
  return targets.rank > 1 ? ops.reshape(matches, targets.shape) : matches;
}

/** 1 where the one-hot label's class is among the k highest predictions. */
export function topKCategoricalAccuracy(yTrue: TensorLike, yPred: TensorLike, k = 5): Tensor {
  return topKMatches(ops.argmax(asTensor(yTrue, 'topKCategoricalAccuracy'), -1), asTensor(yPred, 'topKCategoricalAccuracy'), k);
}

/** 1 where the integer label is among the k highest predictions. */
export function sparseTopKCategoricalAccuracy(yTrue: TensorLike, yPred: TensorLike, k = 5): Tensor {
  return topKMatches(asTensor(yTrue, 'sparseTopKCategoricalAccuracy'), asTensor(yPred, 'sparseTopKCategoricalAccuracy'), k);
}

/**
 * How often predictions equal labels exactly.
 * @example
 * const m = new kiln.metrics.Accuracy();
 * m.updateState([[1], [2], [3], [4]], [[0], [2], [3], [4]]);   // result 0.75
 */
export class Accuracy extends MeanMetricWrapper {
  static override readonly className: string = 'Accuracy';

  constructor(options: MetricOptions = {}) {
    super(accuracy, { ...options, name: options.name ?? 'accuracy' });
  }

  override getConfig(): MetricConfig {
    return { name: this.name, dtype: this.dtype };
  }
}

/** How often `yPred > threshold` matches 0/1 labels (sigmoid outputs). */
export class BinaryAccuracy extends MeanMetricWrapper {
  static override readonly className: string = 'BinaryAccuracy';
  readonly threshold: number;

  constructor(options: MetricOptions & { threshold?: number } = {}) {
    const threshold = options.threshold ?? 0.5;
    super((t, p) => binaryAccuracy(t, p, threshold), { ...options, name: options.name ?? 'binary_accuracy' });
    if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) {
      fail(this.className, `threshold must be in (0, 1), got ${String(options.threshold)}`);
    }
    this.threshold = threshold;
  }

  override getConfig(): MetricConfig {
    return { name: this.name, dtype: this.dtype, threshold: this.threshold };
  }
}

/** How often argmax(yPred) matches one-hot labels (logits work as well as probabilities). */
export class CategoricalAccuracy extends MeanMetricWrapper {
  static override readonly className: string = 'CategoricalAccuracy';

  constructor(options: MetricOptions = {}) {
    super(categoricalAccuracy, { ...options, name: options.name ?? 'categorical_accuracy' });
  }

  override getConfig(): MetricConfig {
    return { name: this.name, dtype: this.dtype };
  }
}

/** How often argmax(yPred) matches integer labels. */
export class SparseCategoricalAccuracy extends MeanMetricWrapper {
  static override readonly className: string = 'SparseCategoricalAccuracy';

  constructor(options: MetricOptions = {}) {
    super(sparseCategoricalAccuracy, { ...options, name: options.name ?? 'sparse_categorical_accuracy' });
  }

  override getConfig(): MetricConfig {
    return { name: this.name, dtype: this.dtype };
  }
}

function checkK(op: string, k: number): number {
  if (!Number.isInteger(k) || k < 1) fail(op, `k must be a positive integer, got ${String(k)}`);
  return k;
}

/** How often the one-hot label's class is among the `k` (default 5) highest predictions. */
export class TopKCategoricalAccuracy extends MeanMetricWrapper {
  static override readonly className: string = 'TopKCategoricalAccuracy';
  readonly k: number;

  constructor(options: MetricOptions & { k?: number } = {}) {
    const k = checkK('TopKCategoricalAccuracy', options.k ?? 5);
    super((t, p) => topKCategoricalAccuracy(t, p, k), { ...options, name: options.name ?? 'top_k_categorical_accuracy' });
    this.k = k;
  }

  override getConfig(): MetricConfig {
    return { name: this.name, dtype: this.dtype, k: this.k };
  }
}

/** How often the integer label is among the `k` (default 5) highest predictions. */
export class SparseTopKCategoricalAccuracy extends MeanMetricWrapper {
  static override readonly className: string = 'SparseTopKCategoricalAccuracy';
  readonly k: number;

  constructor(options: MetricOptions & { k?: number } = {}) {
    const k = checkK('SparseTopKCategoricalAccuracy', options.k ?? 5);
    super((t, p) => sparseTopKCategoricalAccuracy(t, p, k), { ...options, name: options.name ?? 'sparse_top_k_categorical_accuracy' });
    this.k = k;
  }

  override getConfig(): MetricConfig {
    return { name: this.name, dtype: this.dtype, k: this.k };
  }
}
