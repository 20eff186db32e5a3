/**
 * Activation functions by their Keras 3 string ids (keras.activations), composed from kiln.ops.
 * Layers take `activation: 'relu'` (or a function) and save it back as its id.
 */
import * as ops from './ops/index.js';
import { fail } from './errors.js';
import type { Tensor } from './tensor.js';
import type { FusedActivation } from '../backends/contract.js';

export type ActivationFn = (x: Tensor) => Tensor;

/** What a layer accepts as an activation; null and undefined mean 'linear'. */
export type ActivationId = string | ActivationFn | null | undefined;

/** The identity: a layer with no activation. */
export const linear: ActivationFn = (x) => x;

/** keras.activations.gelu defaults to the exact erf form (keras.ops.gelu to the tanh one). */
const gelu: ActivationFn = (x) => ops.gelu(x, false);

/** x · tanh(softplus(x)) (keras.activations.mish). */
const mish: ActivationFn = (x) => ops.multiply(x, ops.tanh(ops.softplus(x)));

/**
 * Keras's ids, each with the function it names. The ops are registered as themselves (their
 * defaults are Keras's activation defaults), so `serializeActivation(kiln.ops.relu)` is 'relu'.
 * An alias comes after the id it aliases: the first id of a function is the one saved.
 */
const REGISTRY: Record<string, ActivationFn> = {
  linear,
  relu: ops.relu,
  relu6: ops.relu6,
  leaky_relu: ops.leakyRelu,
  elu: ops.elu,
  selu: ops.selu,
  gelu,
  silu: ops.silu,
  swish: ops.silu,
  sigmoid: ops.sigmoid,
  hard_sigmoid: ops.hardSigmoid,
  hard_silu: ops.hardSilu,
  hard_swish: ops.hardSilu,
  softplus: ops.softplus,
  softsign: ops.softsign,
  softmax: ops.softmax,
  log_softmax: ops.logSoftmax,
  tanh: ops.tanh,
  exponential: ops.exp,
  mish,
};

/** 'log_softmax', 'logSoftmax' and 'LogSoftmax' all reduce to 'logsoftmax'. */
const canonical = (s: string): string => s.replace(/_/g, '').toLowerCase();
const BY_KEY = new Map(Object.entries(REGISTRY).map(([id, fn]) => [canonical(id), fn]));

const ID_OF = new Map<ActivationFn, string>();
for (const [id, fn] of Object.entries(REGISTRY)) if (!ID_OF.has(fn)) ID_OF.set(fn, id);

function known(): string {
  return Object.keys(REGISTRY).join(', ');
}

/**
 * The activation function for `id`: a Keras string id ('relu', 'softmax', …, camelCase too),
 * a function (returned as is), or null/undefined for linear.
 * @example
 * const act = kiln.activations.getActivation('gelu');
 * act(kiln.tensor([0, 1]));   // [0, 0.8413]
 */
/** The name a fused dense kernel knows `fn` by, or null when the activation must follow it as ops. */
export function fusedActivationOf(fn: ActivationFn): FusedActivation | null {
  if (fn === linear) return 'linear';
  if (fn === ops.relu) return 'relu';
  if (fn === ops.sigmoid) return 'sigmoid';
  if (fn === ops.tanh) return 'tanh';
  return null;
}

export function getActivation(id: ActivationId): ActivationFn {
  if (id === null || id === undefined) return linear;
  if (typeof id === 'function') return id;
  if (typeof id !== 'string') fail('getActivation', `expected a string id, a function or null, got ${typeof id}`);
  const fn = BY_KEY.get(canonical(id));
  if (!fn) fail('getActivation', `unknown activation '${id}'; known ids: ${known()}`);
  return fn;
}

/**
 * The string id that getConfig saves for an activation: a known function's id, or a string id
 * in its canonical form. A function of the user's own has no id that could be loaded back.
 * @example
 * kiln.activations.serializeActivation(kiln.activations.getActivation('swish'));   // 'silu'
 */
export function serializeActivation(id: ActivationId): string {
  if (id === null || id === undefined) return 'linear';
  if (typeof id === 'string') {
    // the canonical spelling of the function the string names, so aliases save as Keras does
    return ID_OF.get(getActivation(id))!;
  }
  const name = ID_OF.get(id);
  if (name === undefined) {
    fail('serializeActivation', `cannot save the activation function ${id.name ? `'${id.name}'` : '(anonymous)'}: it is not one of the known ids (${known()}); pass a string id to make the layer savable`);
  }
  return name;
}
