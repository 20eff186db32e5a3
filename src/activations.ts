/**
 * Activation functions by their Keras 3 string ids (keras.activations), composed from kiln.ops.
 * Layers take `activation: 'relu'` (or a function) and save it back as its id.
 */
import * as ops from './ops/index.js';
import { fail } from './errors.js';
import { Registry, canonical } from './registry.js';
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
 * A function's first id is the one saved; the others are aliases. Under `canonical`, camelCase
 * ('logSoftmax') and class-style names ('LeakyReLU') match too.
 */
const ACTIVATIONS = new Registry<ActivationFn>('activation', canonical)
  .add(linear, ['linear'])
  .add(ops.relu, ['relu'])
  .add(ops.relu6, ['relu6'])
  .add(ops.leakyRelu, ['leaky_relu'])
  .add(ops.elu, ['elu'])
  .add(ops.selu, ['selu'])
  .add(gelu, ['gelu'])
  .add(ops.silu, ['silu', 'swish'])
  .add(ops.sigmoid, ['sigmoid'])
  .add(ops.hardSigmoid, ['hard_sigmoid'])
  .add(ops.hardSilu, ['hard_silu', 'hard_swish'])
  .add(ops.softplus, ['softplus'])
  .add(ops.softsign, ['softsign'])
  .add(ops.softmax, ['softmax'])
  .add(ops.logSoftmax, ['log_softmax'])
  .add(ops.tanh, ['tanh'])
  .add(ops.exp, ['exponential'])
  .add(mish, ['mish']);

/** The name a fused dense kernel knows `fn` by, or null when the activation must follow it as ops. */
export function fusedActivationOf(fn: ActivationFn): FusedActivation | null {
  if (fn === linear) return 'linear';
  if (fn === ops.relu) return 'relu';
  if (fn === ops.sigmoid) return 'sigmoid';
  if (fn === ops.tanh) return 'tanh';
  return null;
}

/**
 * The activation function for `id`: a Keras string id ('relu', 'softmax', …, camelCase too),
 * a function (returned as is), or null/undefined for linear.
 * @example
 * const act = kiln.activations.getActivation('gelu');
 * act(kiln.tensor([0, 1]));   // [0, 0.8413]
 */
export function getActivation(id: ActivationId): ActivationFn {
  if (id === null || id === undefined) return linear;
  if (typeof id === 'function') return id;
  if (typeof id !== 'string') fail('getActivation', `expected a string id, a function or null, got ${typeof id}`);
  return ACTIVATIONS.lookup(id, 'getActivation');
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
    return ACTIVATIONS.nameOf(getActivation(id))!;
  }
  const name = ACTIVATIONS.nameOf(id);
  if (name === undefined) {
    fail('serializeActivation', `cannot save the activation function ${id.name ? `'${id.name}'` : '(anonymous)'}: it is not one of the known ids (${ACTIVATIONS.ids().join(', ')}); pass a string id to make the layer savable`);
  }
  return name;
}
