/** What SimpleRNN, LSTM and GRU share: a cell made from the layer's options, and one flat config. */
import type { LayerConfig } from '../layer.js';
import type { CellOptions } from './cell-options.js';

/** The cell's options from the layer's: the same, less what belongs to the layer (its name, input shape, batch size). */
export function cellOptions<O extends CellOptions>(options: O, name: string): O {
  const { inputShape: _shape, batchSize: _batch, ...rest } = options;
  return { ...rest, name } as O;
}

/** The layer's config as Keras saves it: its own, its cell's options and the RNN flags in one flat object. */
export function flatConfig(layer: LayerConfig, cell: LayerConfig, rnn: Record<string, unknown>): LayerConfig {
  const { name: _name, trainable: _trainable, dtype: _dtype, ...options } = cell;
  return { ...layer, ...options, ...rnn };
}
