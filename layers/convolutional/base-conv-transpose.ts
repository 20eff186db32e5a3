import { fail } from '../../src/errors.js';
import type { ConstraintId } from '../../src/constraints.js';
import type { InitializerId } from '../../src/initializers/index.js';
import { convTransposeWithBias } from '../../src/ops/conv.js';
import { spatialInts, type SpatialInts } from '../../src/ops/conv-options.js';
import type { RegularizerId } from '../../src/regularizers.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import type { LayerConfig } from '../layer.js';
import { ConvLayer, positiveInt, weightConfig, type ConvLayerOptions, type WeightSpec } from './conv-layer.js';

export interface ConvTransposeOptions extends Omit<ConvLayerOptions, 'padding'> {
  padding?: 'valid' | 'same';
  /**
   * Extra size at the end of each spatial axis of the output, each below its stride; null (the
   * default) lets Keras's rule pick it: 'valid' gives (size - 1)·stride + max(window, stride),
   * 'same' gives size·stride.
   */
  outputPadding?: SpatialInts | null;
  kernelInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId | null;
  kernelConstraint?: ConstraintId | null;
}

/**
 * A transposed convolution (Keras's BaseConvTranspose, under Conv1DTranspose, Conv2DTranspose
 * and Conv3DTranspose): the gradient of a convolution with respect to its input, so each input
 * position spreads over a window of the (stride times larger) output. The weights are 'kernel'
 * [...kernelSize, filters, channels] (filters before channels, as Keras) then 'bias' [filters].
 */
export abstract class BaseConvTranspose extends ConvLayer {
  readonly filters: number;
  readonly outputPadding: number[] | null;
  kernel: Variable | null = null;
  private readonly kernelSpec: WeightSpec;

  protected constructor(rank: number, filters: number, kernelSize: SpatialInts, options: ConvTransposeOptions) {
    super(rank, kernelSize, options);
    const where = this.toString();
    this.filters = positiveInt(where, 'filters', filters);
    this.outputPadding = options.outputPadding == null ? null : spatialInts(where, 'outputPadding', options.outputPadding, rank, 0);
    const op = this.outputPadding?.findIndex((p, i) => p >= this.strides[i]) ?? -1;
    if (op >= 0) {
      fail(where, `outputPadding must be less than strides on every axis, got outputPadding [${this.outputPadding}] and strides [${this.strides}] (axis ${op})`);
    }
    this.refuseStridedDilation();
    this.kernelSpec = { initializer: options.kernelInitializer, regularizer: options.kernelRegularizer, constraint: options.kernelConstraint };
    this.resolveIds(this.kernelSpec);
  }

  override build(inputShape: Shape): void {
    const channels = this.inputChannels(inputShape);
    this.kernel = this.weight('kernel', [...this.kernelSize, this.filters, channels], this.kernelSpec, 'glorot_uniform');
    this.addBias(this.filters);
  }

  call(inputs: Tensor): Tensor {
    const kernel = this.kernel!;
    this.checkInput(inputs, kernel.shape[this.rank + 1] as number);
    return this.output(convTransposeWithBias(inputs, kernel.value, { ...this.opOptions(), outputPadding: this.outputPadding }));
  }

  override getConfig(): LayerConfig {
    return this.convConfig({ filters: this.filters, outputPadding: this.outputPadding, ...weightConfig('kernel', this.kernelSpec, 'glorot_uniform') });
  }
}
