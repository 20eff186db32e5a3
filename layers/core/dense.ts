import { fail, fmtShape } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import { fusedActivationOf, getActivation, serializeActivation, type ActivationFn, type ActivationId } from '../../src/activations.js';
import { dense } from '../../src/fused/dense.js';
import type { FusedActivation } from '../../backends/contract.js';
import { getInitializer, type InitializerId } from '../../src/initializers/index.js';
import { getRegularizer, type RegularizerFn, type RegularizerId } from '../../src/regularizers.js';
import { getConstraint, type ConstraintId } from '../../src/constraints.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { kernelBiasConfig, optionsFromConfig } from '../config.js';

export interface DenseOptions extends LayerArgs {
  activation?: ActivationId;
  useBias?: boolean;
  kernelInitializer?: InitializerId;
  biasInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId | null;
  biasRegularizer?: RegularizerId | null;
  /** A penalty on the layer's output, added to `callLosses` by each call. */
  activityRegularizer?: RegularizerId | null;
  kernelConstraint?: ConstraintId | null;
  biasConstraint?: ConstraintId | null;
}

/**
 * `activation(x · kernel + bias)` over the last axis of `x` (keras.layers.Dense): the weights are
 * 'kernel' [inputDim, units] then 'bias' [units].
 * @example
 * const dense = new kiln.layers.Dense(10, { activation: 'softmax' });
 * dense.apply(kiln.zeros([32, 784])).shape;   // [32, 10]
 */
export class Dense extends Layer {
  static readonly className = 'Dense';
  override supportsMasking = true;
  readonly units: number;
  readonly activation: ActivationFn;
  kernel: Variable | null = null;
  bias: Variable | null = null;
  private readonly activityPenalty: RegularizerFn | null;
  /** The activation as the fused dense kernel names it, or null when it follows as ops. */
  private readonly fusedActivation: FusedActivation | null;

  constructor(units: number, private readonly options: DenseOptions = {}) {
    super(options);
    if (!Number.isInteger(units) || units <= 0) fail(this.toString(), `units must be a positive integer, got ${units}`);
    this.units = units;
    this.activation = getActivation(options.activation);
    this.fusedActivation = fusedActivationOf(this.activation);
    this.activityPenalty = options.activityRegularizer ? getRegularizer(options.activityRegularizer) : null;
    // resolved now so that a misspelt id fails here, as in Keras, not at the first call
    for (const id of [options.kernelInitializer, options.biasInitializer]) if (id !== undefined) getInitializer(id);
    for (const id of [options.kernelRegularizer, options.biasRegularizer]) if (id) getRegularizer(id);
    for (const id of [options.kernelConstraint, options.biasConstraint]) if (id) getConstraint(id);
  }

  override build(inputShape: Shape): void {
    const inputDim = inputShape.at(-1);
    if (inputShape.length < 2 || inputDim === null || inputDim === undefined) {
      fail(this.toString(), `expects inputs of rank >= 2 with a known last dimension, got shape ${fmtShape(inputShape)}`);
    }
    const o = this.options;
    this.kernel = this.addWeight('kernel', [inputDim, this.units], {
      initializer: o.kernelInitializer ?? 'glorot_uniform', regularizer: o.kernelRegularizer, constraint: o.kernelConstraint,
    });
    if (o.useBias ?? true) {
      this.bias = this.addWeight('bias', [this.units], {
        initializer: o.biasInitializer ?? 'zeros', regularizer: o.biasRegularizer, constraint: o.biasConstraint,
      });
    }
  }

  call(inputs: Tensor): Tensor {
    const kernel = this.kernel!;
    if (inputs.rank < 2 || inputs.shape[inputs.rank - 1] !== kernel.shape[0]) {
      fail(this.toString(), `expects input last dimension ${kernel.shape[0]}, got shape ${fmtShape(inputs.shape)}`);
    }
    let y = dense(inputs, kernel.value, this.bias?.value ?? null, this.fusedActivation ?? 'linear');
    if (!this.fusedActivation) y = this.activation(y);
    // symbolic calls only infer shapes: a penalty there would be thrown away
    if (this.activityPenalty && y instanceof Tensor) this.addActivityLoss(this.activityPenalty(y), y);
    return y;
  }

  override getConfig(): LayerConfig {
    const o = this.options;
    return {
      ...super.getConfig(),
      units: this.units,
      activation: serializeActivation(o.activation),
      useBias: o.useBias ?? true,
      ...kernelBiasConfig(o),
    };
  }

  static fromConfig(config: LayerConfig): Dense {
    return new Dense(config.units as number, optionsFromConfig<DenseOptions>(config));
  }
}
