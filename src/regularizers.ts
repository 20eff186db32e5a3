/**
 * Weight regularizers, with Keras 3's names, defaults and formulas (keras.regularizers): each
 * maps a weight to a scalar penalty that training adds to the loss.
 */
import * as ops from './ops/index.js';
import { fail, fmtShape } from './errors.js';
import { Registry, canonical, serialize, type Serialized } from './registry.js';
import { eye, zeros } from './creation.js';
import type { Tensor } from './tensor.js';

export type RegularizerFn = (w: Tensor) => Tensor;

/** What a layer accepts as a regularizer. */
export type RegularizerId = string | Regularizer | { className: string; config?: object } | RegularizerFn;

/** The save format of a regularizer. */
export type SerializedRegularizer = Serialized;

/** The base of every regularizer: `call` returns a scalar penalty of the weight's dtype. */
export abstract class Regularizer {
  abstract call(w: Tensor): Tensor;

  abstract getConfig(): Record<string, unknown>;

  /** Keras's class name, as saved in configs. */
  get className(): string {
    return (this.constructor as { className?: string }).className ?? this.constructor.name;
  }
}

/** Keras rejects negative, infinite and NaN factors: a negative penalty rewards large weights. */
function factor(op: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(op, `${name} must be a non-negative finite number, got ${String(value)}`);
  }
  return value;
}

/**
 * `l1 * sum(|w|)` (keras.regularizers.L1), l1 = 0.01 by default.
 * @example
 * new kiln.regularizers.L1({ l1: 0.1 }).call(kiln.tensor([1, -2])); // 0.3
 */
export class L1 extends Regularizer {
  static readonly className = 'L1';
  readonly l1: number;

  constructor({ l1 = 0.01 }: { l1?: number | null } = {}) {
    super();
    this.l1 = factor('L1', 'l1', l1 ?? 0.01);
  }

  call(w: Tensor): Tensor {
    return ops.multiply(ops.sum(ops.abs(w)), this.l1);
  }

  getConfig(): Record<string, unknown> {
    return { l1: this.l1 };
  }
}

/**
 * `l2 * sum(w²)` (keras.regularizers.L2), l2 = 0.01 by default.
 * @example
 * new kiln.regularizers.L2({ l2: 0.1 }).call(kiln.tensor([1, -2])); // 0.5
 */
export class L2 extends Regularizer {
  static readonly className = 'L2';
  readonly l2: number;

  constructor({ l2 = 0.01 }: { l2?: number | null } = {}) {
    super();
    this.l2 = factor('L2', 'l2', l2 ?? 0.01);
  }

  call(w: Tensor): Tensor {
    return ops.multiply(ops.sum(ops.square(w)), this.l2);
  }

  getConfig(): Record<string, unknown> {
    return { l2: this.l2 };
  }
}

/**
 * `l1 * sum(|w|) + l2 * sum(w²)` (keras.regularizers.L1L2). Both factors default to 0, as in
 * Keras 3's class, so the string id 'l1_l2' alone adds no penalty: pass the factors.
 * @example
 * new kiln.regularizers.L1L2({ l1: 0.1, l2: 0.1 }).call(kiln.tensor([1, -2])); // 0.8
 */
export class L1L2 extends Regularizer {
  static readonly className = 'L1L2';
  readonly l1: number;
  readonly l2: number;

  constructor({ l1 = 0, l2 = 0 }: { l1?: number | null; l2?: number | null } = {}) {
    super();
    this.l1 = factor('L1L2', 'l1', l1 ?? 0);
    this.l2 = factor('L1L2', 'l2', l2 ?? 0);
  }

  call(w: Tensor): Tensor {
    // a zero factor adds no term at all (and no ops to the gradient tape)
    let penalty = zeros([], w.dtype);
    if (this.l1) penalty = ops.add(penalty, ops.multiply(ops.sum(ops.abs(w)), this.l1));
    if (this.l2) penalty = ops.add(penalty, ops.multiply(ops.sum(ops.square(w)), this.l2));
    return penalty;
  }

  getConfig(): Record<string, unknown> {
    return { l1: this.l1, l2: this.l2 };
  }
}

export type OrthogonalMode = 'rows' | 'columns';

/**
 * Pushes the rows (or columns) of a 2-D weight toward orthogonality
 * (keras.regularizers.OrthogonalRegularizer): `factor * 0.5 * sum(|offdiag(V·Vᵀ)|) / pairs`,
 * where V's rows are the L2-normalized rows (or columns) and pairs = n(n-1)/2.
 * @example
 * new kiln.regularizers.OrthogonalRegularizer({ factor: 1 }).call(kiln.tensor([[1, 0], [1, 1]])); // ≈ 0.7071
 */
export class OrthogonalRegularizer extends Regularizer {
  static readonly className = 'OrthogonalRegularizer';
  readonly factor: number;
  readonly mode: OrthogonalMode;

  constructor({ factor: f = 0.01, mode = 'rows' }: { factor?: number; mode?: OrthogonalMode } = {}) {
    super();
    this.factor = factor('OrthogonalRegularizer', 'factor', f);
    if (mode !== 'rows' && mode !== 'columns') fail('OrthogonalRegularizer', `mode must be 'rows' or 'columns', got '${mode}'`);
    this.mode = mode;
  }

  call(w: Tensor): Tensor {
    if (w.rank !== 2) fail('OrthogonalRegularizer', `expected a 2-D weight, got shape ${fmtShape(w.shape)}`);
    const vectors = this.mode === 'rows' ? w : ops.transpose(w);
    // x·rsqrt(Σx²), capped at 1/ε as keras.ops.normalize does, so a zero vector stays zero
    const inv = ops.minimum(ops.rsqrt(ops.sum(ops.square(vectors), 1, true)), 1 / 1e-7);
    const v = ops.multiply(vectors, inv);
    const n = v.shape[0];
    const product = ops.matmul(v, ops.transpose(v));
    const offDiagonal = ops.multiply(product, ops.subtract(1, eye(n, n, 0, w.dtype)));
    const pairs = (n * (n - 1)) / 2;
    return ops.divide(ops.multiply(ops.sum(ops.abs(offDiagonal)), this.factor * 0.5), pairs);
  }

  getConfig(): Record<string, unknown> {
    return { factor: this.factor, mode: this.mode };
  }
}

type RegularizerClass = new (config?: any) => Regularizer;

/** Keras's string ids; under `canonical` class names ('L1L2') and camelCase ('l1L2') match too. */
const REGULARIZERS = new Registry<RegularizerClass>('regularizer', canonical).registerAll([
  [L1, 'l1'], [L2, 'l2'], [L1L2, 'l1_l2'], [OrthogonalRegularizer, 'orthogonal_regularizer'],
]);

function toRegularizer(id: Exclude<RegularizerId, RegularizerFn>, op: string): Regularizer {
  if (id instanceof Regularizer) return id;
  return REGULARIZERS.create(id, op) ?? fail(op, `expected a string id, a Regularizer, { className, config } or a function, got ${JSON.stringify(id) ?? typeof id}`);
}

/**
 * The penalty function for `id`: a Keras string id, a Regularizer, a saved
 * `{ className, config }`, or a function (returned as is).
 * @example
 * const penalty = kiln.regularizers.getRegularizer('l2')(kiln.tensor([1, 2])); // 0.05
 */
export function getRegularizer(id: RegularizerId): RegularizerFn {
  if (typeof id === 'function') return id;
  const reg = toRegularizer(id, 'getRegularizer');
  return (w) => reg.call(w);
}

/**
 * The save format of a regularizer (or of a string id): `{ className, config }`, which
 * getRegularizer accepts back.
 * @example
 * kiln.regularizers.serializeRegularizer(new kiln.regularizers.L2({ l2: 1e-4 })); // { className: 'L2', config: { l2: 0.0001 } }
 */
export function serializeRegularizer(id: RegularizerId): SerializedRegularizer {
  if (typeof id === 'function') {
    fail('serializeRegularizer', `cannot save the function ${id.name || '(anonymous)'}; use a string id or a Regularizer instance (${REGULARIZERS.known()})`);
  }
  return serialize(toRegularizer(id, 'serializeRegularizer'));
}
