import { asTensor, type TensorLike } from '../src/convert.js';
import { fail, fmtShape } from '../src/errors.js';
import { tidy } from '../src/memory.js';
import * as ops from '../src/ops/index.js';
import { shapesEqual } from '../src/shape.js';
import type { Tensor } from '../src/tensor.js';
import { checkBoolean, checkNumber, EPSILON, floatPrediction, Loss, type LossConfig, type LossOptions } from './loss.js';
import { crossEntropy } from '../src/fused/cross-entropy.js';
import { classAxis } from './probabilistic.js';

export interface SparseCrossentropyOptions {
  /** Whether yPred holds logits rather than probabilities. Default false. */
  fromLogits?: boolean;
  /** A label value that contributes no loss and is left out of the average (e.g. -1 or 255). Default null. */
  ignoreClass?: number | null;
  /** yPred's class axis. Default -1. */
  axis?: number;
}

type Resolved = Required<SparseCrossentropyOptions>;

function sparseOptions(op: string, o: SparseCrossentropyOptions): Resolved {
  const ignoreClass = o.ignoreClass ?? null;
  if (ignoreClass !== null && !Number.isInteger(checkNumber(op, 'ignoreClass', ignoreClass))) {
    fail(op, `ignoreClass must be an integer or null, got ${ignoreClass}`);
  }
  return { fromLogits: checkBoolean(op, 'fromLogits', o.fromLogits ?? false), ignoreClass, axis: o.axis ?? -1 };
}

/**
 * Out-of-range labels would otherwise pass unnoticed (a one-hot of them is all zeros, and gather
 * clamps on asynchronous backends), so they are an error naming the label. The check reads the
 * labels back, which only backends that read synchronously (reference, native) can do inside a
 * synchronous loss; elsewhere it is skipped. The labels are one value per row of yPred, so the
 * read is small next to the loss itself.
 */
function checkLabels(op: string, labels: Tensor, numClasses: number, ignoreClass: number | null): void {
  if (!labels.dataHandle(op).backend.readSync) return;
  const values = labels.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === ignoreClass) continue;
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      const ignored = ignoreClass === null ? '' : ` (or the ignored class ${ignoreClass})`;
      fail(op, `label ${v} at position ${i} is out of range: labels must be integers in [0, ${numClasses})${ignored}`);
    }
  }
}

/** Per-row losses, and (with ignoreClass) which rows count. */
function scce(op: string, yTrue: TensorLike, yPred: TensorLike, o: Resolved): { values: Tensor; valid: Tensor | null } {
  const p = floatPrediction(op, yPred);
  const a = classAxis(op, p, o.axis);
  const given = asTensor(yTrue, op);
  // [N, 1] labels for [N, C] predictions are [N] labels, as in Keras
  let labels = given.rank === p.rank && given.shape[given.rank - 1] === 1 ? ops.squeeze(given, -1) : given;
  const expected = p.shape.filter((_, i) => i !== a);
  if (!shapesEqual(labels.shape, expected)) {
    fail(op, `yTrue must hold one class index per row of yPred: for yPred ${fmtShape(p.shape)} (class axis ${a}) expected yTrue ${fmtShape(expected)}, got ${fmtShape(given.shape)}`);
  }
  checkLabels(op, labels, p.shape[a], o.ignoreClass);
  let valid: Tensor | null = null;
  if (o.ignoreClass !== null) {
    valid = ops.notEqual(labels, o.ignoreClass);
    // ignored rows pick class 0 and are zeroed afterwards; Keras also zeroes their predictions,
    // which gives 0/0 before the where and NaN gradients through it
    labels = ops.where(valid, labels, 0);
  }
  const values = crossEntropy(p, ops.cast(labels, 'int32'), { fromLogits: o.fromLogits, epsilon: EPSILON, axis: a });
  return { values: valid === null ? values : ops.where(valid, values, 0), valid };
}

/**
 * -log p[label] for integer labels (one per row of yPred).
 * @example
 * losses.sparseCategoricalCrossentropy([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]);   // [0.0513, 2.303]
 */
export function sparseCategoricalCrossentropy(yTrue: TensorLike, yPred: TensorLike, options: SparseCrossentropyOptions = {}): Tensor {
  const op = 'sparseCategoricalCrossentropy';
  return tidy(() => scce(op, yTrue, yPred, sparseOptions(op, options)).values);
}

/** Crossentropy with integer labels; with `ignoreClass`, the average runs over the other rows only. */
export class SparseCategoricalCrossentropy extends Loss {
  static readonly className = 'SparseCategoricalCrossentropy';
  readonly options: Resolved;

  constructor(options: LossOptions & SparseCrossentropyOptions = {}) {
    super(options);
    this.options = sparseOptions(this.name, options);
  }

  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return scce(this.name, yTrue, yPred, this.options).values;
  }

  protected override callWithMask(yTrue: Tensor, yPred: Tensor): { values: Tensor; mask: Tensor | null } {
    const { values, valid } = scce(this.name, yTrue, yPred, this.options);
    return { values, mask: valid };
  }

  override getConfig(): LossConfig {
    return { ...super.getConfig(), ...this.options };
  }
}
