import { fail } from '../../src/errors.js';
import { convWithBias } from '../../src/ops/conv.js';
import type { ConstraintId } from '../../src/constraints.js';
import type { InitializerId } from '../../src/initializers/index.js';
import type { RegularizerId } from '../../src/regularizers.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import type { LayerConfig } from '../layer.js';
import { ConvLayer, positiveInt, weightConfig, type ConvLayerOptions, type WeightSpec } from './conv-layer.js';
import type { SpatialInts } from '../../src/ops/conv-options.js';

export interface ConvOptions extends ConvLayerOptions {
  /** Channel groups: the input's channels and `filters` are split into this many, each convolved on its own (default 1). */
  groups?: number;
  kernelInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId | null;
  kernelConstraint?: ConstraintId | null;
}

/**
 * An N-D convolution (Keras's BaseConv, under Conv1D, Conv2D and Conv3D):
 * `activation(conv(x, kernel) + bias)`, the weights 'kernel' [...kernelSize, channels / groups,
 * filters] then 'bias' [filters].
 */
export abstract class BaseConv extends ConvLayer {
  readonly filters: number;
  readonly groups: number;
  kernel: Variable | null = null;
  private readonly kernelSpec: WeightSpec;

  protected constructor(rank: number, filters: number, kernelSize: SpatialInts, options: ConvOptions) {
    super(rank, kernelSize, options, rank === 1);
    this.filters = positiveInt(this.toString(), 'filters', filters);
    this.groups = positiveInt(this.toString(), 'groups', options.groups ?? 1);
    if (filters % this.groups !== 0) fail(this.toString(), `filters must be a multiple of groups, got filters ${filters} and groups ${this.groups}`);
    this.refuseStridedDilation();
    this.kernelSpec = { initializer: options.kernelInitializer, regularizer: options.kernelRegularizer, constraint: options.kernelConstraint };
    this.resolveIds(this.kernelSpec);
  }

  override build(inputShape: Shape): void {
    const channels = this.inputChannels(inputShape);
    if (channels % this.groups !== 0) fail(this.toString(), `the input's ${channels} channels must be a multiple of groups (${this.groups})`);
    this.checkKernelFits(inputShape);
    this.kernel = this.weight('kernel', [...this.kernelSize, channels / this.groups, this.filters], this.kernelSpec, 'glorot_uniform');
    this.addBias(this.filters);
  }

  call(inputs: Tensor): Tensor {
    const kernel = this.kernel!;
    this.checkInput(inputs, (kernel.shape[this.rank] as number) * this.groups);
    this.checkKernelFits(inputs.shape);
    return this.output(convWithBias(inputs, kernel.value, this.opOptions()));
  }

  override getConfig(): LayerConfig {
    return this.convConfig({ filters: this.filters, groups: this.groups, ...weightConfig('kernel', this.kernelSpec, 'glorot_uniform') });
  }
}
