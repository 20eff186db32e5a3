/**
 * Weight initializers, with Keras 3's names, defaults and formulas (keras.initializers).
 *
 * An initializer is an object with `call(shape, dtype)`; layers take one, a string id
 * ('glorot_uniform'), a saved `{ className, config }` or a plain function, and turn it into a
 * function with `getInitializer`.
 */
import type { DType } from '../backends/contract.js';
import { fail } from './errors.js';
import { fill, zeros } from './creation.js';
import { tensorFrom } from './convert.js';
import { normal, truncatedNormal, uniform } from './random.js';
import type { Tensor } from './tensor.js';

/** What layers call: a fresh tensor of `shape` and `dtype`. */
export type InitializerFn = (shape: readonly number[], dtype: DType) => Tensor;

/** What a layer accepts as an initializer. */
export type InitializerId = string | Initializer | { className: string; config?: object } | InitializerFn;

/** The save format of an initializer. */
export interface SerializedInitializer {
  className: string;
  config: Record<string, unknown>;
}

/**
 * The base of every initializer: `call` makes the values, `getConfig` returns the constructor
 * options as plain JSON (so `new Cls(init.getConfig())` rebuilds it).
 */
export abstract class Initializer {
  abstract call(shape: readonly number[], dtype?: DType): Tensor;

  getConfig(): Record<string, unknown> {
    return {};
  }

  /** Keras's class name, as saved in configs. */
  get className(): string {
    return (this.constructor as { className?: string }).className ?? this.constructor.name;
  }
}

/**
 * All zeros.
 * @example
 * new kiln.initializers.Zeros().call([2, 3]); // float32 [2,3] of 0
 */
export class Zeros extends Initializer {
  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return zeros(shape, dtype);
  }
}

/**
 * All ones.
 * @example
 * new kiln.initializers.Ones().call([3]); // [1, 1, 1]
 */
export class Ones extends Initializer {
  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return fill(shape, 1, dtype);
  }
}

/**
 * Every element set to `value` (default 0).
 * @example
 * new kiln.initializers.Constant({ value: 0.1 }).call([4]); // [0.1, 0.1, 0.1, 0.1]
 */
export class Constant extends Initializer {
  readonly value: number;

  constructor({ value = 0 }: { value?: number } = {}) {
    super();
    if (typeof value !== 'number') fail('Constant', `value must be a number, got ${typeof value}`);
    this.value = value;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return fill(shape, this.value, dtype);
  }

  override getConfig(): Record<string, unknown> {
    return { value: this.value };
  }
}

/**
 * Base of the random initializers. With a seed, every call draws the same values (as in Keras);
 * without one, each call draws from kiln's global stream, so `kiln.setSeed` makes it
 * reproducible. (Keras instead fixes a hidden seed per unseeded instance and warns when one is
 * reused: the same values in two layers is rarely what anyone wants.)
 */
export abstract class RandomInitializer extends Initializer {
  readonly seed: number | undefined;

  constructor(seed: number | null | undefined) {
    super();
    if (seed !== undefined && seed !== null && !Number.isInteger(seed)) {
      fail(this.className, `seed must be an integer, got ${seed}`);
    }
    this.seed = seed ?? undefined;
  }

  override getConfig(): Record<string, unknown> {
    return { seed: this.seed ?? null };
  }
}

export interface SeedOptions {
  seed?: number | null;
}

/**
 * Normal draws (keras.initializers.RandomNormal): mean 0, stddev 0.05 by default.
 * @example
 * new kiln.initializers.RandomNormal({ stddev: 0.02, seed: 1 }).call([128, 64]);
 */
export class RandomNormal extends RandomInitializer {
  readonly mean: number;
  readonly stddev: number;

  constructor({ mean = 0, stddev = 0.05, seed }: { mean?: number; stddev?: number } & SeedOptions = {}) {
    super(seed);
    this.mean = mean;
    this.stddev = stddev;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return normal(shape, { mean: this.mean, stddev: this.stddev, dtype, seed: this.seed });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mean: this.mean, stddev: this.stddev };
  }
}

/**
 * Uniform draws in [minval, maxval) (keras.initializers.RandomUniform): [-0.05, 0.05) by default.
 * @example
 * new kiln.initializers.RandomUniform({ minval: 0, maxval: 1, seed: 1 }).call([10]);
 */
export class RandomUniform extends RandomInitializer {
  readonly minval: number;
  readonly maxval: number;

  constructor({ minval = -0.05, maxval = 0.05, seed }: { minval?: number; maxval?: number } & SeedOptions = {}) {
    super(seed);
    this.minval = minval;
    this.maxval = maxval;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return uniform(shape, { minval: this.minval, maxval: this.maxval, dtype, seed: this.seed });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), minval: this.minval, maxval: this.maxval };
  }
}

/**
 * Normal draws redrawn until within two stddev of the mean (keras.initializers.TruncatedNormal).
 * `stddev` is that of the normal before truncation, as in Keras.
 * @example
 * new kiln.initializers.TruncatedNormal({ stddev: 0.02, seed: 1 }).call([768, 768]);
 */
export class TruncatedNormal extends RandomInitializer {
  readonly mean: number;
  readonly stddev: number;

  constructor({ mean = 0, stddev = 0.05, seed }: { mean?: number; stddev?: number } & SeedOptions = {}) {
    super(seed);
    this.mean = mean;
    this.stddev = stddev;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return truncatedNormal(shape, { mean: this.mean, stddev: this.stddev, dtype, seed: this.seed });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mean: this.mean, stddev: this.stddev };
  }
}

/**
 * Fan-in and fan-out of a weight shape, as Keras's `compute_fans`: a matrix is [in, out]; a
 * convolution kernel is [...spatial, in, out], each input and output unit seeing the product of
 * the spatial dims (the receptive field).
 */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  let receptiveField = 1;
  for (const d of shape.slice(0, -2)) receptiveField *= d;
  return { fanIn: shape[shape.length - 2] * receptiveField, fanOut: shape[shape.length - 1] * receptiveField };
}

export type FanMode = 'fan_in' | 'fan_out' | 'fan_avg';
export type Distribution = 'truncated_normal' | 'untruncated_normal' | 'uniform';

export interface VarianceScalingOptions extends SeedOptions {
  scale?: number;
  mode?: FanMode;
  /** 'normal' is accepted as Keras's old name for 'truncated_normal'. */
  distribution?: Distribution | 'normal';
}

/**
 * The stddev of a standard normal truncated to [-2, 2]: dividing by it makes the truncated
 * draws' stddev the one asked for (Keras's constant).
 */
const TRUNCATED_STDDEV = 0.87962566103423978;

/**
 * Draws scaled to the weight's fans (keras.initializers.VarianceScaling): variance
 * `scale / n` where n is fan-in, fan-out or their mean. Normal draws get stddev `sqrt(scale / n)`
 * (after truncation, for 'truncated_normal'); uniform draws lie in ±`sqrt(3 * scale / n)`.
 * @example
 * new kiln.initializers.VarianceScaling({ scale: 2, mode: 'fan_out', distribution: 'untruncated_normal', seed: 1 }).call([3, 3, 16, 32]);
 */
export class VarianceScaling extends RandomInitializer {
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: Distribution;

  constructor({ scale = 1, mode = 'fan_in', distribution = 'truncated_normal', seed }: VarianceScalingOptions = {}) {
    super(seed);
    const name = this.className;
    if (!(scale > 0)) fail(name, `scale must be a positive number, got ${scale}`);
    if (!['fan_in', 'fan_out', 'fan_avg'].includes(mode)) fail(name, `mode must be one of fan_in, fan_out, fan_avg, got '${mode}'`);
    const dist = String(distribution).toLowerCase();
    const resolved = dist === 'normal' ? 'truncated_normal' : dist;
    if (!['truncated_normal', 'untruncated_normal', 'uniform'].includes(resolved)) {
      fail(name, `distribution must be one of truncated_normal, untruncated_normal, uniform, got '${distribution}'`);
    }
    this.scale = scale;
    this.mode = mode;
    this.distribution = resolved as Distribution;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const { fanIn, fanOut } = computeFans(shape);
    const n = this.mode === 'fan_in' ? fanIn : this.mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
    const variance = this.scale / Math.max(1, n);
    const seed = this.seed;
    switch (this.distribution) {
      case 'truncated_normal':
        return truncatedNormal(shape, { stddev: Math.sqrt(variance) / TRUNCATED_STDDEV, dtype, seed });
      case 'untruncated_normal':
        return normal(shape, { stddev: Math.sqrt(variance), dtype, seed });
      case 'uniform': {
        const limit = Math.sqrt(3 * variance);
        return uniform(shape, { minval: -limit, maxval: limit, dtype, seed });
      }
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scale: this.scale, mode: this.mode, distribution: this.distribution };
  }
}

/**
 * The presets are VarianceScaling with fixed arguments; like Keras, their config is the seed
 * alone, so a preset saved and loaded stays the same class.
 */
abstract class VarianceScalingPreset extends VarianceScaling {
  override getConfig(): Record<string, unknown> {
    return { seed: this.seed ?? null };
  }
}

/**
 * Glorot (Xavier) uniform: ±sqrt(6 / (fanIn + fanOut)). Keras's default kernel initializer.
 * @example
 * new kiln.initializers.GlorotUniform({ seed: 1 }).call([784, 128]);
 */
export class GlorotUniform extends VarianceScalingPreset {
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 1, mode: 'fan_avg', distribution: 'uniform', seed });
  }
}

/**
 * Glorot (Xavier) normal: truncated normal with stddev sqrt(2 / (fanIn + fanOut)).
 * @example
 * new kiln.initializers.GlorotNormal({ seed: 1 }).call([784, 128]);
 */
export class GlorotNormal extends VarianceScalingPreset {
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 1, mode: 'fan_avg', distribution: 'truncated_normal', seed });
  }
}

/**
 * He normal: truncated normal with stddev sqrt(2 / fanIn), for ReLU networks.
 * @example
 * new kiln.initializers.HeNormal({ seed: 1 }).call([3, 3, 64, 128]);
 */
export class HeNormal extends VarianceScalingPreset {
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 2, mode: 'fan_in', distribution: 'truncated_normal', seed });
  }
}

/**
 * He uniform: ±sqrt(6 / fanIn).
 * @example
 * new kiln.initializers.HeUniform({ seed: 1 }).call([256, 256]);
 */
export class HeUniform extends VarianceScalingPreset {
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 2, mode: 'fan_in', distribution: 'uniform', seed });
  }
}

/**
 * LeCun normal: truncated normal with stddev sqrt(1 / fanIn), for SELU networks.
 * @example
 * new kiln.initializers.LecunNormal({ seed: 1 }).call([256, 256]);
 */
export class LecunNormal extends VarianceScalingPreset {
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 1, mode: 'fan_in', distribution: 'truncated_normal', seed });
  }
}

/**
 * LeCun uniform: ±sqrt(3 / fanIn).
 * @example
 * new kiln.initializers.LecunUniform({ seed: 1 }).call([256, 256]);
 */
export class LecunUniform extends VarianceScalingPreset {
  constructor({ seed }: SeedOptions = {}) {
    super({ scale: 1, mode: 'fan_in', distribution: 'uniform', seed });
  }
}

/**
 * An orthogonal matrix times `gain` (keras.initializers.Orthogonal): the Q of a QR
 * decomposition of normal draws. A shape of rank > 2 is treated as the matrix
 * [prod(shape[:-1]), shape[-1]]; its columns are orthonormal, or its rows when there are fewer
 * rows than columns.
 * @example
 * const w = new kiln.initializers.Orthogonal({ seed: 1 }).call([64, 64]); // wᵀw = I
 */
export class Orthogonal extends RandomInitializer {
  readonly gain: number;

  constructor({ gain = 1, seed }: { gain?: number } & SeedOptions = {}) {
    super(seed);
    this.gain = gain;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    if (shape.length < 2) fail('Orthogonal', `the shape must have rank >= 2, got [${shape.join(',')}] of rank ${shape.length}`);
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const cols = shape[shape.length - 1];
    const [m, n] = [Math.max(rows, cols), Math.min(rows, cols)];
    // Drawn in `dtype`, as Keras does, then factored in float64 here: QR is not a kernel.
    const draws = normal([m, n], { dtype, seed: this.seed });
    let a: Float64Array;
    try {
      if (!draws.dataHandle().backend.readSync) {
        fail('Orthogonal', `needs a backend with synchronous reads (reference, native); '${draws.backendName}' reads asynchronously`);
      }
      a = Float64Array.from(draws.dataSync());
    } finally {
      draws.dispose();
    }
    const q = orthonormalColumns(a, m, n);
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        // fewer rows than columns: the transpose, whose rows are then orthonormal
        const k = rows >= cols ? i * n + j : j * m + i;
        out[k] = this.gain * q[i * n + j];
      }
    }
    return tensorFrom(out, shape, dtype, 'Orthogonal');
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), gain: this.gain };
  }
}

/**
 * Q of the reduced QR decomposition of the row-major m×n matrix `a` (m >= n), by Householder
 * reflections, with each column's sign chosen so that R's diagonal is non-negative: that makes
 * Q a function of `a` alone (whatever the QR algorithm), and, for normal `a`, uniformly
 * distributed (Keras multiplies Q by sign(diag(R)) for the same reason). A zero diagonal entry
 * (probability 0) keeps its column as is rather than zeroing it, as sign(0) would.
 */
function orthonormalColumns(a: Float64Array, m: number, n: number): Float64Array {
  const r = a; // reduced to R in place
  const reflectors: { v: Float64Array; vv: number }[] = [];
  const diag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += r[i * n + k] ** 2;
    norm = Math.sqrt(norm);
    const x0 = r[k * n + k];
    // reflect onto -sign(x0)·|x|·e1 so that v = x - alpha·e1 does not cancel
    const alpha = x0 > 0 ? -norm : norm;
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = r[i * n + k];
    v[0] -= alpha;
    const vv = v.reduce((s, x) => s + x * x, 0);
    // an all-zero column needs no reflection
    if (vv > 0) reflect(v, vv, r, k, n, k);
    diag[k] = vv > 0 ? alpha : x0;
    reflectors.push({ v, vv });
  }
  // Q = H0·H1·…·H(n-1) applied to the first n columns of the identity
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const { v, vv } = reflectors[k];
    if (vv > 0) reflect(v, vv, q, k, n, 0);
  }
  for (let j = 0; j < n; j++) {
    if (diag[j] < 0) for (let i = 0; i < m; i++) q[i * n + j] = -q[i * n + j];
  }
  return q;
}

/** Applies I - 2vvᵀ/(vᵀv) to rows k… and columns c0… of the row-major matrix `x` with n columns. */
function reflect(v: Float64Array, vv: number, x: Float64Array, k: number, n: number, c0: number): void {
  for (let c = c0; c < n; c++) {
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += v[i] * x[(k + i) * n + c];
    const f = (2 * dot) / vv;
    for (let i = 0; i < v.length; i++) x[(k + i) * n + c] -= f * v[i];
  }
}

/**
 * The identity matrix times `gain` (keras.initializers.Identity); 2-D shapes only, and a
 * non-square shape gets ones on the main diagonal.
 * @example
 * new kiln.initializers.Identity({ gain: 2 }).call([3, 3]); // 2·I
 */
export class Identity extends Initializer {
  readonly gain: number;

  constructor({ gain = 1 }: { gain?: number } = {}) {
    super();
    this.gain = gain;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    if (shape.length !== 2) {
      fail('Identity', `only 2-D shapes have an identity matrix, got [${shape.join(',')}] of rank ${shape.length}`);
    }
    const [rows, cols] = shape;
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < Math.min(rows, cols); i++) data[i * cols + i] = this.gain;
    return tensorFrom(data, shape, dtype, 'Identity');
  }

  override getConfig(): Record<string, unknown> {
    return { gain: this.gain };
  }
}

type InitializerClass = new (config?: any) => Initializer;

/** Keras's string ids; a class's name ('GlorotUniform') and camelCase ('glorotUniform') also work. */
const REGISTRY: Record<string, InitializerClass> = {
  zeros: Zeros,
  ones: Ones,
  constant: Constant,
  random_normal: RandomNormal,
  random_uniform: RandomUniform,
  truncated_normal: TruncatedNormal,
  variance_scaling: VarianceScaling,
  glorot_uniform: GlorotUniform,
  glorot_normal: GlorotNormal,
  he_normal: HeNormal,
  he_uniform: HeUniform,
  lecun_normal: LecunNormal,
  lecun_uniform: LecunUniform,
  orthogonal: Orthogonal,
  identity: Identity,
};

/** 'glorot_uniform', 'glorotUniform' and 'GlorotUniform' all reduce to 'glorotuniform'. */
const canonical = (s: string): string => s.replace(/_/g, '').toLowerCase();
const BY_KEY = new Map<string, InitializerClass>([
  ...Object.entries(REGISTRY).map(([id, cls]) => [canonical(id), cls] as const),
  // Keras's other export names for these two
  ['orthogonalinitializer', Orthogonal],
  ['identityinitializer', Identity],
]);

function lookup(name: string, op: string): InitializerClass {
  const cls = BY_KEY.get(canonical(name));
  if (!cls) fail(op, `unknown initializer '${name}'; known ids: ${Object.keys(REGISTRY).join(', ')}`);
  return cls;
}

/** An Initializer instance for any id (functions excepted: they have no instance). */
function toInitializer(id: Exclude<InitializerId, InitializerFn>, op: string): Initializer {
  if (id instanceof Initializer) return id;
  if (typeof id === 'string') return new (lookup(id, op))();
  if (id !== null && typeof id === 'object' && typeof id.className === 'string') {
    return new (lookup(id.className, op))(id.config ?? {});
  }
  return fail(op, `expected a string id, an Initializer, { className, config } or a function, got ${describeValue(id)}`);
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return JSON.stringify(v) ?? 'an object';
  return `${typeof v} ${String(v)}`;
}

/**
 * The function that makes initial values for `id`: a Keras string id, an Initializer, a saved
 * `{ className, config }`, or a function (returned as is).
 * @example
 * const init = kiln.initializers.getInitializer('he_normal');
 * const w = init([3, 3, 16, 32], 'float32');
 */
export function getInitializer(id: InitializerId): InitializerFn {
  if (typeof id === 'function') return id;
  const init = toInitializer(id, 'getInitializer');
  return (shape, dtype) => init.call(shape, dtype);
}

/**
 * The save format of an initializer (or of a string id): `{ className, config }`, which
 * getInitializer accepts back.
 * @example
 * kiln.initializers.serializeInitializer(new kiln.initializers.RandomNormal({ stddev: 0.02 }));
 * // { className: 'RandomNormal', config: { seed: null, mean: 0, stddev: 0.02 } }
 */
export function serializeInitializer(id: InitializerId): SerializedInitializer {
  if (typeof id === 'function') {
    fail('serializeInitializer', `cannot save the function ${id.name || '(anonymous)'}; use a string id or an Initializer instance (known ids: ${Object.keys(REGISTRY).join(', ')})`);
  }
  const init = toInitializer(id, 'serializeInitializer');
  return { className: init.className, config: init.getConfig() };
}
