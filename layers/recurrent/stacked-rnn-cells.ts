import { fail } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerConfig } from '../layer.js';
import { serializeLayer, type SerializedLayer } from '../registry.js';
import { RNNCell, cellFromConfig, outputSizeOf, stateSizesOf, type CellCallOptions, type CellLike } from './cell.js';

/**
 * Cells run one after the other at each step, each taking the output of the one before
 * (keras.layers.StackedRNNCells); `RNN` makes one from a list of cells. Its states are all the
 * cells' states in order, flat: [h₀, c₀, h₁, c₁] for two LSTM cells (Keras nests them per cell).
 * @example
 * const cells = [new kiln.layers.LSTMCell(8), new kiln.layers.GRUCell(4)];
 * new kiln.layers.RNN(cells).apply(kiln.zeros([2, 5, 3])).shape;   // [2, 4]
 */
export class StackedRNNCells extends RNNCell {
  static readonly className = 'StackedRNNCells';
  readonly cells: CellLike[];

  constructor(cells: readonly CellLike[], options: { name?: string; trainable?: boolean; dtype?: LayerConfig['dtype'] } = {}) {
    super(options);
    if (!Array.isArray(cells) || cells.length === 0) fail(this.toString(), `expects a non-empty list of cells, got ${Array.isArray(cells) ? 'an empty list' : typeof cells}`);
    for (const cell of cells) {
      if (typeof (cell as Partial<CellLike> | null)?.call !== 'function') fail(this.toString(), `every cell needs a call(input, states, options) method, got ${String(cell)}`);
      stateSizesOf(cell, this.toString());
      if (cell instanceof Layer) this.track(cell);
    }
    this.cells = [...cells];
  }

  get stateSize(): number[] {
    return this.cells.flatMap((c) => stateSizesOf(c, this.toString()));
  }

  override get outputSize(): number {
    return outputSizeOf(this.cells[this.cells.length - 1], this.toString());
  }

  override build(inputShape: Shape): void {
    let shape = inputShape;
    for (const cell of this.cells) {
      if (cell.build && !cell.built) cell.build(shape);
      shape = [shape[0], outputSizeOf(cell, this.toString())];
    }
  }

  step(input: Tensor, states: Tensor[], options: CellCallOptions = {}): [Tensor, Tensor[]] {
    let x = input;
    let at = 0;
    const next: Tensor[] = [];
    for (const cell of this.cells) {
      const count = stateSizesOf(cell, this.toString()).length;
      const [out, own] = cell.call(x, states.slice(at, at + count), options);
      next.push(...(Array.isArray(own) ? own : [own]));
      x = out;
      at += count;
    }
    return [x, next];
  }

  override resetDropoutMasks(): void {
    for (const cell of this.cells) cell.resetDropoutMasks?.();
  }

  override getConfig(): LayerConfig {
    const cells = this.cells.map((cell) => {
      if (!(cell instanceof Layer)) fail(this.toString(), 'cannot save a cell that is not a Layer: make the cell a registered layer class to save the stack');
      return serializeLayer(cell);
    });
    return { ...super.getConfig(), cells };
  }

  static fromConfig(config: LayerConfig): StackedRNNCells {
    const { cells, ...rest } = config;
    return new StackedRNNCells((cells as SerializedLayer[]).map((c) => cellFromConfig(c, config.dtype)), rest);
  }
}
