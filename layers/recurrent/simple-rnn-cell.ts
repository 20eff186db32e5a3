import * as ops from '../../src/ops/index.js';
import type { ActivationFn } from '../../src/activations.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import type { CellCallOptions } from './cell.js';
import { DropoutRNNCell, project } from './cell-dropout.js';
import { cellConfig, resolveCellOptions, weightOptions, type CellOptions } from './cell-options.js';

export type SimpleRNNCellOptions = CellOptions;

/**
 * One step of a fully connected RNN (keras.layers.SimpleRNNCell):
 * `h = activation(x · kernel + bias + h₋₁ · recurrent_kernel)`, the output being the new state.
 * Weights 'kernel' [features, units], 'recurrent_kernel' [units, units], 'bias' [units].
 * @example
 * const rnn = new kiln.layers.RNN(new kiln.layers.SimpleRNNCell(8));
 * rnn.apply(kiln.zeros([2, 5, 3])).shape;   // [2, 8]
 */
export class SimpleRNNCell extends DropoutRNNCell {
  static readonly className = 'SimpleRNNCell';
  readonly units: number;
  readonly activation: ActivationFn;
  kernel: Variable | null = null;
  recurrentKernel: Variable | null = null;
  bias: Variable | null = null;

  constructor(units: number, readonly options: SimpleRNNCellOptions = {}) {
    super(options);
    this.activation = resolveCellOptions(this.toString(), units, options).activation;
    this.units = units;
  }

  get stateSize(): number {
    return this.units;
  }

  override build(inputShape: Shape): void {
    const features = featuresOf(this.toString(), inputShape);
    const w = weightOptions(this.options);
    this.kernel = this.addWeight('kernel', [features, this.units], w.kernel);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, this.units], w.recurrentKernel);
    if (this.options.useBias ?? true) this.bias = this.addWeight('bias', [this.units], w.bias);
  }

  step(input: Tensor, states: Tensor[], { training }: CellCallOptions = {}): [Tensor, Tensor[]] {
    const [h] = states;
    const dp = this.dropoutMasks.input(input, 1, training);
    const rec = this.dropoutMasks.recurrent(h, 1, training);
    let x = project(input, this.kernel!.value, dp);
    if (this.bias) x = ops.add(x, this.bias.value);
    const out = this.activation(ops.add(x, project(h, this.recurrentKernel!.value, rec)));
    return [out, [out]];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), ...cellConfig(this.units, this.options, this.dropoutMasks.seed) };
  }

  static fromConfig(config: LayerConfig): SimpleRNNCell {
    return new SimpleRNNCell(config.units as number, optionsFromConfig(config));
  }
}

/** The features of a step's input [batch, features], which the kernel's first axis needs known. */
export function featuresOf(who: string, inputShape: Shape): number {
  const features = inputShape.at(-1);
  if (inputShape.length !== 2 || features === null || features === undefined) {
    fail(who, `a cell's step input must be [batch, features] with known features, got shape ${fmtShape(inputShape)}`);
  }
  return features;
}
