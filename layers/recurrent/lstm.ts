import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { LSTMCell, type LSTMCellOptions } from './lstm-cell.js';
import { RNN, type RNNOptions } from './rnn.js';
import { activationName, cellOptions, flatConfig, fusable, lastOutput, projectSequence } from './fixed-cell-layer.js';
import type { Tensor } from '../../src/tensor.js';
import type { SequenceResult } from './loop.js';
import { lstmSequence } from '../../src/fused/recurrent.js';

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

  /** The fast path: one matmul for every step's input projection, then the fused LSTM recurrence. */
  protected override runSequence(x: Tensor, initial: Tensor[], mask: Tensor | null, training: boolean): SequenceResult {
    const cell = this.cell;
    const activation = activationName(cell.options.activation, 'tanh');
    const recurrentActivation = activationName(cell.options.recurrentActivation, 'sigmoid');
    if (!fusable(cell, training, activation, recurrentActivation)) return super.runSequence(x, initial, mask, training);
    const p = projectSequence(cell, x, mask, this.goBackwards, cell.kernel!.value, cell.bias?.value ?? null, training);
    const { outputs, h, c } = lstmSequence(p.xProj, initial[0], initial[1], cell.recurrentKernel!.value, {
      mask: p.mask, zeroOutputForMask: this.zeroOutputForMask, activation: activation!, recurrentActivation: recurrentActivation!,
    });
    return { outputs, last: lastOutput(outputs), states: [h, c] };
  }

  override getConfig(): LayerConfig {
    return flatConfig(this.baseConfig(), this.cell.getConfig(), this.rnnConfig());
  }

  static override fromConfig(config: LayerConfig): LSTM {
    return new LSTM(config.units as number, optionsFromConfig(config));
  }
}
