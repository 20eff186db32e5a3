import * as ops from '../../src/ops/index.js';
import type { ActivationFn } from '../../src/activations.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import type { CellCallOptions } from './cell.js';
import { DropoutRNNCell, project } from './cell-dropout.js';
import { gatedCellConfig, resolveCellOptions, weightOptions, type GatedCellOptions } from './cell-options.js';
import { featuresOf } from './simple-rnn-cell.js';

export interface GRUCellOptions extends GatedCellOptions {
  /**
   * Whether the reset gate multiplies the recurrent projection after the matmul (true, Keras 3's
   * default and cuDNN's convention: bias [2, 3·units], input then recurrent) or the state before
   * it (false: bias [3·units]).
   */
  resetAfter?: boolean;
}

/**
 * One step of a gated recurrent unit (keras.layers.GRUCell). Weights 'kernel' [features, 3·units],
 * 'recurrent_kernel' [units, 3·units], 'bias', in Keras's gate order: update z, reset r, candidate h.
 * `h = z · h₋₁ + (1 − z) · candidate`.
 * @example
 * const rnn = new kiln.layers.RNN(new kiln.layers.GRUCell(8));
 * rnn.apply(kiln.zeros([2, 5, 3])).shape;   // [2, 8]
 */
export class GRUCell extends DropoutRNNCell {
  static readonly className = 'GRUCell';
  readonly units: number;
  readonly activation: ActivationFn;
  readonly recurrentActivation: ActivationFn;
  readonly resetAfter: boolean;
  kernel: Variable | null = null;
  recurrentKernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(units: number, readonly options: GRUCellOptions = {}) {
    super(options);
    ({ activation: this.activation, recurrentActivation: this.recurrentActivation } = resolveCellOptions(this.toString(), units, options));
    this.units = units;
    this.resetAfter = options.resetAfter ?? true;
  }

  get stateSize(): number {
    return this.units;
  }

  override build(inputShape: Shape): void {
    const features = featuresOf(this.toString(), inputShape);
    const w = weightOptions(this.options);
    const u = this.units;
    this.kernel = this.addWeight('kernel', [features, 3 * u], w.kernel);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [u, 3 * u], w.recurrentKernel);
    if (this.options.useBias ?? true) this.bias = this.addWeight('bias', this.resetAfter ? [2, 3 * u] : [3 * u], w.bias);
  }

  /** The input and recurrent biases: [3·units] each, the second null unless resetAfter. */
  biases(): [Tensor | null, Tensor | null] {
    if (!this.bias) return [null, null];
    if (!this.resetAfter) return [this.bias.value, null];
    const [input, recurrent] = ops.split(this.bias.value, 2, 0);
    return [ops.squeeze(input, 0), ops.squeeze(recurrent, 0)];
  }

  step(input: Tensor, [h]: Tensor[], { training }: CellCallOptions = {}): [Tensor, Tensor[]] {
    // as Keras: with recurrent dropout, one mask per gate (its implementation 1); else one mask
    // on the input, so the projection of a whole sequence is one matmul
    const dp = this.dropoutMasks.input(input, this.dropoutMasks.recurrentRate > 0 ? 3 : 1, training);
    const rec = this.dropoutMasks.recurrent(h, 3, training);
    const [inputBias, recurrentBias] = this.biases();
    let x = project(input, this.kernel!.value, dp);
    if (inputBias) x = ops.add(x, inputBias);
    const [xz, xr, xh] = ops.split(x, 3, 1);
    let candidate: Tensor;
    let z: Tensor;
    if (this.resetAfter) {
      let inner = project(h, this.recurrentKernel!.value, rec);
      if (recurrentBias) inner = ops.add(inner, recurrentBias);
      const [hz, hr, hh] = ops.split(inner, 3, 1);
      z = this.recurrentActivation(ops.add(xz, hz));
      const r = this.recurrentActivation(ops.add(xr, hr));
      candidate = this.activation(ops.add(xh, ops.multiply(r, hh)));
    } else {
      const kernels = ops.split(this.recurrentKernel!.value, 3, 1);
      const inner = project(h, ops.concatenate(kernels.slice(0, 2), 1), rec && rec.slice(0, 2));
      const [hz, hr] = ops.split(inner, 2, 1);
      z = this.recurrentActivation(ops.add(xz, hz));
      const r = this.recurrentActivation(ops.add(xr, hr));
      candidate = this.activation(ops.add(xh, project(ops.multiply(r, h), kernels[2], rec && rec.slice(2))));
    }
    const hNew = ops.add(ops.multiply(z, h), ops.multiply(ops.subtract(1, z), candidate));
    return [hNew, [hNew]];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), ...gatedCellConfig(this.units, this.options, this.dropoutMasks.seed), resetAfter: this.resetAfter };
  }

  static fromConfig(config: LayerConfig): GRUCell {
    return new GRUCell(config.units as number, optionsFromConfig(config));
  }
}
