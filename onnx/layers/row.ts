/**
 * What the rows of the layer mapping table share: the arguments a row writes a layer with, the
 * row itself, the helper that keys a row by its class, and the helpers of several families.
 */
import type { DType } from '../../backends/contract.js';
import type { ActivationFn } from '../../src/activations.js';
import type { Dim } from '../../src/shape.js';
import type { SymbolicTensor } from '../../src/symbolic.js';
import type { Tensor } from '../../src/tensor.js';
import type { CallOptions, Layer } from '../../layers/layer.js';
import type { OptionInputs } from '../../layers/call-options.js';
import { activationRow } from '../activations.js';
import type { GraphBuilder, Value } from '../builder.js';

export interface LayerArgs<L extends Layer = Layer> {
  b: GraphBuilder;
  layer: L;
  inputs: Value[];
  /** What kiln inferred for each output. */
  outputs: { shape: readonly Dim[]; dtype: DType }[];
  /** Traces `fn` (by default the layer's call) on symbolic stand-ins of `on` (by default the inputs) into primitives. */
  trace(fn?: (xs: SymbolicTensor[]) => unknown, on?: Value[]): string[];
  /** The call's options as the graph recorded them, tensor options left out (they are in `inputs`). */
  callArgs: CallOptions;
  /** Where the call's tensor options sit at the end of `inputs` (layers/call-options.ts). */
  layout: OptionInputs;
  /** The masks of the layer's own inputs, for a row that writes them itself (`LayerRow.masks`); else absent. */
  masks?: readonly (Value | null)[];
}

export interface LayerRow {
  /** The ONNX ops the layer becomes (for docs/onnx.md). */
  ops: string;
  emit(args: LayerArgs): string[];
  /**
   * Whether the row writes this layer's input masks itself (they come in `args.masks`); a masked
   * layer whose row does not is traced with its masks (../masks.ts).
   */
  masks?(layer: Layer): boolean;
}

/** A layer class as its row needs it: the name its saves use, and its instances' type. */
export interface RowClass<L extends Layer> {
  readonly className: string;
  readonly prototype: L;
}

/** One entry of the table: a class's className and its row. */
export type RowEntry = readonly [className: string, row: LayerRow];

/**
 * The row of `cls`, keyed by the class's own className. `emit` sees the layer as an instance of
 * `cls`, reading its public config from the instance: export.ts uses a row only for a layer whose
 * constructor is the class registered under that name.
 */
export function row<L extends Layer>(cls: RowClass<L>, ops: string, emit: (args: LayerArgs<L>) => string[], masks?: (layer: L) => boolean): RowEntry {
  return [cls.className, { ops, emit: emit as (args: LayerArgs) => string[], masks: masks as ((layer: Layer) => boolean) | undefined }];
}

/** A layer that is the identity at inference (or, as InputLayer, always). */
export const passThrough = (cls: RowClass<Layer>): RowEntry => row(cls, '(none: the identity at inference)', ({ inputs }) => [inputs[0].name]);

/** A layer whose call already applies the right primitives, so its row is the trace of its call. */
export const traced = (cls: RowClass<Layer>, ops: string): RowEntry => row(cls, ops, ({ trace }) => trace());

/** `y` through a layer's activation: its row, or the traced function when it is the user's own. */
export function activate(args: LayerArgs, y: string, fn: ActivationFn, dtype: DType): string {
  const activation = activationRow(fn);
  if (activation) return activation.emit(args.b, y, dtype);
  return args.trace(([x]) => fn(x as unknown as Tensor), [{ name: y, dtype, shape: args.outputs[0].shape }])[0];
}
