/** Weight initializers by class and by Keras string id (keras.initializers). */
import { fail } from '../errors.js';
import { Registry, canonical, serialize } from '../registry.js';
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

/** Keras's string ids; under `canonical` a class's name ('GlorotUniform') and camelCase ('glorotUniform') match too. */
const INITIALIZERS = new Registry<InitializerClass>('initializer', canonical).registerAll([
  [Zeros, 'zeros'], [Ones, 'ones'], [Constant, 'constant'], [RandomNormal, 'random_normal'], [RandomUniform, 'random_uniform'],
  [TruncatedNormal, 'truncated_normal'], [VarianceScaling, 'variance_scaling'], [GlorotUniform, 'glorot_uniform'],
  [GlorotNormal, 'glorot_normal'], [HeNormal, 'he_normal'], [HeUniform, 'he_uniform'], [LecunNormal, 'lecun_normal'],
  [LecunUniform, 'lecun_uniform'],
  // Keras also exports these two as OrthogonalInitializer and IdentityInitializer
  [Orthogonal, 'orthogonal', 'orthogonal_initializer'], [Identity, 'identity', 'identity_initializer'],
  // Keras's short aliases ('uniform' is Embedding's default), listed last in errors
  [Zeros, 'zero'], [Ones, 'one'], [RandomNormal, 'normal'], [RandomUniform, 'uniform'],
]);

/** An Initializer instance for any id (functions excepted: they have no instance). */
function toInitializer(id: Exclude<InitializerId, InitializerFn>, op: string): Initializer {
  if (id instanceof Initializer) return id;
  return INITIALIZERS.create(id, op) ?? fail(op, `expected a string id, an Initializer, { className, config } or a function, got ${describeValue(id)}`);
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
    fail('serializeInitializer', `cannot save the function ${id.name || '(anonymous)'}; use a string id or an Initializer instance (${INITIALIZERS.known()})`);
  }
  return serialize(toInitializer(id, 'serializeInitializer'));
}
