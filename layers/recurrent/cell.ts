/**
 * The recurrent cell protocol, as Keras 3's RNN reads it: a cell has `stateSize` (one number, or
 * one per state), optionally `outputSize` (else the first state's size), and
 * `call(input, states, { training })` that takes one step, [batch, features] to
 * `[output, newStates]`. Any object or layer of that shape works in `RNN`; kiln's own cells extend
 * `RNNCell`, which also lets a cell be applied alone, as a layer, for one step from zero states.
 */
import { fail, fmtShape } from '../../src/errors.js';
import { zeros } from '../../src/creation.js';
import type { Shape } from '../../src/shape.js';
import { SymbolicTensor } from '../../src/symbolic.js';
import { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type LayerConfig, type Tensors } from '../layer.js';
import { layerFromConfig, type SerializedLayer } from '../registry.js';

/** What a step of a cell is told besides its input and states. */
export interface CellCallOptions {
  training?: boolean;
}

/** Any recurrent cell: what RNN needs of a user's class (a kiln Layer or a plain object). */
export interface CellLike {
  stateSize: number | readonly number[];
  outputSize?: number;
  call(input: Tensor, states: Tensor[], options: CellCallOptions): [Tensor, Tensor[] | Tensor];
  build?(inputShape: Shape): void;
  built?: boolean;
  /** Ends a sequence: a cell that keeps dropout masks for a sequence's steps draws new ones next time. */
  resetDropoutMasks?(): void;
}

/** The sizes of a cell's states, one per state, checked: a cell without `stateSize` cannot run. */
export function stateSizesOf(cell: CellLike, who: string): number[] {
  const size = (cell as Partial<CellLike> | null)?.stateSize;
  const sizes = typeof size === 'number' ? [size] : Array.isArray(size) ? [...(size as number[])] : null;
  if (sizes === null || sizes.length === 0 || !sizes.every((s) => Number.isInteger(s) && s > 0)) {
    fail(who, `the cell needs a stateSize: a positive integer or a non-empty list of them (one per state), got ${JSON.stringify(size) ?? 'none'}`);
  }
  return sizes;
}

/** The size of a cell's output: `outputSize`, else its first state's size, as Keras. */
export function outputSizeOf(cell: CellLike, who: string): number {
  const size = cell.outputSize ?? stateSizesOf(cell, who)[0];
  if (!Number.isInteger(size) || size <= 0) fail(who, `the cell's outputSize must be a positive integer, got ${JSON.stringify(size)}`);
  return size;
}

/**
 * The base of kiln's cells. A cell is a layer: it owns its weights and its config. As the RNN
 * drives it, `call(input, states, options)` takes one step; applied alone on [batch, features]
 * (`cell.apply(x)`), it takes one step from zero states and returns the output.
 */
export abstract class RNNCell extends Layer implements CellLike {
  abstract readonly stateSize: number | readonly number[];

  get outputSize(): number {
    return stateSizesOf(this, this.toString())[0];
  }

  /** Ends a sequence; a cell without dropout keeps nothing between steps. */
  resetDropoutMasks(): void {}

  /** One step: [batch, features] and the states to the output and the new states. */
  abstract step(input: Tensor, states: Tensor[], options: CellCallOptions): [Tensor, Tensor[]];

  override call(inputs: Tensors, options: CallOptions): Tensors;
  override call(input: Tensor, states: Tensor[], options?: CellCallOptions): [Tensor, Tensor[]];
  override call(input: Tensors, second: CallOptions | Tensor[] = {}, third: CellCallOptions = {}): Tensors | [Tensor, Tensor[]] {
    if (Array.isArray(input)) fail(this.toString(), `takes one input tensor [batch, features], got a list of ${input.length}`);
    if (Array.isArray(second)) return this.step(input, second, third);
    if (input.rank !== 2) fail(this.toString(), `applied alone, a cell takes one step on [batch, features], got shape ${fmtShape(input.shape)}`);
    const batch = input.shape[0];
    const states = stateSizesOf(this, this.toString()).map((n) =>
      input instanceof SymbolicTensor ? (new SymbolicTensor([batch, n], input.dtype) as unknown as Tensor) : zeros([batch, n], input.dtype),
    );
    return this.step(input, states, { training: second.training })[0];
  }
}

/**
 * A saved cell, computing in its wrapper's dtype: a config loaded as float64 (the gradient checks'
 * copies, say) makes its cells float64 too, as the wrapper's dtype reaches its cells in Keras.
 */
export function cellFromConfig(cell: SerializedLayer, dtype: LayerConfig['dtype']): CellLike {
  return layerFromConfig({ className: cell.className, config: { ...cell.config, dtype } }) as unknown as CellLike;
}
