import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { LSTMCell, type LSTMCellOptions } from './lstm-cell.js';
import { RNN, type RNNOptions } from './rnn.js';
import { cellOptions, flatConfig } from './fixed-cell-layer.js';

export interface LSTMOptions extends LSTMCellOptions, RNNOptions {}

/**
 * Long short-term memory (keras.layers.LSTM): an LSTMCell run over [batch, time, features]. Its
 * weights are the cell's: 'kernel' [features, 4·units], 'recurrent_kernel' [units, 4·units],
 * 'bias' [4·units], gates in Keras's order i, f, c, o; its states [h, c].
 * @example
 * const lstm = new kiln.layers.LSTM(32, { returnSequences: true });
 * lstm.apply(kiln.zeros([8, 20, 16])).shape;   // [8, 20, 32]
 * const [out, h, c] = new kiln.layers.LSTM(32, { returnState: true }).apply(kiln.zeros([8, 20, 16]));
 */
export class LSTM extends RNN {
  static override readonly className = 'LSTM';
  declare readonly cell: LSTMCell;

  constructor(readonly units: number, options: LSTMOptions = {}) {
    super(new LSTMCell(units, cellOptions(options, 'lstm_cell')), options);
  }

  override getConfig(): LayerConfig {
    return flatConfig(this.baseConfig(), this.cell.getConfig(), this.rnnConfig());
  }

  static override fromConfig(config: LayerConfig): LSTM {
    return new LSTM(config.units as number, optionsFromConfig(config));
  }
}
