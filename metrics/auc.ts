import type { TensorLike } from '../src/convert.js';
import { tensor } from '../src/creation.js';
import { fail } from '../src/errors.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import { isEvenlyDistributed, updateConfusion } from './confusion.js';
import { Metric, uniqueMetricName, type MetricConfig, type MetricOptions } from './metric.js';
import { divideNoNan } from '../src/ops/math.js';
import { asType, checkRank, EPSILON } from './utils.js';

export type AUCCurve = 'ROC' | 'PR';
export type AUCSummation = 'interpolation' | 'minoring' | 'majoring';

export interface AUCOptions extends MetricOptions {
  /** Thresholds used to discretize the curve (> 1); default 200. Ignored when `thresholds` is given. */
  numThresholds?: number;
  curve?: AUCCurve;
  /** 'interpolation' (default): trapezoids for ROC, Davis & Goadrich for PR; 'minoring'/'majoring': lower/upper Riemann bounds. */
  summationMethod?: AUCSummation;
  /** Explicit inner thresholds in [0, 1]; the endpoints are added. */
  thresholds?: number[] | null;
  /** One AUC per label (last axis of [N, L] data), averaged; otherwise the data is flattened. */
  multiLabel?: boolean;
  numLabels?: number | null;
  /** Per-label weights: of the label AUCs' average (multiLabel), or of each flattened prediction. */
  labelWeights?: number[] | null;
  /** Predictions are logits: a sigmoid is applied first. */
  fromLogits?: boolean;
}

/**
 * The area under the ROC (default) or precision-recall curve, approximated over thresholds.
 * As in Keras, `numThresholds - 2` thresholds are spaced evenly in (0, 1) and the endpoints are
 * -ε and 1 + ε, so a prediction of exactly 0 is positive at the first threshold and one of
 * exactly 1 negative at the last: every curve runs from (1, 1) to (0, 0). With the even grid,
 * predictions are clipped to [0, 1] first, as Keras's bucketed path does.
 * @example
 * const m = new kiln.metrics.AUC({ numThresholds: 3 });
 * m.updateState([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]);   // result 0.75
 */
export class AUC extends Metric {
  static override readonly className: string = 'AUC';
  readonly numThresholds: number;
  readonly curve: AUCCurve;
  readonly summationMethod: AUCSummation;
  readonly multiLabel: boolean;
  readonly numLabels: number | null;
  readonly fromLogits: boolean;
  /** Every threshold, endpoints included. */
  readonly thresholds: number[];
  private readonly initThresholds: number[] | null;
  private readonly evenlyDistributed: boolean;
  private readonly labelWeights: number[] | null;
  private counts: Record<'tp' | 'fp' | 'tn' | 'fn', Variable> | null = null;

  constructor(options: AUCOptions = {}) {
    super(options, options.name ?? uniqueMetricName('auc'));
    const curve = String(options.curve ?? 'ROC').toUpperCase();
    if (curve !== 'ROC' && curve !== 'PR') fail(this.className, `curve must be 'ROC' or 'PR', got ${JSON.stringify(options.curve)}`);
    const summation = String(options.summationMethod ?? 'interpolation').toLowerCase();
    if (summation !== 'interpolation' && summation !== 'minoring' && summation !== 'majoring') {
      fail(this.className, `summationMethod must be 'interpolation', 'minoring' or 'majoring', got ${JSON.stringify(options.summationMethod)}`);
    }
    this.curve = curve;
    this.summationMethod = summation;
    this.initThresholds = options.thresholds ?? null;
    let inner: number[];
    if (this.initThresholds !== null) {
      if (this.initThresholds.some((t) => typeof t !== 'number' || !(t >= 0 && t <= 1))) {
        fail(this.className, `thresholds must be numbers in [0, 1], got ${JSON.stringify(this.initThresholds)}`);
      }
      inner = [...this.initThresholds].sort((a, b) => a - b);
      this.numThresholds = inner.length + 2;
      this.evenlyDistributed = isEvenlyDistributed([0, ...inner, 1]);
    } else {
      const n = options.numThresholds ?? 200;
      if (!Number.isInteger(n) || n <= 1) fail(this.className, `numThresholds must be an integer > 1, got ${String(n)}`);
      inner = Array.from({ length: n - 2 }, (_, i) => (i + 1) / (n - 1));
      this.numThresholds = n;
      this.evenlyDistributed = true;
    }
    this.thresholds = [-EPSILON, ...inner, 1 + EPSILON];
    this.multiLabel = options.multiLabel ?? false;
    this.numLabels = options.numLabels ?? null;
    this.labelWeights = options.labelWeights ?? null;
    this.fromLogits = options.fromLogits ?? false;
    if (!this.multiLabel && this.numLabels !== null) fail(this.className, 'numLabels is only for multiLabel: true');
    if (this.numLabels !== null && !(Number.isInteger(this.numLabels) && this.numLabels > 0)) {
      fail(this.className, `numLabels must be a positive integer, got ${String(this.numLabels)}`);
    }
    if (!this.multiLabel || this.numLabels !== null) this.build(this.numLabels);
  }

  private build(numLabels: number | null): Record<'tp' | 'fp' | 'tn' | 'fn', Variable> {
    const shape = this.multiLabel ? [this.numThresholds, numLabels as number] : [this.numThresholds];
    this.counts = {
      tp: this.addVariable(shape, 0, 'true_positives'),
      fp: this.addVariable(shape, 0, 'false_positives'),
      tn: this.addVariable(shape, 0, 'true_negatives'),
      fn: this.addVariable(shape, 0, 'false_negatives'),
    };
    return this.counts;
  }

  protected update(yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null): void {
    const op = `${this.className} '${this.name}'.updateState`;
    let p = asType(yPred, this.dtype, op);
    if (this.multiLabel) {
      checkRank(op, 'yPred', p, 2);
      const labels = this.counts ? this.counts.tp.shape[1] : p.shape[1];
      if (p.shape[1] !== labels) fail(op, `expected ${labels} labels, got yPred of shape [${p.shape.join(',')}]`);
    }
    const counts = this.counts ?? this.build(p.shape[1]);
    if (this.fromLogits) p = ops.sigmoid(p);
    const labelWeights = this.labelWeights && !this.multiLabel ? tensor(this.labelWeights, undefined, this.dtype) : null;
    updateConfusion(counts, yTrue, p, {
      thresholds: this.thresholds, sampleWeight, multiLabel: this.multiLabel, labelWeights, clip: this.evenlyDistributed,
    }, this.dtype, op);
  }

  protected compute(): Tensor {
    if (this.counts === null) fail(`${this.className} '${this.name}'.result`, 'no data yet: call updateState first');
    const tp = this.counts.tp.value;
    const fp = this.counts.fp.value;
    const tn = this.counts.tn.value;
    const fn = this.counts.fn.value;
    if (this.curve === 'PR' && this.summationMethod === 'interpolation') return this.aggregate(this.interpolatePR(tp, fp, fn));
    const recall = divideNoNan(tp, ops.add(tp, fn));
    const [x, y] = this.curve === 'ROC' ? [divideNoNan(fp, ops.add(fp, tn)), recall] : [recall, divideNoNan(tp, ops.add(tp, fp))];
    const heights =
      this.summationMethod === 'interpolation' ? ops.divide(ops.add(head(y), tail(y)), 2)
      : this.summationMethod === 'minoring' ? ops.minimum(head(y), tail(y))
      : ops.maximum(head(y), tail(y));
    // thresholds ascend, so x descends: head - tail is each interval's (non-negative) width
    return this.aggregate(ops.multiply(ops.subtract(head(x), tail(x)), heights));
  }

  /**
   * PR-AUC by Davis & Goadrich (2006): within an interval tp and p = tp + fp vary linearly, so
   * precision is (tp_A + slope·(p - p_A)) / p and its integral over recall has the closed form
   * slope·(Δtp + intercept·log(p_A / p_B)) / (tp_B + fn_B). Interpolating the ratio linearly
   * would overstate the area.
   */
  private interpolatePR(tp: Tensor, fp: Tensor, fn: Tensor): Tensor {
    const p = ops.add(tp, fp);
    const dtp = ops.subtract(head(tp), tail(tp));
    const slope = divideNoNan(dtp, ops.maximum(ops.subtract(head(p), tail(p)), 0));
    const intercept = ops.subtract(tail(tp), ops.multiply(slope, tail(p)));
    const bothPositive = ops.logicalAnd(ops.greater(head(p), 0), ops.greater(tail(p), 0));
    const ratio = ops.where(bothPositive, divideNoNan(head(p), ops.maximum(tail(p), 0)), 1);
    const area = ops.multiply(slope, ops.add(dtp, ops.multiply(intercept, ops.log(ratio))));
    return divideNoNan(area, ops.maximum(ops.add(tail(tp), tail(fn)), 0));
  }

  /** The sum of the per-interval areas: one AUC, or the (weighted) mean of the label AUCs. */
  private aggregate(terms: Tensor): Tensor {
    if (!this.multiLabel) return ops.sum(terms);
    const byLabel = ops.sum(terms, 0);
    if (this.labelWeights === null) return ops.mean(byLabel);
    const lw = tensor(this.labelWeights, undefined, this.dtype);
    return divideNoNan(ops.sum(ops.multiply(byLabel, lw)), ops.sum(lw));
  }

  override getConfig(): MetricConfig {
    const config: MetricConfig = {
      ...super.getConfig(),
      numThresholds: this.numThresholds,
      curve: this.curve,
      summationMethod: this.summationMethod,
      multiLabel: this.multiLabel,
      numLabels: this.numLabels,
      labelWeights: this.labelWeights,
      fromLogits: this.fromLogits,
    };
    if (this.initThresholds !== null) config.thresholds = this.thresholds.slice(1, -1);
    return config;
  }
}

/** All but the last threshold's row. */
function head(x: Tensor): Tensor {
  return ops.slice(x, x.shape.map(() => 0), x.shape.map((d, i) => (i === 0 ? d - 1 : -1)));
}

/** All but the first threshold's row. */
function tail(x: Tensor): Tensor {
  return ops.slice(x, x.shape.map((_, i) => (i === 0 ? 1 : 0)), x.shape.map(() => -1));
}
