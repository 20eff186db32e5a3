import type { DType } from '../backends/contract.js';
import { asTensor, type TensorLike } from '../src/convert.js';
import { fail, fmtShape } from '../src/errors.js';
import { isFloat } from '../src/dtype.js';
import { tidy } from '../src/memory.js';
import * as ops from '../src/ops/index.js';
import { normalizeAxis, shapesEqual } from '../src/shape.js';
import type { Tensor } from '../src/tensor.js';
import { describe } from '../src/variable.js';
import { ownClassName } from '../src/registry.js';

/** keras.backend.epsilon(): keeps probabilities off 0 and 1 before a log, and divisors off 0. */
export { EPSILON } from '../src/epsilon.js';

/**
 * How per-sample losses become one value: 'sum_over_batch_size' and 'mean' divide the sum by the
 * number of loss elements, 'mean_with_sample_weight' by the sum of the sample weights, 'sum'
 * does not divide, and 'none' returns the weighted per-sample values.
 */
export const REDUCTIONS = ['sum_over_batch_size', 'sum', 'mean', 'mean_with_sample_weight', 'none'] as const;
export type Reduction = (typeof REDUCTIONS)[number];

export interface LossOptions {
  name?: string;
  /** Defaults to 'sum_over_batch_size'; null means 'none', as Keras's None does. */
  reduction?: Reduction | null;
}

/** What getConfig returns: plain JSON, the constructor's options. */
export type LossConfig = { name: string; reduction: Reduction } & Record<string, unknown>;

/**
 * The base of every loss, as keras.losses.Loss: `call` gives per-sample values, `apply` weights
 * and reduces them. A subclass implements `call`.
 * @example
 * class MeanCubed extends Loss {
 *   call(yTrue: Tensor, yPred: Tensor): Tensor {
 *     return kiln.ops.mean(kiln.ops.power(kiln.ops.abs(kiln.ops.subtract(yTrue, yPred)), 3), -1);
 *   }
 * }
 * new MeanCubed().apply([[0, 1]], [[1, 1]]);   // 0.5
 */
export abstract class Loss {
  readonly name: string;
  readonly reduction: Reduction;

  constructor(options: LossOptions = {}) {
    this.name = options.name ?? snakeCase(this.className);
    if (typeof this.name !== 'string') fail(this.className, `name must be a string, got ${describe(this.name)}`);
    this.reduction = checkReduction(this.name, options.reduction);
  }

  /**
   * The name the loss is saved under: its class's own static className, which kiln's losses all
   * declare. A class of yours without one is saved under its JS name; pass it to getLoss in
   * `custom` under that name to load it.
   */
  get className(): string {
    return ownClassName(this.constructor) ?? this.constructor.name;
  }

  /** Per-sample losses: yPred's shape less the reduced axis (or axes). */
  abstract call(yTrue: Tensor, yPred: Tensor): Tensor;

  /**
   * `call`'s values and which of them count (1) or not (0), for losses that leave some out
   * (SparseCategoricalCrossentropy's ignoreClass); null when all count.
   */
  protected callWithMask(yTrue: Tensor, yPred: Tensor): { values: Tensor; mask: Tensor | null } {
    return { values: this.call(yTrue, yPred), mask: null };
  }

  /**
   * The loss: per-sample values times `sampleWeight` (broadcast to them), reduced as
   * `this.reduction` says; a scalar unless the reduction is 'none'. `mask` is the mask on yPred
   * (a model's output carries it, layers/mask.ts): its false steps count for nothing, and the
   * averaging reductions average over the others only, as Keras's Loss.__call__ does.
   */
  apply(yTrue: TensorLike, yPred: TensorLike, sampleWeight?: TensorLike | null, mask?: Tensor | null): Tensor {
    return tidy(() => {
      const { values, mask: own } = this.callWithMask(asTensor(yTrue, this.name), floatPrediction(this.name, yPred));
      const given = mask == null ? null : maskFor(this.name, values, mask);
      const both = given !== null && own !== null ? ops.logicalAnd(given, own) : (given ?? own);
      return reduceWeightedValues(this.name, values, sampleWeight ?? null, both, this.reduction);
    });
  }

  getConfig(): LossConfig {
    return { name: this.name, reduction: this.reduction };
  }

  /** A loss of this class from what getConfig returned. */
  static fromConfig<T extends Loss>(this: new (config: never) => T, config: Record<string, unknown>): T {
    if (config === null || typeof config !== 'object') fail('fromConfig', `expected a config object, got ${describe(config)}`);
    return new this(config as never);
  }
}

/** A loss around a function of (yTrue, yPred) giving per-sample values (Keras's LossFunctionWrapper). */
export class LossFunctionWrapper extends Loss {
  static readonly className = 'LossFunctionWrapper';

  constructor(readonly fn: (yTrue: Tensor, yPred: Tensor) => Tensor, options: LossOptions = {}) {
    super({ ...options, name: options.name ?? functionName(fn) });
  }

  override call(yTrue: Tensor, yPred: Tensor): Tensor {
    // Keras matches a trailing 1 before calling the function, so custom functions see equal ranks
    const [t, p] = squeezeOrExpand(yTrue, yPred);
    return this.fn(t, p);
  }
}

function functionName(fn: unknown): string {
  if (typeof fn !== 'function') fail('LossFunctionWrapper', `expected a function, got ${describe(fn)}`);
  return fn.name ? snakeCase(fn.name) : 'loss';
}

function checkReduction(op: string, reduction: unknown): Reduction {
  if (reduction === undefined) return 'sum_over_batch_size';
  if (reduction === null) return 'none';
  if (!(REDUCTIONS as readonly unknown[]).includes(reduction)) {
    fail(op, `unknown reduction ${JSON.stringify(reduction)}; expected one of ${REDUCTIONS.map((r) => `'${r}'`).join(', ')}`);
  }
  return reduction as Reduction;
}

/**
 * The mask on yPred as the per-sample losses can use it: bool, a trailing 1 dropped, its axes
 * leading theirs ([batch, steps] against [batch, steps] losses, or [batch] against any), and
 * shaped to broadcast against them. Any other shape is a mask of the wrong shape.
 */
function maskFor(op: string, values: Tensor, mask: Tensor): Tensor {
  const m = mask.rank === values.rank + 1 && mask.shape[mask.rank - 1] === 1 ? ops.squeeze(mask, -1) : mask;
  // a mask of higher rank fails the comparison: its extra axes meet undefined
  if (!(m.rank >= 1 && m.shape.every((d, i) => d === values.shape[i]))) {
    fail(op, `the mask on yPred has shape ${fmtShape(mask.shape)}, which does not fit the per-sample losses of shape ${fmtShape(values.shape)}: its axes must lead theirs`);
  }
  return ops.reshape(ops.cast(m, 'bool'), [...m.shape, ...new Array<number>(values.rank - m.rank).fill(1)]);
}

/**
 * Keras's apply_mask: a mask joins the sample weights. Under the averaging reductions its true
 * steps weigh total / counted, so that an average over every value is the average over the
 * counted ones; under 'sum' (as metrics use it) it weighs 0 or 1.
 */
export function applyMask(op: string, sampleWeight: TensorLike | null, mask: Tensor | null, dtype: DType, reduction: Reduction): Tensor | null {
  const weight = sampleWeight === null ? null : ops.cast(asTensor(sampleWeight, op), dtype);
  if (mask === null) return weight;
  let m = ops.cast(mask, dtype);
  if (reduction === 'sum_over_batch_size' || reduction === 'mean') m = ops.multiply(m, ops.divideNoNan(m.size, ops.sum(m)));
  if (weight === null) return m;
  const [mm, w] = squeezeOrExpand(m, weight);
  return ops.multiply(perSample(op, mm, w, 'mask'), mm);
}

/**
 * Keras's reduce_weighted_values: the mask (if any) joins the sample weights (applyMask); then
 * values × weights, reduced.
 */
function reduceWeightedValues(
  op: string, values: Tensor, sampleWeight: TensorLike | null, mask: Tensor | null, reduction: Reduction,
): Tensor {
  let weight = applyMask(op, sampleWeight, mask, values.dtype, reduction);
  let weighted = values;
  if (weight !== null) {
    [weighted, weight] = squeezeOrExpand(values, weight);
    weight = perSample(op, weighted, weight);
    weighted = ops.multiply(weighted, weight);
  }
  if (reduction === 'none' || weighted.rank === 0) return weighted;
  const total = ops.sum(weighted);
  if (reduction === 'sum') return total;
  if (reduction === 'mean_with_sample_weight' && weight !== null) return ops.divideNoNan(total, ops.sum(weight));
  // an empty batch gives 0 (Keras's divide_no_nan), not NaN
  return ops.divideNoNan(total, weighted.size);
}

/**
 * Sample weights shaped to the values. Weights whose shape leads the values' ([N] against
 * per-timestep losses [N,T]) weigh whole samples, as tf.keras did, rather than NumPy-broadcasting
 * against the last axis; any other shape must broadcast to the values' shape.
 */
function perSample(op: string, values: Tensor, weight: Tensor, against = 'per-sample losses'): Tensor {
  // a scalar weight, or one of the values' own shape, leads them too: reshaped, it weighs the same
  const leads = weight.shape.every((d, i) => d === values.shape[i]);
  const w = leads ? ops.reshape(weight, [...weight.shape, ...new Array<number>(values.rank - weight.rank).fill(1)]) : weight;
  const lead = values.rank - w.rank;
  const ok = lead >= 0 && w.shape.every((d, i) => d === 1 || d === values.shape[lead + i]);
  if (!ok) fail(op, `sampleWeight of shape ${fmtShape(weight.shape)} does not fit the ${against} of shape ${fmtShape(values.shape)}`);
  return w;
}

/**
 * Keras's squeeze_or_expand_to_same_rank (keras/src/losses/loss.py): when the ranks differ by one
 * and the longer has a trailing 1, that axis is dropped, or added to a rank-1 partner when
 * `expandRank1` ([N,1] labels against [N] predictions compare per sample, never as an [N,N]
 * broadcast). Metrics match their labels with it too.
 */
export function squeezeOrExpand(a: Tensor, b: Tensor, expandRank1 = true): [Tensor, Tensor] {
  if (a.rank === b.rank + 1 && a.shape[a.rank - 1] === 1) {
    return b.rank === 1 && expandRank1 ? [a, ops.expandDims(b, -1)] : [ops.squeeze(a, -1), b];
  }
  if (b.rank === a.rank + 1 && b.shape[b.rank - 1] === 1) {
    return a.rank === 1 && expandRank1 ? [ops.expandDims(a, -1), b] : [a, ops.squeeze(b, -1)];
  }
  return [a, b];
}

/** yPred as a tensor, checked to be float (a loss's gradient flows into it). */
export function floatPrediction(op: string, yPred: TensorLike): Tensor {
  const p = asTensor(yPred, op);
  if (!isFloat(p.dtype)) fail(op, `yPred must be float32 or float64, got ${p.dtype} ${fmtShape(p.shape)}`);
  return p;
}

/**
 * yTrue cast to yPred's dtype, both at one rank (a trailing 1 dropped or added, as Keras does),
 * and checked to have the same shape.
 */
export function matchedPair(op: string, yTrue: TensorLike, yPred: TensorLike): [Tensor, Tensor] {
  const p = floatPrediction(op, yPred);
  const t = asTensor(yTrue, op, p.dtype);
  const [a, b] = squeezeOrExpand(ops.cast(t, p.dtype), p);
  if (!shapesEqual(a.shape, b.shape)) {
    fail(op, `yTrue and yPred must have the same shape (up to a trailing 1), got yTrue ${fmtShape(t.shape)} and yPred ${fmtShape(p.shape)}`);
  }
  return [a, b];
}

/** An integer axis of a tensor of `rank`, made non-negative. */
export function checkAxis(op: string, axis: unknown, rank: number): number {
  if (typeof axis !== 'number') fail(op, `axis must be an integer, got ${describe(axis)}`);
  return normalizeAxis(op, axis, rank);
}

export function checkNumber(op: string, what: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    const range = min === -Infinity && max === Infinity ? '' : ` in [${min}, ${max}]`;
    fail(op, `${what} must be a number${range}, got ${describe(value)}`);
  }
  return value;
}

export function checkBoolean(op: string, what: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(op, `${what} must be true or false, got ${describe(value)}`);
  return value;
}

/** MeanSquaredError → mean_squared_error, meanSquaredError → mean_squared_error. */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}
