import type { TensorLike } from '../src/convert.js';
import { tidy } from '../src/memory.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import { checkAxis, checkNumber, EPSILON, Loss, matchedPair, type LossConfig, type LossOptions } from './loss.js';

function mse(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  return ops.mean(ops.square(ops.subtract(t, p)), -1);
}

function mae(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  return ops.mean(ops.abs(ops.subtract(t, p)), -1);
}

function mape(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  // a zero label divides by ε: a huge loss rather than infinity
  const diff = ops.abs(ops.divide(ops.subtract(t, p), ops.maximum(ops.abs(t), EPSILON)));
  return ops.multiply(ops.mean(diff, -1), 100);
}

function msle(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  // values ≤ 0 count as ε, so the logs stay finite
  const logP = ops.log(ops.add(ops.maximum(p, EPSILON), 1));
  const logT = ops.log(ops.add(ops.maximum(t, EPSILON), 1));
  return ops.mean(ops.square(ops.subtract(logP, logT)), -1);
}

function huberLoss(op: string, yTrue: TensorLike, yPred: TensorLike, delta: number): Tensor {
  checkNumber(op, 'delta', delta, 0);
  const [t, p] = matchedPair(op, yTrue, yPred);
  const error = ops.subtract(p, t);
  const absError = ops.abs(error);
  const quadratic = ops.multiply(ops.square(error), 0.5);
  const linear = ops.subtract(ops.multiply(absError, delta), 0.5 * delta * delta);
  return ops.mean(ops.where(ops.lessEqual(absError, delta), quadratic, linear), -1);
}

function logCoshLoss(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  const x = ops.subtract(p, t);
  // log(cosh x) = x + softplus(-2x) - log 2: cosh overflows float32 past |x| ≈ 89, this does not
  return ops.mean(ops.subtract(ops.add(x, ops.softplus(ops.multiply(x, -2))), Math.LN2), -1);
}

/**
 * x / max(‖x‖, ε) along `axis` (keras.ops.normalize). Written with the max inside the square
 * root: Keras's min(rsqrt(s), 1/ε) has the same values, but rsqrt(0) = ∞ would make the gradient
 * of a zero vector NaN.
 */
function l2Normalize(x: Tensor, axis: number): Tensor {
  return ops.divide(x, ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis, true), EPSILON * EPSILON)));
}

function cosine(op: string, yTrue: TensorLike, yPred: TensorLike, axis: number): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  const a = checkAxis(op, axis, p.rank);
  return ops.neg(ops.sum(ops.multiply(l2Normalize(t, a), l2Normalize(p, a)), a));
}

/**
 * mean((yTrue - yPred)²) over the last axis.
 * @example
 * losses.meanSquaredError([[0, 1], [0, 0]], [[1, 1], [1, 0]]);   // [0.5, 0.5]
 */
export function meanSquaredError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return tidy(() => mse('meanSquaredError', yTrue, yPred));
}

/** mean(|yTrue - yPred|) over the last axis. */
export function meanAbsoluteError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return tidy(() => mae('meanAbsoluteError', yTrue, yPred));
}

/** 100 · mean(|yTrue - yPred| / max(|yTrue|, ε)) over the last axis. */
export function meanAbsolutePercentageError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return tidy(() => mape('meanAbsolutePercentageError', yTrue, yPred));
}

/** mean((log(max(yPred, ε) + 1) - log(max(yTrue, ε) + 1))²) over the last axis. */
export function meanSquaredLogarithmicError(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return tidy(() => msle('meanSquaredLogarithmicError', yTrue, yPred));
}

/** Quadratic for errors up to `delta`, linear beyond, averaged over the last axis. */
export function huber(yTrue: TensorLike, yPred: TensorLike, delta = 1): Tensor {
  return tidy(() => huberLoss('huber', yTrue, yPred, delta));
}

/** mean(log(cosh(yPred - yTrue))) over the last axis. */
export function logCosh(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return tidy(() => logCoshLoss('logCosh', yTrue, yPred));
}

/** The negated cosine similarity along `axis`: -1 for parallel vectors, 0 if either is zero. */
export function cosineSimilarity(yTrue: TensorLike, yPred: TensorLike, axis = -1): Tensor {
  return tidy(() => cosine('cosineSimilarity', yTrue, yPred, axis));
}

/** The losses below take the default name, their class's in snake case (mean_squared_error). */
export class MeanSquaredError extends Loss {
  static readonly className = 'MeanSquaredError';
  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return mse(this.name, yTrue, yPred);
  }
}

export class MeanAbsoluteError extends Loss {
  static readonly className = 'MeanAbsoluteError';
  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return mae(this.name, yTrue, yPred);
  }
}

export class MeanAbsolutePercentageError extends Loss {
  static readonly className = 'MeanAbsolutePercentageError';
  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return mape(this.name, yTrue, yPred);
  }
}

export class MeanSquaredLogarithmicError extends Loss {
  static readonly className = 'MeanSquaredLogarithmicError';
  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return msle(this.name, yTrue, yPred);
  }
}

export class Huber extends Loss {
  static readonly className = 'Huber';
  readonly delta: number;

  constructor(options: LossOptions & { delta?: number } = {}) {
    super({ ...options, name: options.name ?? 'huber_loss' });
    this.delta = checkNumber(this.name, 'delta', options.delta ?? 1, 0);
  }

  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return huberLoss(this.name, yTrue, yPred, this.delta);
  }

  override getConfig(): LossConfig {
    return { ...super.getConfig(), delta: this.delta };
  }
}

export class LogCosh extends Loss {
  static readonly className = 'LogCosh';
  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return logCoshLoss(this.name, yTrue, yPred);
  }
}

export class CosineSimilarity extends Loss {
  static readonly className = 'CosineSimilarity';
  readonly axis: number;

  constructor(options: LossOptions & { axis?: number } = {}) {
    super(options);
    this.axis = options.axis ?? -1;
  }

  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return cosine(this.name, yTrue, yPred, this.axis);
  }

  override getConfig(): LossConfig {
    return { ...super.getConfig(), axis: this.axis };
  }
}
