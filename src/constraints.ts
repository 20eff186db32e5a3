/**
 * Weight constraints, with Keras 3's names, defaults and formulas (keras.constraints): each
 * projects a weight back into an allowed set after every optimizer step.
 */
import * as ops from './ops/index.js';
import { fail } from './errors.js';
import { Registry, canonical, serialize, type Serialized } from './registry.js';
import { EPSILON } from './epsilon.js';
import type { Tensor } from './tensor.js';

export type ConstraintFn = (w: Tensor) => Tensor;

/** What a layer accepts as a constraint. */
export type ConstraintId = string | Constraint | { className: string; config?: object } | ConstraintFn;

/** The save format of a constraint. */
export type SerializedConstraint = Serialized;

/** The axes whose elements make up one norm: for a Dense kernel [in, out], axis 0 is each unit's incoming weights. */
export type NormAxis = number | readonly number[];

/** The base of every constraint: `call` returns the projected weight, same shape and dtype. */
export abstract class Constraint {
  abstract call(w: Tensor): Tensor;

  getConfig(): Record<string, unknown> {
    return {};
  }

  /** Keras's class name, as saved in configs. */
  get className(): string {
    return (this.constructor as { className?: string }).className ?? this.constructor.name;
  }
}

function norms(w: Tensor, axis: NormAxis): Tensor {
  return ops.sqrt(ops.sum(ops.square(w), axis, true));
}

/** `w * desired / (ε + norms)`: rescales each vector to its desired norm. */
function rescale(w: Tensor, n: Tensor, desired: Tensor): Tensor {
  return ops.multiply(w, ops.divide(desired, ops.add(n, EPSILON)));
}

function checkNumber(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) fail(op, `${name} must be a number, got ${String(value)}`);
  return value;
}

/**
 * Caps the L2 norm of each weight vector along `axis` at `maxValue` (keras.constraints.MaxNorm).
 * @example
 * new kiln.constraints.MaxNorm({ maxValue: 1 }).call(kiln.tensor([[3], [4]])); // ≈ [[0.6], [0.8]]
 */
export class MaxNorm extends Constraint {
  static readonly className = 'MaxNorm';
  readonly maxValue: number;
  readonly axis: NormAxis;

  constructor({ maxValue = 2, axis = 0 }: { maxValue?: number; axis?: NormAxis } = {}) {
    super();
    this.maxValue = checkNumber('MaxNorm', 'maxValue', maxValue);
    this.axis = axis;
  }

  call(w: Tensor): Tensor {
    const n = norms(w, this.axis);
    return rescale(w, n, ops.clip(n, 0, this.maxValue));
  }

  override getConfig(): Record<string, unknown> {
    return { maxValue: this.maxValue, axis: this.axis };
  }
}

/**
 * Moves the L2 norm of each weight vector along `axis` into [minValue, maxValue]
 * (keras.constraints.MinMaxNorm); `rate` < 1 moves it only that fraction of the way per step:
 * the new norm is `rate * clip(norm) + (1 - rate) * norm`.
 * @example
 * new kiln.constraints.MinMaxNorm({ minValue: 1, maxValue: 2 }).call(kiln.tensor([[0.3], [0.4]])); // ≈ [[0.6], [0.8]]
 */
export class MinMaxNorm extends Constraint {
  static readonly className = 'MinMaxNorm';
  readonly minValue: number;
  readonly maxValue: number;
  readonly rate: number;
  readonly axis: NormAxis;

  constructor({ minValue = 0, maxValue = 1, rate = 1, axis = 0 }: { minValue?: number; maxValue?: number; rate?: number; axis?: NormAxis } = {}) {
    super();
    this.minValue = checkNumber('MinMaxNorm', 'minValue', minValue);
    this.maxValue = checkNumber('MinMaxNorm', 'maxValue', maxValue);
    this.rate = checkNumber('MinMaxNorm', 'rate', rate);
    this.axis = axis;
  }

  call(w: Tensor): Tensor {
    const n = norms(w, this.axis);
    const desired = ops.add(ops.multiply(ops.clip(n, this.minValue, this.maxValue), this.rate), ops.multiply(n, 1 - this.rate));
    return rescale(w, n, desired);
  }

  override getConfig(): Record<string, unknown> {
    return { minValue: this.minValue, maxValue: this.maxValue, rate: this.rate, axis: this.axis };
  }
}

/**
 * Sets negative weights to zero (keras.constraints.NonNeg).
 * @example
 * new kiln.constraints.NonNeg().call(kiln.tensor([-1, 2])); // [0, 2]
 */
export class NonNeg extends Constraint {
  static readonly className = 'NonNeg';
  call(w: Tensor): Tensor {
    return ops.maximum(w, 0);
  }
}

/**
 * Scales each weight vector along `axis` to unit L2 norm (keras.constraints.UnitNorm).
 * @example
 * new kiln.constraints.UnitNorm().call(kiln.tensor([[3], [4]])); // ≈ [[0.6], [0.8]]
 */
export class UnitNorm extends Constraint {
  static readonly className = 'UnitNorm';
  readonly axis: NormAxis;

  constructor({ axis = 0 }: { axis?: NormAxis } = {}) {
    super();
    this.axis = axis;
  }

  call(w: Tensor): Tensor {
    return ops.divide(w, ops.add(norms(w, this.axis), EPSILON));
  }

  override getConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
}

type ConstraintClass = new (config?: any) => Constraint;

/** Keras's string ids; under `canonical` class names ('MaxNorm') and camelCase ('maxNorm') match too. */
const CONSTRAINTS = new Registry<ConstraintClass>('constraint', canonical).registerAll([
  [MaxNorm, 'max_norm'], [MinMaxNorm, 'min_max_norm'], [NonNeg, 'non_neg'], [UnitNorm, 'unit_norm'],
]);

/** Config keys in camelCase, so configs saved by Keras (max_value) load too. */
function camelKeys(config: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
}

function toConstraint(id: Exclude<ConstraintId, ConstraintFn>, op: string): Constraint {
  if (id instanceof Constraint) return id;
  return CONSTRAINTS.create(id, op, camelKeys) ?? fail(op, `expected a string id, a Constraint, { className, config } or a function, got ${JSON.stringify(id) ?? typeof id}`);
}

/**
 * The projection function for `id`: a Keras string id, a Constraint, a saved
 * `{ className, config }`, or a function (returned as is).
 * @example
 * const w = kiln.constraints.getConstraint('non_neg')(kiln.tensor([-1, 2])); // [0, 2]
 */
export function getConstraint(id: ConstraintId): ConstraintFn {
  if (typeof id === 'function') return id;
  const c = toConstraint(id, 'getConstraint');
  return (w) => c.call(w);
}

/**
 * The save format of a constraint (or of a string id): `{ className, config }`, which
 * getConstraint accepts back.
 * @example
 * kiln.constraints.serializeConstraint(new kiln.constraints.MaxNorm({ maxValue: 3 })); // { className: 'MaxNorm', config: { maxValue: 3, axis: 0 } }
 */
export function serializeConstraint(id: ConstraintId): SerializedConstraint {
  if (typeof id === 'function') {
    fail('serializeConstraint', `cannot save the function ${id.name || '(anonymous)'}; use a string id or a Constraint instance (${CONSTRAINTS.known()})`);
  }
  return serialize(toConstraint(id, 'serializeConstraint'));
}
