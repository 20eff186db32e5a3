import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { GRUCell, type GRUCellOptions } from './gru-cell.js';
import { RNN, type RNNOptions } from './rnn.js';
import { activationName, cellOptions, flatConfig, fusable, lastOutput, projectSequence } from './fixed-cell-layer.js';
import type { Tensor } from '../../src/tensor.js';
import type { SequenceResult } from './loop.js';
import { gruSequence } from '../../src/fused/recurrent.js';

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

  /** The fast path: one matmul for every step's input projection, then the fused GRU recurrence. */
  protected override runSequence(x: Tensor, initial: Tensor[], mask: Tensor | null, training: boolean): SequenceResult {
    const cell = this.cell;
    const activation = activationName(cell.options.activation, 'tanh');
    const recurrentActivation = activationName(cell.options.recurrentActivation, 'sigmoid');
    if (!fusable(cell, training, activation, recurrentActivation)) return super.runSequence(x, initial, mask, training);
    const [inputBias, recurrentBias] = cell.biases();
    const p = projectSequence(cell, x, mask, this.goBackwards, cell.kernel!.value, inputBias, training);
    const { outputs, h } = gruSequence(p.xProj, initial[0], cell.recurrentKernel!.value, recurrentBias, {
      mask: p.mask, zeroOutputForMask: this.zeroOutputForMask, resetAfter: cell.resetAfter, activation: activation!, recurrentActivation: recurrentActivation!,
    });
    return { outputs, last: lastOutput(outputs), states: [h] };
  }

  override getConfig(): LayerConfig {
    return flatConfig(this.baseConfig(), this.cell.getConfig(), this.rnnConfig());
  }

  static override fromConfig(config: LayerConfig): GRU {
    return new GRU(config.units as number, optionsFromConfig(config));
  }
}
