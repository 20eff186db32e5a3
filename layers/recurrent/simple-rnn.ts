import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { SimpleRNNCell, type SimpleRNNCellOptions } from './simple-rnn-cell.js';
import { RNN, type RNNOptions } from './rnn.js';
import { cellOptions, flatConfig } from './fixed-cell-layer.js';

export interface SimpleRNNOptions extends SimpleRNNCellOptions, RNNOptions {}

/**
 * A fully connected RNN (keras.layers.SimpleRNN): a SimpleRNNCell run over [batch, time,
 * features]. Its weights are the cell's: 'kernel' [features, units], 'recurrent_kernel'
 * [units, units], 'bias' [units].
 * @example
 * const rnn = new kiln.layers.SimpleRNN(32, { goBackwards: true });
 * rnn.apply(kiln.zeros([8, 20, 16])).shape;   // [8, 32]
 */
export class SimpleRNN extends RNN {
  static override readonly className = 'SimpleRNN';
  declare readonly cell: SimpleRNNCell;

  constructor(readonly units: number, options: SimpleRNNOptions = {}) {
    super(new SimpleRNNCell(units, cellOptions(options, 'simple_rnn_cell')), options);
  }

  override getConfig(): LayerConfig {
    return flatConfig(this.baseConfig(), this.cell.getConfig(), this.rnnConfig());
  }

  static override fromConfig(config: LayerConfig): SimpleRNN {
    return new SimpleRNN(config.units as number, optionsFromConfig(config));
  }
}
