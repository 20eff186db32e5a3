import type { ConstraintId } from '../../src/constraints.js';
import type { InitializerId } from '../../src/initializers/index.js';
import { separableConvWithBias } from '../../src/ops/conv.js';
import type { SpatialInts } from '../../src/ops/conv-options.js';
import type { RegularizerId } from '../../src/regularizers.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import type { LayerConfig } from '../layer.js';
import { ConvLayer, positiveInt, weightConfig, type ConvLayerOptions, type WeightSpec } from './conv-layer.js';

export interface SeparableConvOptions extends Omit<ConvLayerOptions, 'padding'> {
  padding?: 'valid' | 'same';
  /** Depthwise filters per input channel (default 1). */
  depthMultiplier?: number;
  depthwiseInitializer?: InitializerId;
  pointwiseInitializer?: InitializerId;
  depthwiseRegularizer?: RegularizerId | null;
  pointwiseRegularizer?: RegularizerId | null;
  depthwiseConstraint?: ConstraintId | null;
  pointwiseConstraint?: ConstraintId | null;
}

/**
 * A separable convolution (Keras's BaseSeparableConv, under SeparableConv1D and
 * SeparableConv2D): a depthwise convolution, then a 1×1 convolution mixing its channels into
 * `filters`, with the bias and the activation after. The weights are 'depthwise_kernel'
 * [...kernelSize, channels, depthMultiplier], 'pointwise_kernel' [...ones, channels ·
 * depthMultiplier, filters], then 'bias' [filters].
 */
export abstract class BaseSeparableConv extends ConvLayer {
  readonly filters: number;
  readonly depthMultiplier: number;
  depthwiseKernel: Variable | null = null;
  pointwiseKernel: Variable | null = null;
  private readonly depthwiseSpec: WeightSpec;
  private readonly pointwiseSpec: WeightSpec;

  protected constructor(rank: number, filters: number, kernelSize: SpatialInts, options: SeparableConvOptions) {
    super(rank, kernelSize, options);
    this.filters = positiveInt(this.toString(), 'filters', filters);
    this.depthMultiplier = positiveInt(this.toString(), 'depthMultiplier', options.depthMultiplier ?? 1);
    this.depthwiseSpec = { initializer: options.depthwiseInitializer, regularizer: options.depthwiseRegularizer, constraint: options.depthwiseConstraint };
    this.pointwiseSpec = { initializer: options.pointwiseInitializer, regularizer: options.pointwiseRegularizer, constraint: options.pointwiseConstraint };
    this.resolveIds(this.depthwiseSpec);
    this.resolveIds(this.pointwiseSpec);
  }

  override build(inputShape: Shape): void {
    const channels = this.inputChannels(inputShape);
    this.checkKernelFits(inputShape);
    const hidden = channels * this.depthMultiplier;
    this.depthwiseKernel = this.weight('depthwise_kernel', [...this.kernelSize, channels, this.depthMultiplier], this.depthwiseSpec, 'glorot_uniform');
    this.pointwiseKernel = this.weight('pointwise_kernel', [...new Array<number>(this.rank).fill(1), hidden, this.filters], this.pointwiseSpec, 'glorot_uniform');
    this.addBias(this.filters);
  }

  call(inputs: Tensor): Tensor {
    this.checkInput(inputs, this.depthwiseKernel!.shape[this.rank] as number);
    this.checkKernelFits(inputs.shape);
    return this.output(separableConvWithBias(inputs, this.depthwiseKernel!.value, this.pointwiseKernel!.value, this.opOptions()));
  }

  override getConfig(): LayerConfig {
    return this.convConfig({
      filters: this.filters,
      depthMultiplier: this.depthMultiplier,
      ...weightConfig('depthwise', this.depthwiseSpec, 'glorot_uniform'),
      ...weightConfig('pointwise', this.pointwiseSpec, 'glorot_uniform'),
    });
  }
}
