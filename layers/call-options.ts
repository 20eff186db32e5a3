/**
 * Call options that hold tensors: an RNN's `initialState`, an attention layer's `attentionMask`.
 * Keras records a call's tensor arguments as inputs of the node, and so does kiln: a layer lists
 * the names of such options in its class's `tensorCallOptions`; when it is applied to symbolic
 * tensors, the options' tensors are appended to the node's inputs (so the graph sorts, runs,
 * saves and exports them as it does any input) and `OptionInputs` says where they sit. Running
 * the node puts the values back into the options.
 */
import { fail } from '../src/errors.js';
import { SymbolicTensor } from '../src/symbolic.js';
import { Tensor } from '../src/tensor.js';

/**
 * Where a node's tensor options sit after its inputs, in order: each option's name and its
 * number of tensors, null for an option that holds one tensor rather than a list.
 */
export type OptionInputs = readonly (readonly [name: string, count: number | null])[];

type AnyTensor = Tensor | SymbolicTensor;

/**
 * The tensors of the options `names` as one list, where they sit, and the other options. An
 * option that is absent (or null) is left out; anything else must be a tensor or a list of them.
 */
export function splitTensorOptions<O extends object>(who: string, names: readonly string[], options: O): { tensors: AnyTensor[]; layout: OptionInputs; rest: O } {
  const rest = { ...options } as Record<string, unknown>;
  const tensors: AnyTensor[] = [];
  const layout: [string, number | null][] = [];
  for (const name of names) {
    const value = rest[name];
    delete rest[name];
    if (value === undefined || value === null) continue;
    const list = Array.isArray(value) ? value : [value];
    list.forEach((t, i) => {
      if (!(t instanceof Tensor) && !(t instanceof SymbolicTensor)) fail(who, `option '${name}'${Array.isArray(value) ? ` entry ${i}` : ''} must be a tensor, got ${t === null ? 'null' : typeof t}`);
    });
    tensors.push(...(list as AnyTensor[]));
    layout.push([name, Array.isArray(value) ? list.length : null]);
  }
  return { tensors, layout, rest: rest as O };
}

/** A node's inputs split back into the layer's own inputs and its tensor options, merged into `options`. */
export function joinTensorOptions<T, O extends object>(layout: OptionInputs, inputs: readonly T[], options: O): { inputs: T[]; options: O } {
  const total = layout.reduce((n, [, count]) => n + (count ?? 1), 0);
  const own = inputs.slice(0, inputs.length - total);
  const joined = { ...options } as Record<string, unknown>;
  let at = own.length;
  for (const [name, count] of layout) {
    joined[name] = count === null ? inputs[at] : inputs.slice(at, at + count);
    at += count ?? 1;
  }
  return { inputs: own, options: joined as O };
}

/**
 * Checks a saved node's `tensorOptions` against the layer's class and the node's inputs: names the
 * class declares, counts that are null or whole numbers, no more tensors than inputs.
 */
export function checkOptionInputs(who: string, declared: readonly string[], layout: unknown, inputCount: number): OptionInputs {
  if (!Array.isArray(layout)) fail(who, `tensorOptions must be a list of [name, count], got ${JSON.stringify(layout)?.slice(0, 80)}`);
  let total = 0;
  for (const entry of layout) {
    const [name, count] = Array.isArray(entry) ? entry : [];
    if (typeof name !== 'string' || !declared.includes(name)) fail(who, `tensorOptions names '${String(name)}', which is not a tensor option of the layer (it has: ${declared.join(', ') || 'none'})`);
    if (count !== null && !(Number.isInteger(count) && count >= 0)) fail(who, `tensorOptions '${name}' must count its tensors with a whole number or null, got ${JSON.stringify(count)}`);
    total += count ?? 1;
  }
  if (total >= inputCount) fail(who, `tensorOptions take ${total} tensors, but the node has ${inputCount} inputs, at least one of them the layer's own`);
  return layout as OptionInputs;
}
