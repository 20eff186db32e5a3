import type { TensorLike } from '../src/convert.js';
import { fail } from '../src/errors.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import { Metric, type MetricConfig, type MetricOptions } from './metric.js';
import { asType, checkRank, EPSILON } from './utils.js';

export type FScoreAverage = 'micro' | 'macro' | 'weighted' | null;

export interface FScoreOptions extends MetricOptions {
  /**
   * null (default): one score per class; 'micro': from the counts over every class; 'macro': the
   * mean of the class scores; 'weighted': their mean weighted by each class's support.
   */
  average?: FScoreAverage;
  /** Predictions above it are positive; null (default): the row's argmax is the one positive. */
  threshold?: number | null;
}

/**
 * The F-beta score of [N, C] one-hot or multi-hot labels: (1 + β²)·P·R / (β²·P + R), β weighing
 * recall β times as much as precision. ε terms keep empty classes at 0 instead of NaN.
 */
export class FBetaScore extends Metric {
  static override readonly className: string = 'FBetaScore';
  readonly average: FScoreAverage;
  readonly beta: number;
  readonly threshold: number | null;
  private counts: Record<'tp' | 'fp' | 'fn' | 'support', Variable> | null = null;

  constructor(options: FScoreOptions & { beta?: number } = {}) {
    super(options, 'fbeta_score');
    const average = options.average ?? null;
    if (average !== null && average !== 'micro' && average !== 'macro' && average !== 'weighted') {
      fail(this.className, `average must be null, 'micro', 'macro' or 'weighted', got ${JSON.stringify(options.average)}`);
    }
    const beta = options.beta ?? 1;
    if (typeof beta !== 'number' || !(beta > 0)) fail(this.className, `beta must be a number > 0, got ${String(options.beta)}`);
    const threshold = options.threshold ?? null;
    if (threshold !== null && (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1))) {
      fail(this.className, `threshold must be in (0, 1], got ${String(options.threshold)}`);
    }
    this.average = average;
    this.beta = beta;
    this.threshold = threshold;
  }

  protected update(yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null): void {
    const op = `${this.className} '${this.name}'.updateState`;
    const t = asType(yTrue, this.dtype, op);
    let p = asType(yPred, this.dtype, op);
    checkRank(op, 'yTrue', t, 2);
    checkRank(op, 'yPred', p, 2);
    const classes = p.shape[1];
    if (this.counts === null) {
      // micro averaging only ever needs the totals over every class
      const shape = this.average === 'micro' ? [] : [classes];
      const v = (name: string) => this.addVariable(shape, 0, name);
      this.counts = { tp: v('true_positives'), fp: v('false_positives'), fn: v('false_negatives'), support: v('intermediate_weights') };
    } else if (this.average !== 'micro' && this.counts.tp.shape[0] !== classes) {
      fail(op, `expected ${this.counts.tp.shape[0]} classes (from the first update), got yPred of shape [${p.shape.join(',')}]`);
    }
    const positive = this.threshold === null
      // the row's maximum is positive, unless it is 0: an all-zero row predicts nothing
      ? ops.logicalAnd(ops.greaterEqual(p, ops.max(p, -1, true)), ops.greater(ops.abs(p), 1e-9))
      : ops.greater(p, this.threshold);
    p = ops.cast(positive, this.dtype);
    let w = sampleWeight == null ? null : asType(sampleWeight, this.dtype, op);
    if (w && w.rank === 1) w = ops.expandDims(w, 1);
    const axis = this.average === 'micro' ? null : 0;
    const weightedSum = (x: Tensor) => ops.sum(w ? ops.multiply(x, w) : x, axis);
    const c = this.counts;
    c.tp.assign(ops.add(c.tp.value, weightedSum(ops.multiply(p, t))));
    c.fp.assign(ops.add(c.fp.value, weightedSum(ops.multiply(p, ops.subtract(1, t)))));
    c.fn.assign(ops.add(c.fn.value, weightedSum(ops.multiply(ops.subtract(1, p), t))));
    c.support.assign(ops.add(c.support.value, weightedSum(t)));
  }

  protected compute(): Tensor {
    if (this.counts === null) fail(`${this.className} '${this.name}'.result`, 'no data yet: call updateState first');
    const { tp, fp, fn, support } = this.counts;
    const precision = ops.divide(tp.value, ops.add(ops.add(tp.value, fp.value), EPSILON));
    const recall = ops.divide(tp.value, ops.add(ops.add(tp.value, fn.value), EPSILON));
    const b2 = this.beta * this.beta;
    const harmonic = ops.divide(ops.multiply(precision, recall), ops.add(ops.add(ops.multiply(precision, b2), recall), EPSILON));
    const score = ops.multiply(harmonic, 1 + b2);
    if (this.average === 'weighted') {
      return ops.sum(ops.multiply(score, ops.divide(support.value, ops.add(ops.sum(support.value), EPSILON))));
    }
    return this.average === null ? score : ops.mean(score);
  }

  override getConfig(): MetricConfig {
    return { ...super.getConfig(), average: this.average, beta: this.beta, threshold: this.threshold };
  }
}

/**
 * The F1 score, the harmonic mean of precision and recall, per class or averaged.
 * @example
 * const m = new kiln.metrics.F1Score({ threshold: 0.5 });
 * m.updateState([[1, 1, 1], [1, 0, 0], [1, 1, 0]], [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0]]);
 * // result [0.5, 0.8, 0.6667]
 */
export class F1Score extends FBetaScore {
  static override readonly className: string = 'F1Score';

  constructor(options: FScoreOptions = {}) {
    super({ ...options, beta: 1, name: options.name ?? 'f1_score' });
  }

  override getConfig(): MetricConfig {
    const config = super.getConfig();
    delete config.beta;
    return config;
  }
}
