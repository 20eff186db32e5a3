/**
 * kiln.metrics: Keras 3's stateful metrics. Each keeps its state in non-trainable Variables,
 * accumulates it with `updateState(yTrue, yPred, sampleWeight?)`, and reports `result()`.
 * @example
 * const m = kiln.metrics.getMetric('accuracy', { yTrueShape: [null], yPredShape: [null, 10] });
 * m.updateState(labels, logits);   // sparse categorical accuracy, named 'accuracy' in logs
 */
import { fail } from '../src/errors.js';
import type { Dim } from '../src/shape.js';
import { Registry, isSerialized, serialize, type Serialized } from '../src/registry.js';
import {
  Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
  TopKCategoricalAccuracy, accuracy, binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy,
  sparseTopKCategoricalAccuracy, topKCategoricalAccuracy,
} from './accuracy.js';
import { AUC } from './auc.js';
import { Precision, Recall } from './confusion.js';
import { F1Score, FBetaScore } from './fscore.js';
import { Mean, MeanMetricWrapper, Metric, Sum, type MetricConfig, type MetricFn } from './metric.js';
import {
  MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, R2Score, RootMeanSquaredError,
  meanAbsoluteError, meanAbsolutePercentageError, meanSquaredError,
} from './regression.js';

export { Metric, MeanBase, Mean, Sum, MeanMetricWrapper, type MetricConfig, type MetricOptions, type MetricFn } from './metric.js';
export {
  Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
  SparseTopKCategoricalAccuracy, accuracy, binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy,
  topKCategoricalAccuracy, sparseTopKCategoricalAccuracy, inTopK,
} from './accuracy.js';
export {
  MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, RootMeanSquaredError, R2Score,
  meanSquaredError, meanAbsoluteError, meanAbsolutePercentageError, type R2Aggregation,
} from './regression.js';
export { Precision, Recall, type ThresholdOptions } from './confusion.js';
export { AUC, type AUCOptions, type AUCCurve, type AUCSummation } from './auc.js';
export { FBetaScore, F1Score, type FScoreOptions, type FScoreAverage } from './fscore.js';

export type MetricClass = new (config?: any) => Metric;

/**
 * Metrics that score labels against predictions, by class name and Keras's string ids, matched
 * exactly. 'accuracy' and 'acc' are no ids here: getMetric picks the accuracy by context.
 */
const METRICS = new Registry<MetricClass>('metric').registerAll([
  [Accuracy], [BinaryAccuracy, 'binary_accuracy'], [CategoricalAccuracy, 'categorical_accuracy'],
  [SparseCategoricalAccuracy, 'sparse_categorical_accuracy'], [TopKCategoricalAccuracy, 'top_k_categorical_accuracy'],
  [SparseTopKCategoricalAccuracy, 'sparse_top_k_categorical_accuracy'],
  [MeanSquaredError, 'mean_squared_error', 'mse', 'MSE'], [MeanAbsoluteError, 'mean_absolute_error', 'mae', 'MAE'],
  [MeanAbsolutePercentageError, 'mean_absolute_percentage_error', 'mape', 'MAPE'],
  [RootMeanSquaredError, 'root_mean_squared_error'], [R2Score, 'r2_score'], [Precision, 'precision'], [Recall, 'recall'],
  [AUC, 'auc'], [F1Score, 'f1_score'], [FBetaScore, 'f_beta_score'],
]);

/** Mean and Sum take values, not labels: a saved config may name them, a string id may not. */
const VALUE_METRICS = new Registry<MetricClass>('metric class').register(Mean).register(Sum);

/** The per-sample functions a saved MeanMetricWrapper may name, by the function names it saves. */
const FUNCTIONS = new Registry<MetricFn>('metric function')
  .add(accuracy, ['accuracy'])
  .add(binaryAccuracy, ['binaryAccuracy'])
  .add(categoricalAccuracy, ['categoricalAccuracy'])
  .add(sparseCategoricalAccuracy, ['sparseCategoricalAccuracy'])
  .add(topKCategoricalAccuracy, ['topKCategoricalAccuracy'])
  .add(sparseTopKCategoricalAccuracy, ['sparseTopKCategoricalAccuracy'])
  .add(meanSquaredError, ['meanSquaredError'])
  .add(meanAbsoluteError, ['meanAbsoluteError'])
  .add(meanAbsolutePercentageError, ['meanAbsolutePercentageError']);

export type SerializedMetric = Serialized<MetricConfig>;

export interface MetricContext {
  /** The loss the metric is compiled with (an id, function or loss object): picks the accuracy. */
  loss?: unknown;
  yTrueShape?: readonly Dim[];
  yPredShape?: readonly Dim[];
}

export type MetricIdentifier = string | Metric | MetricFn | MetricClass | SerializedMetric;

type AccuracyKind = 'binary' | 'sparse' | 'categorical';

/** What a loss says about the labels: only the three crossentropies say anything. */
function lossKind(loss: unknown): AccuracyKind | null {
  const names: unknown[] = [];
  if (typeof loss === 'string') names.push(loss);
  else if (typeof loss === 'function') names.push(loss.name, (loss as { className?: string }).className);
  else if (loss !== null && typeof loss === 'object') {
    const ctor = (loss as object).constructor as { className?: string; name?: string } | undefined;
    names.push(ctor?.className, ctor?.name, (loss as { name?: unknown }).name);
  }
  for (const n of names) {
    const key = typeof n === 'string' ? n.toLowerCase().replace(/[^a-z]/g, '') : '';
    if (key === 'binarycrossentropy' || key === 'bce') return 'binary';
    if (key === 'sparsecategoricalcrossentropy') return 'sparse';
    if (key === 'categoricalcrossentropy') return 'categorical';
  }
  return null;
}

/**
 * Keras's choice for 'accuracy': the loss decides when it is a crossentropy; otherwise the
 * shapes do: binary when yPred's last dim is 1, sparse when yTrue has a dimension less than
 * yPred (or a last dim of 1 against yPred's > 1), categorical otherwise.
 */
function accuracyKind(id: string, { loss, yTrueShape, yPredShape }: MetricContext): AccuracyKind {
  const fromLoss = lossKind(loss);
  if (fromLoss) return fromLoss;
  if (!yPredShape) {
    fail('getMetric', `'${id}' needs a crossentropy loss or the shape of yPred (and yTrue) to choose between binary, categorical and sparse categorical accuracy`);
  }
  const predLast = yPredShape.at(-1);
  if (predLast === 1) return 'binary';
  if (yTrueShape && (yTrueShape.length < yPredShape.length || (yTrueShape.at(-1) === 1 && predLast !== null && predLast !== undefined && predLast > 1))) {
    return 'sparse';
  }
  return 'categorical';
}

const isMetricClass = (x: unknown): x is MetricClass => typeof x === 'function' && x.prototype instanceof Metric;

/**
 * A Metric from what compile's `metrics` accepts (a MetricIdentifier): an instance (returned as
 * is), a metric class, a per-sample function (wrapped in MeanMetricWrapper, named after it), a
 * serialized metric, or a Keras string id. A string names the metric in logs as given ('mse'
 * logs as 'mse'). Anything else fails, listing the known ids.
 */
export function getMetric(id: MetricIdentifier | unknown, context: MetricContext = {}): Metric {
  if (id instanceof Metric) return id;
  if (isMetricClass(id)) return new id();
  if (typeof id === 'function') return new MeanMetricWrapper(id as MetricFn, { name: id.name || undefined });
  if (isSerialized(id)) return deserializeMetric(id as SerializedMetric);
  if (typeof id !== 'string') return fail('getMetric', `expected a metric id, function or Metric, got ${id === null ? 'null' : typeof id}`);
  const lower = id.toLowerCase();
  if (lower === 'accuracy' || lower === 'acc') {
    const kind = accuracyKind(id, context);
    const Cls = kind === 'binary' ? BinaryAccuracy : kind === 'sparse' ? SparseCategoricalAccuracy : CategoricalAccuracy;
    return new Cls({ name: id });
  }
  return new (checkMetricId(id, 'getMetric'))({ name: id });
}

/**
 * The class a string metric id other than 'accuracy' names; compile calls it so that a typo fails
 * there, not at the first batch, where the shapes that resolve 'accuracy' become known.
 */
export function checkMetricId(id: string, op: string): MetricClass {
  const Cls = METRICS.get(id);
  if (!Cls) fail(op, `unknown metric '${id}'; known ids: accuracy, acc, ${METRICS.ids().join(', ')}`);
  return Cls;
}

/** The class name and config of a metric: plain JSON that getMetric turns back into it. */
export function serializeMetric(metric: Metric): SerializedMetric {
  if (!(metric instanceof Metric)) fail('serializeMetric', `expected a Metric, got ${metric === null ? 'null' : typeof metric}`);
  return serialize(metric);
}

function deserializeMetric({ className, config }: SerializedMetric): Metric {
  if (className === MeanMetricWrapper.className) {
    const fn = FUNCTIONS.get(config.fn);
    if (!fn) fail('getMetric', `cannot rebuild MeanMetricWrapper '${config.name}': its function '${String(config.fn)}' is not a kiln metric function; pass the function itself`);
    return new MeanMetricWrapper(fn, { name: config.name, dtype: config.dtype });
  }
  const Cls = METRICS.getClass(className) ?? VALUE_METRICS.getClass(className);
  if (!Cls) {
    fail('getMetric', `unknown metric class '${className}'; known: ${[...METRICS.classNames(), ...VALUE_METRICS.classNames(), MeanMetricWrapper.className].join(', ')}`);
  }
  return new Cls(config);
}
