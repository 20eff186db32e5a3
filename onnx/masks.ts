/**
 * Masks in an exported graph. ONNX has no masks, and a mask is no output of the file: it is written
 * as the ops that compute it (the layer's computeMask, traced) and handed to the layers whose call
 * reads it (GlobalAveragePooling1D, Softmax), which are then traced with it, since the rows of the
 * mapping table know nothing of masks. Masks no layer reads are dropped with the other dead nodes.
 * The masks follow the eager rule rather than the graph's symbolic ones, so that a nested model
 * given a masked input carries the mask through its layers as its eager run does.
 */
import type { Dim } from '../src/shape.js';
import type { SymbolicTensor } from '../src/symbolic.js';
import type { Tensor } from '../src/tensor.js';
import type { CallOptions, Layer } from '../layers/layer.js';
import { maskList, withMask, type LayerMask } from '../layers/mask.js';
import { joinTensorOptions, type OptionInputs } from '../layers/call-options.js';
import type { Value } from './builder.js';
import { traceInto, type TraceHost } from './trace.js';

const batchFree = (shape: readonly Dim[]): Dim[] => (shape.length ? [null, ...shape.slice(1)] : []);

/**
 * Runs `fn` on stand-ins for the inputs and for the masks given (the masks after the inputs), and
 * hands it the stand-ins of the inputs and the mask the layer's call sees.
 */
function withMaskStandIns(layer: Layer, count: number, masks: readonly (Value | null)[], fn: (args: Tensor[], mask: LayerMask) => unknown) {
  return (xs: SymbolicTensor[]): unknown => {
    const args = xs.slice(0, count) as unknown as Tensor[];
    let k = count;
    const each = masks.map((m) => (m === null ? null : (xs[k++] as unknown as Tensor)));
    const mask: LayerMask = layer.multiInput ? (each.some((m) => m !== null) ? each : null) : each[0] ?? null;
    return fn(args, mask);
  };
}

/**
 * The layer's call traced with its inputs' masks (inference: training false); returns its outputs'
 * names. `inputs` end with the call's tensor options (call-options.ts), which carry no masks.
 */
export function traceWithMasks(host: TraceHost, layer: Layer, inputs: readonly Value[], masks: readonly (Value | null)[], callArgs: CallOptions, layout: OptionInputs): string[] {
  const given = masks.filter((m): m is Value => m !== null);
  const call = withMaskStandIns(layer, inputs.length, masks, (args, mask) => {
    const joined = joinTensorOptions(layout, args, withMask({ ...callArgs, training: false }, layer.multiInput, mask));
    return layer.call((layer.multiInput ? joined.inputs : joined.inputs[0]) as never, joined.options);
  });
  return traceInto(host, layer, call, [...inputs, ...given]);
}

/**
 * The masks of a layer application's outputs, by the rule eager calls follow (Layer.callWithMasks):
 * computeMask traced on its inputs and their masks where the layer supports masking, none
 * elsewhere. A layer that passes its mask on gives the same value back, and no node.
 */
export function emitMasks(host: TraceHost, layer: Layer, inputs: readonly Value[], masks: readonly (Value | null)[], count: number): (Value | null)[] {
  const none = new Array<Value | null>(count).fill(null);
  if (!layer.supportsMasking) return none;
  const given = masks.filter((m): m is Value => m !== null);
  // which outputs get a mask is known once computeMask has run, inside the trace
  let made: (Tensor | null)[] = [];
  const compute = withMaskStandIns(layer, inputs.length, masks, (args, mask) => {
    made = maskList(layer, layer.computeMask(layer.multiInput ? args : args[0], mask), count);
    return made.filter((m) => m !== null);
  });
  const names = traceInto(host, layer, compute, [...inputs, ...given]);
  let j = 0;
  return made.map((m) => (m === null ? null : { name: names[j++], dtype: m.dtype, shape: batchFree(m.shape) }));
}
