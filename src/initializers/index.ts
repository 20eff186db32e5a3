/** Weight initializers by class and by Keras string id (keras.initializers). */
import { fail } from '../errors.js';
import { Initializer, type InitializerFn, type InitializerId, type SerializedInitializer } from './initializer.js';
import { Constant, Ones, Zeros } from './constant.js';
import { RandomNormal, RandomUniform, TruncatedNormal } from './random.js';
import { GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform, VarianceScaling } from './variance-scaling.js';
import { Orthogonal } from './orthogonal.js';
import { Identity } from './identity.js';

export * from './initializer.js';
export * from './constant.js';
export * from './random.js';
export * from './variance-scaling.js';
export * from './orthogonal.js';
export * from './identity.js';

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
