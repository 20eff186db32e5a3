import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { SimpleRNNCell, type SimpleRNNCellOptions } from './simple-rnn-cell.js';
import { RNN, type RNNOptions } from './rnn.js';
import { activationName, cellOptions, flatConfig, fusable, lastOutput, projectSequence } from './fixed-cell-layer.js';
import type { Tensor } from '../../src/tensor.js';
import type { SequenceResult } from './loop.js';
import { simpleRnnSequence } from '../../src/fused/recurrent.js';

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

  /** The fast path: one matmul for every step's input projection, then the fused recurrence. */
  protected override runSequence(x: Tensor, initial: Tensor[], mask: Tensor | null, training: boolean): SequenceResult {
    const cell = this.cell;
    const activation = activationName(cell.options.activation, 'tanh');
    if (!fusable(cell, training, activation)) return super.runSequence(x, initial, mask, training);
    const p = projectSequence(cell, x, mask, this.goBackwards, cell.kernel!.value, cell.bias?.value ?? null, training);
    const { outputs, h } = simpleRnnSequence(p.xProj, initial[0], cell.recurrentKernel!.value, {
      mask: p.mask, zeroOutputForMask: this.zeroOutputForMask, activation: activation!,
    });
    return { outputs, last: lastOutput(outputs), states: [h] };
  }

  override getConfig(): LayerConfig {
    return flatConfig(this.baseConfig(), this.cell.getConfig(), this.rnnConfig());
  }

  static override fromConfig(config: LayerConfig): SimpleRNN {
    return new SimpleRNN(config.units as number, optionsFromConfig(config));
  }
}
