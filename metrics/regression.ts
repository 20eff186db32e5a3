import { asTensor, type TensorLike } from '../src/convert.js';
import { fail } from '../src/errors.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import { MeanBase, MeanMetricWrapper, Metric, type MetricConfig, type MetricOptions } from './metric.js';
import { squeezeOrExpand } from '../losses/loss.js';
import { asType, checkRank, EPSILON, type LabelArgs } from './utils.js';

/** Labels cast to the predictions' dtype and matched to their rank, as Keras's losses do. */
function pair(yTrue: TensorLike, yPred: TensorLike, op: string): [Tensor, Tensor] {
  let p = asTensor(yPred, op);
  if (p.dtype !== 'float32' && p.dtype !== 'float64') p = ops.cast(p, 'float32');
  return squeezeOrExpand(asType(yTrue, p.dtype, op), p);
}

/** mean((yTrue - yPred)²) over the last axis. */
export function meanSquaredError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = pair(yTrue, yPred, 'meanSquaredError');
  return ops.mean(ops.square(ops.subtract(t, p)), -1);
}

/** mean(|yTrue - yPred|) over the last axis. */
export function meanAbsoluteError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = pair(yTrue, yPred, 'meanAbsoluteError');
  return ops.mean(ops.abs(ops.subtract(t, p)), -1);
}

/** 100 · mean(|yTrue - yPred| / max(|yTrue|, ε)) over the last axis: a zero label gives a huge value, not infinity. */
export function meanAbsolutePercentageError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = pair(yTrue, yPred, 'meanAbsolutePercentageError');
  return ops.multiply(ops.mean(ops.abs(ops.divide(ops.subtract(t, p), ops.maximum(ops.abs(t), EPSILON))), -1), 100);
}

/** The mean of squared errors over every sample seen. */
export class MeanSquaredError extends MeanMetricWrapper {
  static override readonly className: string = 'MeanSquaredError';

  constructor(options: MetricOptions = {}) {
    super(meanSquaredError, { ...options, name: options.name ?? 'mean_squared_error' });
  }

  override getConfig(): MetricConfig {
    return { name: this.name, dtype: this.dtype };
  }
}

/** The mean of absolute errors over every sample seen. */
export class MeanAbsoluteError extends MeanMetricWrapper {
  static override readonly className: string = 'MeanAbsoluteError';

  constructor(options: MetricOptions = {}) {
    super(meanAbsoluteError, { ...options, name: options.name ?? 'mean_absolute_error' });
  }

  override getConfig(): MetricConfig {
    return { name: this.name, dtype: this.dtype };
  }
}

/** The mean absolute percentage error over every sample seen. */
export class MeanAbsolutePercentageError extends MeanMetricWrapper {
  static override readonly className: string = 'MeanAbsolutePercentageError';

  constructor(options: MetricOptions = {}) {
    super(meanAbsolutePercentageError, { ...options, name: options.name ?? 'mean_absolute_percentage_error' });
  }

  override getConfig(): MetricConfig {
    return { name: this.name, dtype: this.dtype };
  }
}

/**
 * sqrt of the mean squared error over everything seen: the root is taken of the running mean,
 * not averaged per batch. Each element is a value of the mean (Keras's weighting).
 */
export class RootMeanSquaredError extends MeanBase<LabelArgs> {
  static override readonly className: string = 'RootMeanSquaredError';

  constructor(options: MetricOptions = {}) {
    super(options, 'root_mean_squared_error');
  }

  protected update(yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null): void {
    const op = `${this.className}.updateState`;
    const [t, p] = squeezeOrExpand(asType(yTrue, this.dtype, op), asType(yPred, this.dtype, op));
    this.accumulate(ops.square(ops.subtract(p, t)), sampleWeight);
  }

  protected override compute(): Tensor {
    return ops.sqrt(super.compute());
  }
}

export type R2Aggregation = 'uniform_average' | 'variance_weighted_average' | null;

/**
 * The coefficient of determination, 1 - SS_res / SS_tot, per output column of [N, D] data,
 * then aggregated (`classAggregation`: uniform mean, variance-weighted mean, or null for the
 * vector). `numRegressors` > 0 gives the adjusted R², falling back to plain R² when there are
 * too few samples for it (Keras warns there; kiln stays silent rather than read the count back).
 */
export class R2Score extends Metric {
  static override readonly className: string = 'R2Score';
  readonly classAggregation: R2Aggregation;
  readonly numRegressors: number;
  private readonly numSamples: Variable;
  private sums: { squaredSum: Variable; sum: Variable; residual: Variable; count: Variable } | null = null;

  constructor(options: MetricOptions & { classAggregation?: R2Aggregation; numRegressors?: number } = {}) {
    super(options, 'r2_score');
    const agg = options.classAggregation === undefined ? 'uniform_average' : options.classAggregation;
    if (agg !== null && agg !== 'uniform_average' && agg !== 'variance_weighted_average') {
      fail(this.className, `classAggregation must be 'uniform_average', 'variance_weighted_average' or null, got ${JSON.stringify(agg)}`);
    }
    const p = options.numRegressors ?? 0;
    if (!Number.isInteger(p) || p < 0) fail(this.className, `numRegressors must be an integer >= 0, got ${String(p)}`);
    this.classAggregation = agg;
    this.numRegressors = p;
    this.numSamples = this.addVariable([], 0, 'num_samples');
  }

  protected update(yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null): void {
    const op = `${this.className} '${this.name}'.updateState`;
    const [t, p] = squeezeOrExpand(asType(yTrue, this.dtype, op), asType(yPred, this.dtype, op));
    checkRank(op, 'yTrue', t, 2);
    checkRank(op, 'yPred', p, 2);
    const d = p.shape[1];
    this.sums ??= {
      squaredSum: this.addVariable([d], 0, 'squared_sum'),
      sum: this.addVariable([d], 0, 'sum'),
      residual: this.addVariable([d], 0, 'residual'),
      count: this.addVariable([d], 0, 'count'),
    };
    if (this.sums.sum.shape[0] !== d) fail(op, `expected ${this.sums.sum.shape[0]} output columns (from the first update), got ${d}`);
    let w = asType(sampleWeight ?? 1, this.dtype, op);
    if (w.rank === 1) w = ops.expandDims(w, 1);
    w = ops.broadcastTo(w, t.shape);
    const wt = ops.multiply(t, w);
    const s = this.sums;
    s.sum.assign(ops.add(s.sum.value, ops.sum(wt, 0)));
    s.squaredSum.assign(ops.add(s.squaredSum.value, ops.sum(ops.multiply(t, wt), 0)));
    s.residual.assign(ops.add(s.residual.value, ops.sum(ops.multiply(ops.square(ops.subtract(t, p)), w), 0)));
    s.count.assign(ops.add(s.count.value, ops.sum(w, 0)));
    this.numSamples.assign(ops.add(this.numSamples.value, t.size));
  }

  protected compute(): Tensor {
    if (this.sums === null) fail(`${this.className} '${this.name}'.result`, 'no data yet: call updateState first');
    const { squaredSum, sum, residual, count } = this.sums;
    const total = ops.subtract(squaredSum.value, ops.multiply(sum.value, ops.divide(sum.value, count.value)));
    let raw = ops.subtract(1, ops.divide(residual.value, total));
    // a constant column (total 0) scores 0, not -inf; 0/0 stays NaN as in Keras
    raw = ops.where(ops.isinf(raw), 0, raw);
    let r2 = raw;
    if (this.classAggregation === 'uniform_average') r2 = ops.mean(raw);
    else if (this.classAggregation === 'variance_weighted_average') r2 = ops.divide(ops.sum(ops.multiply(total, raw)), ops.sum(total));
    if (this.numRegressors === 0) return r2;
    const n = this.numSamples.value;
    const den = ops.subtract(ops.subtract(n, this.numRegressors), 1);
    const adjusted = ops.subtract(1, ops.divide(ops.multiply(ops.subtract(1, r2), ops.subtract(n, 1)), den));
    return ops.where(ops.greater(den, 0), adjusted, r2);
  }

  override getConfig(): MetricConfig {
    return { ...super.getConfig(), classAggregation: this.classAggregation, numRegressors: this.numRegressors };
  }
}
