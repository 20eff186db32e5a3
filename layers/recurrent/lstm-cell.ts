import * as ops from '../../src/ops/index.js';
import { ones } from '../../src/creation.js';
import type { ActivationFn } from '../../src/activations.js';
import type { DType } from '../../backends/contract.js';
import { getInitializer } from '../../src/initializers/index.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import type { CellCallOptions } from './cell.js';
import { DropoutRNNCell, project } from './cell-dropout.js';
import { gatedCellConfig, resolveCellOptions, weightOptions, type GatedCellOptions } from './cell-options.js';
import { featuresOf } from './simple-rnn-cell.js';

export interface LSTMCellOptions extends GatedCellOptions {
  /** Whether the forget gate's bias starts at 1 (the rest from biasInitializer), as Jozefowicz et al. advise. Default true. */
  unitForgetBias?: boolean;
}

/**
 * One step of a long short-term memory cell (keras.layers.LSTMCell), states [h, c]. Weights
 * 'kernel' [features, 4·units], 'recurrent_kernel' [units, 4·units], 'bias' [4·units], each in
 * Keras's gate order: input, forget, cell, output.
 * @example
 * const rnn = new kiln.layers.RNN(new kiln.layers.LSTMCell(8), { returnState: true });
 * rnn.apply(kiln.zeros([2, 5, 3])).map((t) => t.shape);   // [[2, 8], [2, 8], [2, 8]]
 */
export class LSTMCell extends DropoutRNNCell {
  static readonly className = 'LSTMCell';
  readonly units: number;
  readonly activation: ActivationFn;
  readonly recurrentActivation: ActivationFn;
  readonly unitForgetBias: boolean;
  kernel: Variable | null = null;
  recurrentKernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(units: number, readonly options: LSTMCellOptions = {}) {
    super(options);
    ({ activation: this.activation, recurrentActivation: this.recurrentActivation } = resolveCellOptions(this.toString(), units, options));
    this.units = units;
    this.unitForgetBias = options.unitForgetBias ?? true;
  }

  get stateSize(): number[] {
    return [this.units, this.units];
  }

  override get outputSize(): number {
    return this.units;
  }

  override build(inputShape: Shape): void {
    const features = featuresOf(this.toString(), inputShape);
    const w = weightOptions(this.options);
    const u = this.units;
    this.kernel = this.addWeight('kernel', [features, 4 * u], w.kernel);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [u, 4 * u], w.recurrentKernel);
    if (!(this.options.useBias ?? true)) return;
    const init = getInitializer(w.bias.initializer);
    const forgetOnes = (_: readonly number[], dtype: DType) => ops.concatenate([init([u], dtype), ones([u], dtype), init([2 * u], dtype)]);
    this.bias = this.addWeight('bias', [4 * u], { ...w.bias, initializer: this.unitForgetBias ? forgetOnes : w.bias.initializer });
  }

  step(input: Tensor, [h, c]: Tensor[], { training }: CellCallOptions = {}): [Tensor, Tensor[]] {
    // as Keras: with recurrent dropout, one mask per gate (its implementation 1); else one mask
    // on the input, so the projection of a whole sequence is one matmul
    const dp = this.dropoutMasks.input(input, this.dropoutMasks.recurrentRate > 0 ? 4 : 1, training);
    const rec = this.dropoutMasks.recurrent(h, 4, training);
    let z = ops.add(project(input, this.kernel!.value, dp), project(h, this.recurrentKernel!.value, rec));
    if (this.bias) z = ops.add(z, this.bias.value);
    const [zi, zf, zc, zo] = ops.split(z, 4, 1);
    const cNew = ops.add(ops.multiply(this.recurrentActivation(zf), c), ops.multiply(this.recurrentActivation(zi), this.activation(zc)));
    const hNew = ops.multiply(this.recurrentActivation(zo), this.activation(cNew));
    return [hNew, [hNew, cNew]];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), ...gatedCellConfig(this.units, this.options, this.dropoutMasks.seed), unitForgetBias: this.unitForgetBias };
  }

  static fromConfig(config: LayerConfig): LSTMCell {
    return new LSTMCell(config.units as number, optionsFromConfig(config));
  }
}
