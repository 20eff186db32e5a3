import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { GRUCell, type GRUCellOptions } from './gru-cell.js';
import { RNN, type RNNOptions } from './rnn.js';
import { cellOptions, flatConfig } from './fixed-cell-layer.js';

export interface GRUOptions extends GRUCellOptions, RNNOptions {}

/**
 * Gated recurrent unit (keras.layers.GRU): a GRUCell run over [batch, time, features]. Its
 * weights are the cell's: 'kernel' [features, 3·units], 'recurrent_kernel' [units, 3·units],
 * 'bias' [2, 3·units] (input, recurrent; [3·units] when resetAfter is false), gates in Keras's
 * order z, r, h.
 * @example
 * const gru = new kiln.layers.GRU(32, { returnSequences: true });
 * gru.apply(kiln.zeros([8, 20, 16])).shape;   // [8, 20, 32]
 */
export class GRU extends RNN {
  static override readonly className = 'GRU';
  declare readonly cell: GRUCell;

  constructor(readonly units: number, options: GRUOptions = {}) {
    super(new GRUCell(units, cellOptions(options, 'gru_cell')), options);
  }

  override getConfig(): LayerConfig {
    return flatConfig(this.baseConfig(), this.cell.getConfig(), this.rnnConfig());
  }

  static override fromConfig(config: LayerConfig): GRU {
    return new GRU(config.units as number, optionsFromConfig(config));
  }
}
