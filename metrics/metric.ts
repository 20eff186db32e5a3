import type { DType } from '../backends/contract.js';
import { fill, zerosLike } from '../src/creation.js';
import { checkDType, isFloat } from '../src/dtype.js';
import { ENGINE } from '../src/engine.js';
import { fail } from '../src/errors.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import { Variable } from '../src/variable.js';
import { asTensor, type TensorLike } from '../src/convert.js';
import { divideNoNan } from '../src/ops/math.js';
import { squeezeOrExpand } from '../losses/loss.js';
import { asType, axesFrom, type LabelArgs } from './utils.js';

export interface MetricOptions {
  name?: string;
  /** The dtype of the state and the result; float32 unless said otherwise. */
  dtype?: DType;
}

/** What getConfig returns: plain JSON, enough for `new Class(config)` to rebuild the metric. */
export type MetricConfig = { name: string; dtype: DType } & Record<string, unknown>;

const counters = new Map<string, number>();

/**
 * Keras's auto_name for metrics whose default name is None (Precision, Recall, AUC): the second
 * one is `auc_1`, as Keras logs it.
 */
export function uniqueMetricName(prefix: string): string {
  const n = counters.get(prefix) ?? 0;
  counters.set(prefix, n + 1);
  return n === 0 ? prefix : `${prefix}_${n}`;
}

/**
 * The base of every metric: state in non-trainable Variables, accumulated by `updateState` and
 * read by `result`. Subclasses implement `update` and `compute`; the public calls run them in a
 * tidy scope with no tape recording, so a training step leaves no tensors behind and no gradient
 * flows into a metric.
 * @example
 * const m = new kiln.metrics.Mean();
 * m.updateState([1, 3, 5, 7]);
 * m.updateState([2], [4]);            // weighted: total 16 + 8, count 4 + 4
 * (await m.result().item());          // 3
 */
export abstract class Metric<Args extends unknown[] = LabelArgs> {
  static readonly className: string = 'Metric';
  name: string;
  readonly dtype: DType;
  private readonly state: Variable[] = [];

  constructor(options: MetricOptions, defaultName: string) {
    this.name = options.name ?? defaultName;
    this.dtype = checkDType(this.className, options.dtype ?? 'float32');
    if (!isFloat(this.dtype)) fail(this.className, `a metric's dtype must be float32 or float64, got ${this.dtype}`);
  }

  /** Kiln's class name, as saved in configs (static, so it survives minification). */
  get className(): string {
    return (this.constructor as unknown as { className: string }).className;
  }

  /** The state variables, in creation order. */
  get variables(): readonly Variable[] {
    return this.state;
  }

  /** Adds a state variable filled with `value`; metrics whose shape depends on data call it on the first update. */
  protected addVariable(shape: readonly number[], value: number, name: string): Variable {
    const v = ENGINE.tidy(() => new Variable(fill(shape, value, this.dtype), { name: `${this.name}/${name}`, trainable: false }));
    this.state.push(v);
    return v;
  }

  /** Accumulates statistics from one batch. */
  updateState(...args: Args): void {
    ENGINE.tidy(() => ENGINE.withoutTapes(() => this.update(...args)));
  }

  /** The metric's current value (a new tensor the caller owns). */
  result(): Tensor {
    return ENGINE.tidy(() => ENGINE.withoutTapes(() => this.compute()));
  }

  /** Sets every state variable back to zeros (between epochs). */
  resetState(): void {
    ENGINE.tidy(() => {
      for (const v of this.state) v.assign(zerosLike(v.value));
    });
  }

  getConfig(): MetricConfig {
    return { name: this.name, dtype: this.dtype };
  }

  /** Frees the state variables. */
  dispose(): void {
    for (const v of this.state) v.dispose();
  }

  toString(): string {
    return `${this.className} '${this.name}'`;
  }

  protected abstract update(...args: Args): void;
  protected abstract compute(): Tensor;
}

type ValueArgs = [values: TensorLike, sampleWeight?: TensorLike | null];

/**
 * Keras's reduce_to_samplewise_values: weights are matched to the values' rank, the values
 * reduced to the weights' rank and weighted, then both reduced to one number per sample.
 * Multi-dimensional weights are averaged (or summed) per sample, which is what the count adds.
 */
function samplewise(values: TensorLike, sampleWeight: TensorLike | null | undefined, reduce: 'mean' | 'sum', dtype: DType): [Tensor, Tensor | null] {
  const fn = reduce === 'mean' ? ops.mean : ops.sum;
  let v = asType(values, dtype, 'Metric.updateState');
  let w: Tensor | null = null;
  if (sampleWeight != null) {
    [v, w] = squeezeOrExpand(v, asType(sampleWeight, dtype, 'Metric.updateState'));
    if (v.rank > w.rank) v = fn(v, axesFrom(w.rank, v.rank));
    w = ops.broadcastTo(w, v.shape);
    v = ops.multiply(v, w);
    if (w.rank > 1) w = fn(w, axesFrom(1, w.rank));
  }
  if (v.rank > 1) v = fn(v, axesFrom(1, v.rank));
  return [v, w];
}

/**
 * A weighted running mean: `total / count`, where each sample adds its (weight-scaled) value
 * to the total and its weight to the count. The base of Mean, MeanMetricWrapper and RMSE.
 */
export abstract class MeanBase<Args extends unknown[]> extends Metric<Args> {
  protected readonly total: Variable;
  protected readonly count: Variable;

  constructor(options: MetricOptions, defaultName: string) {
    super(options, defaultName);
    this.total = this.addVariable([], 0, 'total');
    this.count = this.addVariable([], 0, 'count');
  }

  protected accumulate(values: TensorLike, sampleWeight?: TensorLike | null): void {
    const [v, w] = samplewise(values, sampleWeight, 'mean', this.dtype);
    this.total.assign(ops.add(this.total.value, ops.sum(v)));
    // unweighted, each sample counts once; a scalar value is one sample
    const n = w !== null ? ops.sum(w) : v.rank >= 1 ? v.shape[0] : 1;
    this.count.assign(ops.add(this.count.value, n));
  }

  protected compute(): Tensor {
    return divideNoNan(this.total.value, this.count.value);
  }
}

/**
 * The (weighted) mean of the values seen: [1, 3, 5, 7] gives 4; with weights [1, 1, 0, 0], 2.
 */
export class Mean extends MeanBase<ValueArgs> {
  static override readonly className: string = 'Mean';

  constructor(options: MetricOptions = {}) {
    super(options, 'mean');
  }

  protected update(values: TensorLike, sampleWeight?: TensorLike | null): void {
    this.accumulate(values, sampleWeight);
  }
}

/** The (weighted) sum of the values seen: [1, 3, 5, 7] gives 16; with weights [1, 1, 0, 0], 4. */
export class Sum extends Metric<ValueArgs> {
  static override readonly className: string = 'Sum';
  private readonly total: Variable;

  constructor(options: MetricOptions = {}) {
    super(options, 'sum');
    this.total = this.addVariable([], 0, 'total');
  }

  protected update(values: TensorLike, sampleWeight?: TensorLike | null): void {
    const [v] = samplewise(values, sampleWeight, 'sum', this.dtype);
    this.total.assign(ops.add(this.total.value, ops.sum(v)));
  }

  // a copy, not the variable's own tensor: the caller owns (and may dispose) what result returns
  protected compute(): Tensor {
    return ops.add(this.total.value, 0);
  }
}

/** A per-sample metric function: one value per sample (or per element, averaged per sample). */
export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/**
 * The mean of a per-sample function over every sample seen, weighted by the sample weights.
 * @example
 * const m = new kiln.metrics.MeanMetricWrapper((t, p) => kiln.ops.abs(kiln.ops.subtract(t, p)), { name: 'l1' });
 */
export class MeanMetricWrapper extends MeanBase<LabelArgs> {
  static override readonly className: string = 'MeanMetricWrapper';

  readonly fn: MetricFn;

  constructor(fn: MetricFn, options: MetricOptions = {}) {
    super(options, options.name ?? uniqueMetricName('mean_metric_wrapper'));
    if (typeof fn !== 'function') fail(this.className, `expected a metric function, got ${typeof fn}`);
    this.fn = fn;
  }

  // the function gets the tensors as given (labels keep their dtype), as Keras passes them
  protected update(yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null): void {
    const op = `${this.className} '${this.name}'.updateState`;
    this.accumulate(this.fn(asTensor(yTrue, op), asTensor(yPred, op)), sampleWeight);
  }

  /** The function is saved by name: a config can name it, not carry it. */
  override getConfig(): MetricConfig {
    return { ...super.getConfig(), fn: this.fn.name };
  }
}
