import type { DType } from '../backends/contract.js';
import type { TensorLike } from '../src/convert.js';
import { range, tensor } from '../src/creation.js';
import { fail } from '../src/errors.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import { Metric, uniqueMetricName, type MetricConfig, type MetricOptions } from './metric.js';
import { divideNoNan } from '../src/ops/math.js';
import { squeezeOrExpand } from '../losses/loss.js';
import { asType } from './utils.js';

/** The score Keras gives predictions outside the top k, and the threshold that then keeps the rest. */
const NEG_INF = -1e10;

type Confusion = Partial<Record<'tp' | 'fp' | 'tn' | 'fn', Variable>>;

export interface ConfusionUpdate {
  thresholds: readonly number[];
  topK?: number | null;
  classId?: number | null;
  sampleWeight?: TensorLike | null;
  /** Count per label (state [T, L]) instead of over the flattened data (state [T]). */
  multiLabel?: boolean;
  /** Weights of the labels (last axis) in the flattened counts. */
  labelWeights?: Tensor | null;
  /** Clamp predictions to [0, 1] first (Keras does on its evenly-spaced-thresholds path). */
  clip?: boolean;
}

/**
 * Keras's top-k filter: the k largest of the last axis keep their value, the rest become NEG_INF.
 * Ties go to the lower index, as top_k orders them: an element is kept when fewer than k
 * elements are greater, or equal and earlier.
 */
function filterTopK(x: Tensor, k: number): Tensor {
  const n = x.shape[x.rank - 1];
  const mine = ops.expandDims(x, -1);
  const other = ops.expandDims(x, -2);
  const earlier = ops.less(ops.reshape(range(n), [1, n]), ops.reshape(range(n), [n, 1]));
  const ahead = ops.logicalOr(ops.greater(other, mine), ops.logicalAnd(ops.equal(other, mine), earlier));
  return ops.where(ops.less(ops.sum(ops.cast(ahead, 'int32'), -1), k), x, NEG_INF);
}

/**
 * Adds one batch's weighted true/false positives/negatives at every threshold to `vars`. A
 * prediction is positive at threshold t when it is strictly greater than t; a label is positive
 * when non-zero. Counts are [T] over the flattened data, or [T, L] per label.
 */
export function updateConfusion(vars: Confusion, yTrue: TensorLike, yPred: TensorLike, o: ConfusionUpdate, dtype: DType, op: string): void {
  let [p, t] = squeezeOrExpand(asType(yPred, dtype, op), asType(yTrue, dtype, op));
  let w: Tensor | null = null;
  if (o.sampleWeight != null) [, w] = squeezeOrExpand(t, ops.expandDims(asType(o.sampleWeight, dtype, op), -1), false);
  if (o.topK != null) p = filterTopK(p, o.topK);
  if (o.classId != null) {
    const c = o.classId;
    if (p.rank < 2 || c >= p.shape[p.rank - 1]) fail(op, `classId ${c} needs predictions of shape [N, numClasses > ${c}], got [${p.shape.join(',')}]`);
    // keep the class axis (size 1) so that [N, 1] weights still line up
    const pick = (x: Tensor) => ops.slice(x, x.shape.map((_, i) => (i === x.rank - 1 ? c : 0)), x.shape.map((_, i) => (i === x.rank - 1 ? 1 : -1)));
    [t, p] = [pick(t), pick(p)];
  }
  if (o.clip) p = ops.clip(p, 0, 1);
  if (o.labelWeights && !o.multiLabel) w = ops.multiply(w ?? 1, o.labelWeights);
  const T = o.thresholds.length;
  // a leading thresholds axis against every prediction: [T, 1] vs [1, M], or [T, 1, 1] vs [1, N, L]
  const flat = (x: Tensor) => (o.multiLabel ? ops.expandDims(x, 0) : ops.reshape(x, [1, -1]));
  const thr = tensor(o.thresholds as number[], o.multiLabel ? [T, 1, 1] : [T, 1], dtype);
  const pos = ops.cast(ops.greater(flat(p), thr), dtype);
  const lab = flat(ops.cast(ops.cast(t, 'bool'), dtype));
  const weights = w === null ? null : flat(ops.broadcastTo(w, p.shape));
  const accumulate = (v: Variable | undefined, a: Tensor, b: Tensor) => {
    if (!v) return;
    const both = weights ? ops.multiply(ops.multiply(a, b), weights) : ops.multiply(a, b);
    v.assign(ops.add(v.value, ops.sum(both, 1)));
  };
  const notPos = ops.subtract(1, pos);
  const notLab = ops.subtract(1, lab);
  accumulate(vars.tp, lab, pos);
  accumulate(vars.fn, lab, notPos);
  accumulate(vars.fp, notLab, pos);
  accumulate(vars.tn, notLab, notPos);
}

export interface ThresholdOptions extends MetricOptions {
  /** One threshold in [0, 1], or several (the result is then one value per threshold). Default 0.5. */
  thresholds?: number | number[] | null;
  /** Only the k highest predictions of each row count as positive. */
  topK?: number | null;
  /** Only this class (last axis) is scored. */
  classId?: number | null;
}

/** tp / (tp + other) at each threshold: Precision (other = false positives) and Recall (false negatives). */
abstract class ThresholdRate extends Metric {
  readonly thresholds: number[];
  readonly topK: number | null;
  readonly classId: number | null;
  private readonly initThresholds: number | number[] | null;
  private readonly truePositives: Variable;
  private readonly other: Variable;

  constructor(options: ThresholdOptions, prefix: string, private readonly otherKey: 'fp' | 'fn') {
    super(options, options.name ?? uniqueMetricName(prefix));
    this.topK = options.topK ?? null;
    this.classId = options.classId ?? null;
    if (this.topK !== null && !(Number.isInteger(this.topK) && this.topK > 0)) fail(this.className, `topK must be a positive integer, got ${String(this.topK)}`);
    if (this.classId !== null && !(Number.isInteger(this.classId) && this.classId >= 0)) fail(this.className, `classId must be an integer >= 0, got ${String(this.classId)}`);
    this.initThresholds = options.thresholds ?? null;
    const given = this.initThresholds === null ? null : [this.initThresholds].flat();
    if (given && (given.length === 0 || given.some((t) => typeof t !== 'number' || !(t >= 0 && t <= 1)))) {
      fail(this.className, `thresholds must be numbers in [0, 1], got ${JSON.stringify(this.initThresholds)}`);
    }
    // with topK, every kept prediction is positive: the filtered-out ones sit at NEG_INF
    this.thresholds = given ?? [this.topK === null ? 0.5 : NEG_INF];
    this.truePositives = this.addVariable([this.thresholds.length], 0, 'true_positives');
    this.other = this.addVariable([this.thresholds.length], 0, otherKey === 'fp' ? 'false_positives' : 'false_negatives');
  }

  protected update(yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null): void {
    const vars: Confusion = { tp: this.truePositives, [this.otherKey]: this.other };
    const o = { thresholds: this.thresholds, topK: this.topK, classId: this.classId, sampleWeight };
    updateConfusion(vars, yTrue, yPred, o, this.dtype, `${this.className} '${this.name}'.updateState`);
  }

  protected compute(): Tensor {
    const tp = this.truePositives.value;
    const r = divideNoNan(tp, ops.add(tp, this.other.value));
    return this.thresholds.length === 1 ? ops.reshape(r, []) : r;
  }

  override getConfig(): MetricConfig {
    return { ...super.getConfig(), thresholds: this.initThresholds, topK: this.topK, classId: this.classId };
  }
}

/**
 * The fraction of predicted positives that are positive: tp / (tp + fp). Keras's name: `precision`
 * (then `precision_1`, …).
 * @example
 * const m = new kiln.metrics.Precision();
 * m.updateState([0, 1, 1, 1], [1, 0, 1, 1]);   // result 2/3
 */
export class Precision extends ThresholdRate {
  static override readonly className: string = 'Precision';

  constructor(options: ThresholdOptions = {}) {
    super(options, 'precision', 'fp');
  }
}

/** The fraction of positives predicted positive: tp / (tp + fn). */
export class Recall extends ThresholdRate {
  static override readonly className: string = 'Recall';

  constructor(options: ThresholdOptions = {}) {
    super(options, 'recall', 'fn');
  }
}

/** numpy.allclose of the thresholds against an even grid of [0, 1], as Keras checks. */
export function isEvenlyDistributed(thresholds: readonly number[]): boolean {
  const n = thresholds.length;
  return n >= 3 && thresholds.every((t, i) => Math.abs(t - i / (n - 1)) <= 1e-7 + 1e-5 * (i / (n - 1)));
}
