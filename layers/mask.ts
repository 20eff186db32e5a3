/**
 * Masks, as Keras 3 propagates them. A mask says which steps of a sequence count (true) and which
 * are padding (false); it is usually [batch, steps]. A layer that makes one says so in
 * computeMask (Embedding with maskZero, Masking); a layer that passes one on unchanged sets
 * supportsMasking (activations, Dropout, Dense); every other layer drops it, as Keras does. A
 * layer's call sees its input's mask as `options.mask`, or `options.masks` (one per input) when it
 * takes a list; losses and metrics leave the masked steps out (models/compile.ts).
 *
 * Where a mask lives: attached to the tensor it describes, as Keras's `_keras_mask`, in a WeakMap
 * here rather than in a field of Tensor (src/ is a floor below layers and knows nothing of masks).
 * That carries masks through eager calls of single layers and through subclassed models, whose
 * call chains layer.apply, as Keras does. Inside a Functional graph the masks travel beside the
 * values, keyed by the graph's symbolic tensors (models/graph.ts), so that a tensor that is the
 * value of two graph tensors (a layer returned its input) cannot hand one path's mask to the
 * other. A mask is a tensor the call made, owned by the same tidy scope as the output: once that
 * scope has freed it, the output reads as unmasked.
 */
import { fail, fmtShape } from '../src/errors.js';
import { SymbolicTensor } from '../src/symbolic.js';
import { Tensor } from '../src/tensor.js';

/** The mask fields of a layer's call options (layer.ts's CallOptions). */
export interface MaskOptions {
  /** The input's mask, for a layer of one input: true where a step counts. */
  mask?: Tensor | null;
  /** For a layer that takes a list of inputs: one mask per input, null where an input has none. */
  masks?: readonly (Tensor | null)[];
}

/**
 * computeMask's argument and result: one mask (or null) for a layer of one input or output, one
 * entry per tensor for a layer that takes or returns a list.
 */
export type LayerMask = Tensor | null | readonly (Tensor | null)[];

/** A call's outputs with each output's mask (null where it has none). */
export interface MaskedOutputs {
  outputs: Tensor | Tensor[];
  masks: (Tensor | null)[];
}

const attached = new WeakMap<Tensor | SymbolicTensor, Tensor | SymbolicTensor>();

/**
 * The mask attached to `x` by the layer that made it, or null.
 * @example
 * const emb = new kiln.layers.Embedding(10, 4, { maskZero: true });
 * kiln.layers.maskOf(emb.apply(kiln.tensor([[3, 1, 0]], [1, 3], 'int32')));   // [[true, true, false]]
 */
export function maskOf<T extends Tensor | SymbolicTensor>(x: T): T | null {
  const mask = attached.get(x);
  if (mask === undefined || (mask instanceof Tensor && mask.isDisposed)) return null;
  return mask as T;
}

/**
 * Attaches each output's mask. Only masks are attached, never removed: a layer that returns its
 * input object unchanged leaves that object's mask in place, as Keras's attribute does.
 */
export function attachMasks(outputs: Tensor | SymbolicTensor | readonly (Tensor | SymbolicTensor)[], masks: readonly (Tensor | SymbolicTensor | null)[]): void {
  const list = Array.isArray(outputs) ? outputs : [outputs];
  list.forEach((x, i) => {
    const mask = masks[i];
    if (mask) attached.set(x, mask);
  });
}

/**
 * The mask a layer's call sees: the caller's `mask` (or `masks`) when given, as Keras lets an
 * explicit argument win, else the masks that came with the inputs. `who` (the layer) names itself
 * in errors, as a string only when there is one: this runs for every layer of every step.
 */
export function previousMask(who: object, multiInput: boolean, inputs: readonly (Tensor | SymbolicTensor)[], inputMasks: readonly (Tensor | null)[], options: MaskOptions): LayerMask {
  if (multiInput) {
    if (options.masks == null) return inputMasks.some((m) => m !== null) ? [...inputMasks] : null;
    if (options.masks.length !== inputs.length) fail(String(who), `expects one mask per input (${inputs.length}), got ${options.masks.length}`);
    options.masks.forEach((m, i) => m && checkBatch(who, m, inputs[i]));
    return options.masks;
  }
  if (options.mask == null) return inputMasks[0] ?? null;
  checkBatch(who, options.mask, inputs[0]);
  return options.mask;
}

/** An explicit mask must at least have its input's batch size; the layers that read it check the rest. */
function checkBatch(who: object, mask: Tensor, input: Tensor | SymbolicTensor): void {
  if (!(mask instanceof Tensor) || !(input instanceof Tensor)) return;
  if (mask.rank === 0 || mask.shape[0] !== input.shape[0]) {
    fail(String(who), `a mask must have its input's batch size: the input is ${fmtShape(input.shape)}, the mask ${fmtShape(mask.shape)}`);
  }
}

/** `options` with the mask the call sees, in the field the layer reads (`mask`, or `masks` for a list of inputs). */
export function withMask<O extends MaskOptions>(options: O, multiInput: boolean, mask: LayerMask): O {
  const rest = withoutMasks(options);
  if (mask === null) return rest;
  return multiInput ? { ...rest, masks: mask as readonly (Tensor | null)[] } : { ...rest, mask: mask as Tensor };
}

/** `options` less its masks: what a model passes on to its layers, whose masks come from the graph. */
export function withoutMasks<O extends MaskOptions>(options: O): O {
  const { mask: _mask, masks: _masks, ...rest } = options;
  return rest as O;
}

/**
 * `options` whose mask field (`mask`, or `masks` for a list of inputs) calls `onRead` when the
 * call reads it, mask or no mask: how a graph learns, as it records a node, whether the layer's
 * call uses masks (Keras asks whether call takes a `mask` argument), which the ONNX exporter must
 * then carry to it. Spreading the options, to a sublayer say, counts as reading.
 */
export function probed<O extends MaskOptions>(options: O, multiInput: boolean, onRead: () => void): O {
  const key = multiInput ? 'masks' : 'mask';
  const value = options[key] ?? null;
  return Object.defineProperty({ ...options }, key, {
    enumerable: true,
    get() {
      onRead();
      return value;
    },
  });
}

/** computeMask's result as one entry per output, checked to have as many as the call's outputs. */
export function maskList(who: object, mask: LayerMask, count: number): (Tensor | null)[] {
  if (mask === null) return new Array<Tensor | null>(count).fill(null);
  const list = Array.isArray(mask) ? [...(mask as readonly (Tensor | null)[])] : [mask as Tensor];
  if (list.length !== count) fail(String(who), `computeMask gave ${list.length} masks for ${count} outputs`);
  return list;
}

/**
 * A symbolic mask as a graph keeps it: its shape and dtype only. The primitives that computed it
 * stay behind, with the constants their tidy scope has freed; eager runs compute masks afresh.
 */
export function maskSpec(mask: Tensor | SymbolicTensor | null, name: string): SymbolicTensor | null {
  return mask instanceof SymbolicTensor ? new SymbolicTensor(mask.shape, mask.dtype, null, name) : null;
}
