import type { TensorLike } from '../src/convert.js';
import { tidy } from '../src/memory.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import { Loss, matchedPair } from './loss.js';

/**
 * Labels in {-1, 1}. Labels that are all 0 or 1 are read as {0, 1} classes and mapped to -1 and
 * 1, as Keras does; the test runs on the device (one bool for the whole tensor), not in JS.
 */
function hingeLabels(t: Tensor): Tensor {
  const binary = ops.all(ops.logicalOr(ops.equal(t, 0), ops.equal(t, 1)));
  return ops.where(binary, ops.subtract(ops.multiply(t, 2), 1), t);
}

/** max(1 - t·p, 0) elementwise, with t in {-1, 1}. */
function margins(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  return ops.maximum(ops.subtract(1, ops.multiply(hingeLabels(t), p)), 0);
}

function hingeLoss(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  return ops.mean(margins(op, yTrue, yPred), -1);
}

function squaredHingeLoss(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  return ops.mean(ops.square(margins(op, yTrue, yPred)), -1);
}

function categoricalHingeLoss(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  const pos = ops.sum(ops.multiply(t, p), -1);
  const neg = ops.max(ops.multiply(ops.subtract(1, t), p), -1);
  return ops.maximum(ops.add(ops.subtract(neg, pos), 1), 0);
}

/**
 * mean(max(1 - yTrue·yPred, 0)) over the last axis; yTrue in {-1, 1} (or {0, 1}, converted).
 * @example
 * losses.hinge([[0, 1]], [[-0.5, 0.5]]);   // [0.5]
 */
export function hinge(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return tidy(() => hingeLoss('hinge', yTrue, yPred));
}

/** mean(max(1 - yTrue·yPred, 0)²) over the last axis; yTrue in {-1, 1} (or {0, 1}, converted). */
export function squaredHinge(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return tidy(() => squaredHingeLoss('squaredHinge', yTrue, yPred));
}

/** max(neg - pos + 1, 0) with pos = sum(yTrue·yPred), neg = max((1 - yTrue)·yPred), over the last axis. */
export function categoricalHinge(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return tidy(() => categoricalHingeLoss('categoricalHinge', yTrue, yPred));
}

/** The losses below take the default name, their class's in snake case (categorical_hinge). */
export class Hinge extends Loss {
  static readonly className = 'Hinge';
  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return hingeLoss(this.name, yTrue, yPred);
  }
}

export class SquaredHinge extends Loss {
  static readonly className = 'SquaredHinge';
  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return squaredHingeLoss(this.name, yTrue, yPred);
  }
}

export class CategoricalHinge extends Loss {
  static readonly className = 'CategoricalHinge';
  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return categoricalHingeLoss(this.name, yTrue, yPred);
  }
}
