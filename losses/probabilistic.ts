import type { TensorLike } from '../src/convert.js';
import { fail } from '../src/errors.js';
import { tidy } from '../src/memory.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';
import { crossEntropy, logProbabilities } from '../src/fused/cross-entropy.js';
import {
  checkAxis, checkBoolean, checkNumber, EPSILON, Loss, matchedPair, type LossConfig, type LossOptions,
} from './loss.js';

export interface CrossentropyOptions {
  /** Whether yPred holds logits rather than probabilities. Default false. */
  fromLogits?: boolean;
  /** In [0, 1]: labels move this far toward uniform. Default 0. */
  labelSmoothing?: number;
  /** The class (categorical) or averaged (binary) axis. Default -1. */
  axis?: number;
}

export interface BinaryFocalOptions extends CrossentropyOptions {
  /** Weigh class 1 by alpha and class 0 by 1 - alpha. Default false. */
  applyClassBalancing?: boolean;
  alpha?: number;
  /** The focusing power: 0 gives plain crossentropy. Default 2. */
  gamma?: number;
}

export interface CategoricalFocalOptions extends CrossentropyOptions {
  alpha?: number;
  gamma?: number;
}

function crossentropyOptions(op: string, o: CrossentropyOptions): Required<CrossentropyOptions> {
  return {
    fromLogits: checkBoolean(op, 'fromLogits', o.fromLogits ?? false),
    labelSmoothing: checkNumber(op, 'labelSmoothing', o.labelSmoothing ?? 0, 0, 1),
    axis: o.axis ?? -1,
  };
}

function focalOptions(op: string, o: CategoricalFocalOptions): Required<CategoricalFocalOptions> {
  return {
    ...crossentropyOptions(op, o),
    alpha: checkNumber(op, 'alpha', o.alpha ?? 0.25),
    gamma: checkNumber(op, 'gamma', o.gamma ?? 2, 0),
  };
}

function binaryFocalOptions(op: string, o: BinaryFocalOptions): Required<BinaryFocalOptions> {
  return { ...focalOptions(op, o), applyClassBalancing: checkBoolean(op, 'applyClassBalancing', o.applyClassBalancing ?? false) };
}

/** Binary labels squeezed toward 0.5. */
function smoothBinary(t: Tensor, smoothing: number): Tensor {
  return smoothing ? ops.add(ops.multiply(t, 1 - smoothing), 0.5 * smoothing) : t;
}

/** One-hot labels moved toward uniform over `numClasses`. */
function smoothCategorical(t: Tensor, smoothing: number, numClasses: number): Tensor {
  return smoothing ? ops.add(ops.multiply(t, 1 - smoothing), smoothing / numClasses) : t;
}

/** Elementwise -(t·log p + (1 - t)·log(1 - p)). */
function binaryTerms(t: Tensor, p: Tensor, fromLogits: boolean): Tensor {
  // from logits x: softplus(x) - t·x, which is the same value without overflowing exp or log(0)
  if (fromLogits) return ops.subtract(ops.softplus(p), ops.multiply(t, p));
  const q = ops.clip(p, EPSILON, 1 - EPSILON);
  return ops.neg(ops.add(ops.multiply(t, ops.log(q)), ops.multiply(ops.subtract(1, t), ops.log(ops.subtract(1, q)))));
}

/** The class axis of yPred, which a categorical loss needs. */
export function classAxis(op: string, p: Tensor, axis: number): number {
  if (p.rank === 0) fail(op, 'yPred must have a class axis, got a scalar');
  return checkAxis(op, axis, p.rank);
}

function bce(op: string, yTrue: TensorLike, yPred: TensorLike, o: Required<CrossentropyOptions>): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  const a = checkAxis(op, o.axis, p.rank);
  return ops.mean(binaryTerms(smoothBinary(t, o.labelSmoothing), p, o.fromLogits), a);
}

function binaryFocal(op: string, yTrue: TensorLike, yPred: TensorLike, o: Required<BinaryFocalOptions>): Tensor {
  const [t0, p] = matchedPair(op, yTrue, yPred);
  const a = checkAxis(op, o.axis, p.rank);
  const t = smoothBinary(t0, o.labelSmoothing);
  const prob = o.fromLogits ? ops.sigmoid(p) : p;
  // the probability given to the true class; confident right answers are weighed down
  const pT = ops.add(ops.multiply(t, prob), ops.multiply(ops.subtract(1, t), ops.subtract(1, prob)));
  let focal = ops.multiply(ops.power(ops.subtract(1, pT), o.gamma), binaryTerms(t, p, o.fromLogits));
  if (o.applyClassBalancing) {
    focal = ops.multiply(ops.add(ops.multiply(t, o.alpha), ops.multiply(ops.subtract(1, t), 1 - o.alpha)), focal);
  }
  return ops.mean(focal, a);
}

function cce(op: string, yTrue: TensorLike, yPred: TensorLike, o: Required<CrossentropyOptions>): Tensor {
  const [t0, p] = matchedPair(op, yTrue, yPred);
  const a = classAxis(op, p, o.axis);
  const t = smoothCategorical(t0, o.labelSmoothing, p.shape[a]);
  return crossEntropy(p, t, { fromLogits: o.fromLogits, epsilon: EPSILON, axis: a });
}

function categoricalFocal(op: string, yTrue: TensorLike, yPred: TensorLike, o: Required<CategoricalFocalOptions>): Tensor {
  const [t0, p] = matchedPair(op, yTrue, yPred);
  const a = classAxis(op, p, o.axis);
  const t = smoothCategorical(t0, o.labelSmoothing, p.shape[a]);
  const logProb = logProbabilities(p, a, o.fromLogits, EPSILON);
  // from logits the probability is exp(log-softmax), unclipped: Keras clips softmax's output, which
  // differs only where a probability is within ε of 0 or 1
  const prob = o.fromLogits ? ops.exp(logProb) : ops.clip(ops.divide(p, ops.sum(p, a, true)), EPSILON, 1 - EPSILON);
  const weight = ops.multiply(ops.power(ops.subtract(1, prob), o.gamma), o.alpha);
  return ops.sum(ops.multiply(weight, ops.neg(ops.multiply(t, logProb))), a);
}

function kld(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t0, p0] = matchedPair(op, yTrue, yPred);
  const t = ops.clip(t0, EPSILON, 1);
  const p = ops.clip(p0, EPSILON, 1);
  return ops.sum(ops.multiply(t, ops.log(ops.divide(t, p))), -1);
}

function poissonLoss(op: string, yTrue: TensorLike, yPred: TensorLike): Tensor {
  const [t, p] = matchedPair(op, yTrue, yPred);
  return ops.mean(ops.subtract(p, ops.multiply(t, ops.log(ops.add(p, EPSILON)))), -1);
}

/**
 * The mean over `axis` of -(t·log p + (1 - t)·log(1 - p)), probabilities clipped to [ε, 1-ε].
 * @example
 * losses.binaryCrossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]);   // [0.916, 0.714]
 */
export function binaryCrossentropy(yTrue: TensorLike, yPred: TensorLike, options: CrossentropyOptions = {}): Tensor {
  return tidy(() => bce('binaryCrossentropy', yTrue, yPred, crossentropyOptions('binaryCrossentropy', options)));
}

/** Binary crossentropy times (1 - p_t)^gamma (Lin et al., 2018), averaged over `axis`. */
export function binaryFocalCrossentropy(yTrue: TensorLike, yPred: TensorLike, options: BinaryFocalOptions = {}): Tensor {
  const op = 'binaryFocalCrossentropy';
  return tidy(() => binaryFocal(op, yTrue, yPred, binaryFocalOptions(op, options)));
}

/** -sum(yTrue · log p) over the class axis, for one-hot (or soft) labels. */
export function categoricalCrossentropy(yTrue: TensorLike, yPred: TensorLike, options: CrossentropyOptions = {}): Tensor {
  const op = 'categoricalCrossentropy';
  return tidy(() => cce(op, yTrue, yPred, crossentropyOptions(op, options)));
}

/** sum(alpha · (1 - p)^gamma · -yTrue · log p) over the class axis. */
export function categoricalFocalCrossentropy(yTrue: TensorLike, yPred: TensorLike, options: CategoricalFocalOptions = {}): Tensor {
  const op = 'categoricalFocalCrossentropy';
  return tidy(() => categoricalFocal(op, yTrue, yPred, focalOptions(op, options)));
}

/** sum(t · log(t / p)) over the last axis, both clipped to [ε, 1]. */
export function klDivergence(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return tidy(() => kld('klDivergence', yTrue, yPred));
}

/** mean(yPred - yTrue · log(yPred + ε)) over the last axis. */
export function poisson(yTrue: TensorLike, yPred: TensorLike): Tensor {
  return tidy(() => poissonLoss('poisson', yTrue, yPred));
}

/** Each loss below takes the default name, its class's in snake case (kl_divergence). */
export class BinaryCrossentropy extends Loss {
  static readonly className = 'BinaryCrossentropy';
  readonly options: Required<CrossentropyOptions>;

  constructor(options: LossOptions & CrossentropyOptions = {}) {
    super(options);
    this.options = crossentropyOptions(this.name, options);
  }

  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return bce(this.name, yTrue, yPred, this.options);
  }

  override getConfig(): LossConfig {
    return { ...super.getConfig(), ...this.options };
  }
}

export class BinaryFocalCrossentropy extends Loss {
  static readonly className = 'BinaryFocalCrossentropy';
  readonly options: Required<BinaryFocalOptions>;

  constructor(options: LossOptions & BinaryFocalOptions = {}) {
    super(options);
    this.options = binaryFocalOptions(this.name, options);
  }

  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return binaryFocal(this.name, yTrue, yPred, this.options);
  }

  override getConfig(): LossConfig {
    return { ...super.getConfig(), ...this.options };
  }
}

export class CategoricalCrossentropy extends Loss {
  static readonly className = 'CategoricalCrossentropy';
  readonly options: Required<CrossentropyOptions>;

  constructor(options: LossOptions & CrossentropyOptions = {}) {
    super(options);
    this.options = crossentropyOptions(this.name, options);
  }

  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return cce(this.name, yTrue, yPred, this.options);
  }

  override getConfig(): LossConfig {
    return { ...super.getConfig(), ...this.options };
  }
}

export class CategoricalFocalCrossentropy extends Loss {
  static readonly className = 'CategoricalFocalCrossentropy';
  readonly options: Required<CategoricalFocalOptions>;

  constructor(options: LossOptions & CategoricalFocalOptions = {}) {
    super(options);
    this.options = focalOptions(this.name, options);
  }

  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return categoricalFocal(this.name, yTrue, yPred, this.options);
  }

  override getConfig(): LossConfig {
    return { ...super.getConfig(), ...this.options };
  }
}

export class KLDivergence extends Loss {
  static readonly className = 'KLDivergence';
  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return kld(this.name, yTrue, yPred);
  }
}

export class Poisson extends Loss {
  static readonly className = 'Poisson';
  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    return poissonLoss(this.name, yTrue, yPred);
  }
}
