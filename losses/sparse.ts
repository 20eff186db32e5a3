import { asTensor, type TensorLike } from '../src/convert.js';
import { fail, fmtShape } from '../src/errors.js';
import { tidy } from '../src/memory.js';
import * as ops from '../src/ops/index.js';
import { shapesEqual } from '../src/shape.js';
import type { Tensor } from '../src/tensor.js';
import { checkOnDevice } from '../src/deferred-checks.js';
import { isFloat } from '../src/dtype.js';
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
 * Out-of-range labels would otherwise pass unnoticed (a one-hot of them is all zeros, and the
 * gather below gets them clamped), so they are an error naming the label. The check runs on the
 * device, as every index check does (docs/indices.md): no readback on the training step, and the
 * error is thrown by the next read (fit reads its logs), the same on every backend.
 */
function checkLabels(op: string, labels: Tensor, classes: Tensor, numClasses: number, ignoreClass: number | null): void {
  const ignored = ignoreClass === null ? '' : ` (or the ignored class ${ignoreClass})`;
  let ok: Tensor;
  if (isFloat(labels.dtype)) {
    ok = ops.logicalAnd(ops.logicalAnd(ops.greaterEqual(labels, 0), ops.less(labels, numClasses)), ops.equal(ops.floor(labels), labels));
    if (ignoreClass !== null) ok = ops.logicalOr(ok, ops.equal(labels, ignoreClass));
  } else {
    // the class the loss picks is the label itself unless the clamp moved it (an ignored row's 0 is its own)
    ok = ignoreClass === null ? ops.equal(classes, labels) : ops.logicalOr(ops.equal(classes, labels), ops.equal(labels, ignoreClass));
  }
  checkOnDevice(`${op} ${labels.dtype} labels for ${numClasses} classes${ignored}`, labels, ops.logicalNot(ok),
    (i, v) => fail(op, `label ${v} at position ${i} is out of range: labels must be integers in [0, ${numClasses})${ignored}`));
}

/** Per-row losses, and (with ignoreClass) which rows count. */
function scce(op: string, yTrue: TensorLike, yPred: TensorLike, o: Resolved): { values: Tensor; valid: Tensor | null } {
  const p = floatPrediction(op, yPred);
  const a = classAxis(op, p, o.axis);
  const given = asTensor(yTrue, op);
  // [N, 1] labels for [N, C] predictions are [N] labels, as in Keras
  const labels = given.rank === p.rank && given.shape[given.rank - 1] === 1 ? ops.squeeze(given, -1) : given;
  const expected = p.shape.filter((_, i) => i !== a);
  if (!shapesEqual(labels.shape, expected)) {
    fail(op, `yTrue must hold one class index per row of yPred: for yPred ${fmtShape(p.shape)} (class axis ${a}) expected yTrue ${fmtShape(expected)}, got ${fmtShape(given.shape)}`);
  }
  let valid: Tensor | null = null;
  let picked = labels;
  if (o.ignoreClass !== null) {
    valid = ops.notEqual(labels, o.ignoreClass);
    // ignored rows pick class 0 and are zeroed afterwards; Keras also zeroes their predictions,
    // which gives 0/0 before the where and NaN gradients through it
    picked = ops.where(valid, labels, 0);
  }
  // clamped, as the check's error waits for the next read: the gather never sees a bad index
  const classes = ops.clip(ops.cast(picked, 'int32'), 0, p.shape[a] - 1);
  checkLabels(op, labels, classes, p.shape[a], o.ignoreClass);
  const values = crossEntropy(p, classes, { fromLogits: o.fromLogits, epsilon: EPSILON, axis: a });
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
