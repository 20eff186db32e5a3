/**
 * What the four kinds of convolution layer share (Keras repeats it in each of BaseConv,
 * BaseConvTranspose, BaseDepthwiseConv and BaseSeparableConv): the spatial options, the input
 * checks that name the layer, the bias, the activation and the activity penalty, and the config.
 * The convolution itself, in either data format, is kiln.ops' (src/ops/conv.ts), which hands the
 * layer's bias and a relu, sigmoid or tanh activation to the fused conv kernel.
 */
import type { FusedActivation } from '../../backends/contract.js';
import { fusedActivationOf, getActivation, serializeActivation, type ActivationFn, type ActivationId } from '../../src/activations.js';
import { getConstraint, type ConstraintId } from '../../src/constraints.js';
import { fail, fmtShape } from '../../src/errors.js';
import { convOutputSize } from '../../src/fused/conv.js';
import { getInitializer, serializeInitializer, type InitializerId } from '../../src/initializers/index.js';
import { padsFor, resolveOptions, spatialInts, type ConvPadding, type DataFormat, type SpatialInts } from '../../src/ops/conv-options.js';
import { getRegularizer, type RegularizerFn, type RegularizerId } from '../../src/regularizers.js';
import type { Shape } from '../../src/shape.js';
import { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import { constraintConfig, regularizerConfig } from '../config.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';

export interface ConvLayerOptions extends LayerArgs {
  /** One stride, or one per spatial axis (default 1). */
  strides?: SpatialInts;
  /** 'valid' (no padding, the default) or 'same' (ceil(size / stride) outputs; Conv1D also takes 'causal'). */
  padding?: ConvPadding;
  /** Where the channels are: 'channelsLast' ([batch, ...spatial, channels], the default) or 'channelsFirst'. */
  dataFormat?: DataFormat;
  /** The spacing of the kernel's taps (default 1). */
  dilationRate?: SpatialInts;
  activation?: ActivationId;
  useBias?: boolean;
  biasInitializer?: InitializerId;
  biasRegularizer?: RegularizerId | null;
  /** A penalty on the layer's output, added to `callLosses` by each call. */
  activityRegularizer?: RegularizerId | null;
  biasConstraint?: ConstraintId | null;
}

/** How one weight is made: Keras's initializer, regularizer and constraint options for it. */
export interface WeightSpec {
  initializer: InitializerId | undefined;
  regularizer: RegularizerId | null | undefined;
  constraint: ConstraintId | null | undefined;
}

/** The base of every convolution layer; its subclasses add their weights, their op and their config entries. */
export abstract class ConvLayer extends Layer {
  /** The number of spatial axes: 1, 2 or 3. */
  readonly rank: number;
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly dilationRate: number[];
  readonly padding: ConvPadding;
  readonly dataFormat: DataFormat;
  readonly activation: ActivationFn;
  readonly useBias: boolean;
  bias: Variable | null = null;
  /** The activation as the fused conv kernel names it, or null when it follows as ops. */
  protected readonly fusedActivation: FusedActivation | null;
  private readonly activityPenalty: RegularizerFn | null;

  protected constructor(rank: number, kernelSize: SpatialInts, private readonly shared: ConvLayerOptions, allowCausal = false) {
    super(shared);
    const where = this.toString();
    const resolved = resolveOptions(where, shared, rank, allowCausal);
    this.rank = rank;
    this.kernelSize = spatialInts(where, 'kernelSize', kernelSize, rank, 1);
    this.strides = resolved.strides;
    this.dilationRate = resolved.dilations;
    this.padding = resolved.padding;
    this.dataFormat = resolved.channelsFirst ? 'channelsFirst' : 'channelsLast';
    this.activation = getActivation(shared.activation);
    this.fusedActivation = fusedActivationOf(this.activation);
    this.useBias = shared.useBias ?? true;
    this.activityPenalty = shared.activityRegularizer ? getRegularizer(shared.activityRegularizer) : null;
    this.resolveIds({ initializer: shared.biasInitializer, regularizer: shared.biasRegularizer, constraint: shared.biasConstraint });
  }

  /** Resolves a weight's ids now, so that a misspelt one fails here, as in Keras, not at the first call. */
  protected resolveIds(spec: WeightSpec): void {
    if (spec.initializer !== undefined) getInitializer(spec.initializer);
    if (spec.regularizer) getRegularizer(spec.regularizer);
    if (spec.constraint) getConstraint(spec.constraint);
  }

  /** Fails as Keras's BaseConv and BaseConvTranspose do when strides and dilation are both above 1. */
  protected refuseStridedDilation(): void {
    if (Math.max(...this.strides) > 1 && Math.max(...this.dilationRate) > 1) {
      fail(this.toString(), `strides > 1 is not supported together with dilationRate > 1, got strides [${this.strides}] and dilationRate [${this.dilationRate}]`);
    }
  }

  /** The axis of the channels in the layer's layout. */
  get channelAxis(): number {
    return this.dataFormat === 'channelsLast' ? this.rank + 1 : 1;
  }

  /** The channel count of inputs of `shape`, after checking their rank. */
  protected inputChannels(shape: Shape): number {
    if (shape.length !== this.rank + 2) {
      const spatial = ['steps', 'height, width', 'depth, height, width'][this.rank - 1];
      const layout = this.dataFormat === 'channelsLast' ? `[batch, ${spatial}, channels]` : `[batch, channels, ${spatial}]`;
      fail(this.toString(), `expects inputs of rank ${this.rank + 2} (${layout}), got shape ${fmtShape(shape)}`);
    }
    const channels = shape[this.channelAxis];
    if (channels === null) fail(this.toString(), `needs a known number of channels (axis ${this.channelAxis}), got shape ${fmtShape(shape)}`);
    return channels;
  }

  /** The spatial sizes of a checked input shape, in order. */
  protected spatialOf(shape: Shape): Shape {
    return this.dataFormat === 'channelsLast' ? shape.slice(1, -1) : shape.slice(2);
  }

  /** Fails unless the kernel fits in inputs of `shape` (on every axis of known size), as a plain, depthwise or separable convolution reads them. */
  protected checkKernelFits(shape: Shape): void {
    this.spatialOf(shape).forEach((s, i) => {
      if (s === null) return;
      const [k, stride, dilation] = [this.kernelSize[i], this.strides[i], this.dilationRate[i]];
      const o = convOutputSize(s, k, stride, dilation, ...padsFor(this.padding, s, k, stride, dilation));
      if (o <= 0) {
        fail(this.toString(), `kernelSize [${this.kernelSize}] with dilationRate [${this.dilationRate}] does not fit in inputs of shape ${fmtShape(shape)} with padding '${this.padding}': spatial axis ${i} would give ${o} outputs`);
      }
    });
  }

  /** Checks `x`'s rank and that it has the channels the layer was built for. */
  protected checkInput(x: Tensor, channels: number): void {
    const got = this.inputChannels(x.shape);
    if (got !== channels) {
      fail(this.toString(), `was built for ${channels} input channels, got shape ${fmtShape(x.shape)} with ${got} on axis ${this.channelAxis}`);
    }
  }

  /**
   * The op's result through the activation, unless the fused kernel applied it (in the layer's
   * layout, so that a softmax runs over its last axis, as in Keras), and the activity penalty.
   */
  protected output(y: Tensor): Tensor {
    if (!this.fusedActivation) y = this.activation(y);
    // symbolic calls only infer shapes: a penalty there would be thrown away
    if (this.activityPenalty && y instanceof Tensor) this.addActivityLoss(this.activityPenalty(y), y);
    return y;
  }

  /**
   * What kiln.ops' `...WithBias` convolutions take from the layer: its spatial options, its bias
   * and the activation their kernel applies. Padding is typed as the ops that refuse 'causal'
   * take it: only Conv1D allows 'causal', and it calls convWithBias, which takes it.
   */
  protected opOptions(): { strides: number[]; padding: 'valid' | 'same'; dataFormat: DataFormat; dilationRate: number[]; bias: Tensor | null; activation: FusedActivation } {
    return {
      strides: this.strides,
      padding: this.padding as 'valid' | 'same',
      dataFormat: this.dataFormat,
      dilationRate: this.dilationRate,
      bias: this.bias?.value ?? null,
      activation: this.fusedActivation ?? 'linear',
    };
  }

  /** A weight made from its spec, `initializer` being Keras's default for it. */
  protected weight(name: string, shape: readonly number[], spec: WeightSpec, initializer: InitializerId): Variable {
    return this.addWeight(name, shape, { initializer: spec.initializer ?? initializer, regularizer: spec.regularizer, constraint: spec.constraint });
  }

  /** The bias of `units` outputs, when the layer has one. */
  protected addBias(units: number): void {
    const o = this.shared;
    if (this.useBias) this.bias = this.weight('bias', [units], { initializer: o.biasInitializer, regularizer: o.biasRegularizer, constraint: o.biasConstraint }, 'zeros');
  }

  /** The config every kind saves, Keras's keys in camelCase, with the kind's own `entries`. */
  protected convConfig(entries: Record<string, unknown>): LayerConfig {
    const o = this.shared;
    return {
      ...super.getConfig(),
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dataFormat: this.dataFormat,
      dilationRate: this.dilationRate,
      activation: serializeActivation(o.activation),
      useBias: this.useBias,
      biasInitializer: serializeInitializer(o.biasInitializer ?? 'zeros'),
      biasRegularizer: regularizerConfig(o.biasRegularizer),
      activityRegularizer: regularizerConfig(o.activityRegularizer),
      biasConstraint: constraintConfig(o.biasConstraint),
      ...entries,
    };
  }
}

/** A weight's three saved ids under Keras's keys (`kernelInitializer`, `kernelRegularizer`, `kernelConstraint`). */
export function weightConfig(prefix: string, spec: WeightSpec, initializer: InitializerId): Record<string, unknown> {
  return {
    [`${prefix}Initializer`]: serializeInitializer(spec.initializer ?? initializer),
    [`${prefix}Regularizer`]: regularizerConfig(spec.regularizer),
    [`${prefix}Constraint`]: constraintConfig(spec.constraint),
  };
}

/** A positive integer option, or an error naming the layer and the option. */
export function positiveInt(where: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) fail(where, `${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}
