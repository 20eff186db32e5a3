import type { TensorLike } from '../src/convert.js';
import { tidy } from '../src/memory.js';
import * as ops from '../src/ops/index.js';
import { normalizeAxes } from '../src/shape.js';
import type { Tensor } from '../src/tensor.js';
import { checkNumber, EPSILON, Loss, matchedPair, type LossConfig, type LossOptions } from './loss.js';

/** The axes the overlap is summed over; null (the default) sums over all of them, giving one value. */
export type OverlapAxis = number | readonly number[] | null;

export interface TverskyOptions {
  /** Weight of Keras's `fp` term, sum((1 - yPred)·yTrue). Default 0.5. */
  alpha?: number;
  /** Weight of Keras's `fn` term, sum(yPred·(1 - yTrue)). Default 0.5. */
  beta?: number;
  axis?: OverlapAxis;
}

function diceLoss(op: string, yTrue: TensorLike, yPred: TensorLike, axis: OverlapAxis): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  const axes = normalizeAxes(op, axis, p.rank);
  const intersection = ops.sum(ops.multiply(t, p), axes);
  const total = ops.add(ops.add(ops.sum(t, axes), ops.sum(p, axes)), EPSILON);
  return ops.subtract(1, ops.divide(ops.multiply(intersection, 2), total));
}

function tverskyLoss(op: string, yTrue: TensorLike, yPred: TensorLike, o: Required<TverskyOptions>): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  const axes = normalizeAxes(op, o.axis, p.rank);
  const intersection = ops.sum(ops.multiply(t, p), axes);
  // Keras's names, kept: its `fp` is the mass of the labels that yPred misses, its `fn` the reverse
  const fp = ops.sum(ops.multiply(ops.subtract(1, p), t), axes);
  const fn = ops.sum(ops.multiply(p, ops.subtract(1, t)), axes);
  const denominator = ops.add(ops.add(ops.add(intersection, ops.multiply(fp, o.alpha)), ops.multiply(fn, o.beta)), EPSILON);
  return ops.subtract(1, ops.divide(intersection, denominator));
}

function tverskyOptions(op: string, o: TverskyOptions): Required<TverskyOptions> {
  return { alpha: checkNumber(op, 'alpha', o.alpha ?? 0.5), beta: checkNumber(op, 'beta', o.beta ?? 0.5), axis: o.axis ?? null };
}

/**
 * 1 - 2·sum(yTrue·yPred) / (sum(yTrue) + sum(yPred) + ε), summed over `axis` (default: all axes).
 * @example
 * losses.dice([[1, 1, 0, 0]], [[0, 1, 0, 1]], 1);   // [0.5]
 */
export function dice(yTrue: TensorLike, yPred: TensorLike, axis: OverlapAxis = null): Tensor {
  return tidy(() => diceLoss('dice', yTrue, yPred, axis));
}

/** 1 - TP / (TP + alpha·fp + beta·fn + ε) over `axis` (default: all axes); alpha = beta = 0.5 is Dice. */
export function tversky(yTrue: TensorLike, yPred: TensorLike, options: TverskyOptions = {}): Tensor {
  return tidy(() => tverskyLoss('tversky', yTrue, yPred, tverskyOptions('tversky', options)));
}

export class Dice extends Loss {
  static readonly className = 'Dice';
  readonly axis: OverlapAxis;

  constructor(options: LossOptions & { axis?: OverlapAxis } = {}) {
    super(options);
    this.axis = options.axis ?? null;
  }

  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return diceLoss(this.name, yTrue, yPred, this.axis);
  }

  override getConfig(): LossConfig {
    return { ...super.getConfig(), axis: this.axis };
  }
}

export class Tversky extends Loss {
  static readonly className = 'Tversky';
  readonly options: Required<TverskyOptions>;

  constructor(options: LossOptions & TverskyOptions = {}) {
    super(options);
    this.options = tverskyOptions(this.name, options);
  }

  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return tverskyLoss(this.name, yTrue, yPred, this.options);
  }

  override getConfig(): LossConfig {
    return { ...super.getConfig(), ...this.options };
  }
}
