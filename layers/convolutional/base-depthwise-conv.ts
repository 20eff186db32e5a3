import type { ConstraintId } from '../../src/constraints.js';
import type { InitializerId } from '../../src/initializers/index.js';
import { depthwiseConvWithBias } from '../../src/ops/conv.js';
import type { SpatialInts } from '../../src/ops/conv-options.js';
import type { RegularizerId } from '../../src/regularizers.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import type { LayerConfig } from '../layer.js';
import { ConvLayer, positiveInt, weightConfig, type ConvLayerOptions, type WeightSpec } from './conv-layer.js';

export interface DepthwiseConvOptions extends Omit<ConvLayerOptions, 'padding'> {
  padding?: 'valid' | 'same';
  /** Filters per input channel (default 1): the output has channels · depthMultiplier channels. */
  depthMultiplier?: number;
  depthwiseInitializer?: InitializerId;
  depthwiseRegularizer?: RegularizerId | null;
  depthwiseConstraint?: ConstraintId | null;
}

/**
 * A depthwise convolution (Keras's BaseDepthwiseConv, under DepthwiseConv1D and
 * DepthwiseConv2D): each input channel convolved on its own with `depthMultiplier` filters,
 * output channel c·depthMultiplier + m. The weights are 'kernel' [...kernelSize, channels,
 * depthMultiplier] then 'bias' [channels · depthMultiplier].
 */
export abstract class BaseDepthwiseConv extends ConvLayer {
  readonly depthMultiplier: number;
  kernel: Variable | null = null;
  private readonly depthwiseSpec: WeightSpec;

  protected constructor(rank: number, kernelSize: SpatialInts, options: DepthwiseConvOptions) {
    super(rank, kernelSize, options);
    this.depthMultiplier = positiveInt(this.toString(), 'depthMultiplier', options.depthMultiplier ?? 1);
    this.depthwiseSpec = { initializer: options.depthwiseInitializer, regularizer: options.depthwiseRegularizer, constraint: options.depthwiseConstraint };
    this.resolveIds(this.depthwiseSpec);
  }

  override build(inputShape: Shape): void {
    const channels = this.inputChannels(inputShape);
    this.checkKernelFits(inputShape);
    this.kernel = this.weight('kernel', [...this.kernelSize, channels, this.depthMultiplier], this.depthwiseSpec, 'glorot_uniform');
    this.addBias(channels * this.depthMultiplier);
  }

  call(inputs: Tensor): Tensor {
    const kernel = this.kernel!;
    this.checkInput(inputs, kernel.shape[this.rank] as number);
    this.checkKernelFits(inputs.shape);
    return this.output(depthwiseConvWithBias(inputs, kernel.value, this.opOptions()));
  }

  override getConfig(): LayerConfig {
    return this.convConfig({ depthMultiplier: this.depthMultiplier, ...weightConfig('depthwise', this.depthwiseSpec, 'glorot_uniform') });
  }
}
