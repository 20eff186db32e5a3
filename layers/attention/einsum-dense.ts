import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Dim, Shape } from '../../src/shape.js';
import { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import { getActivation, serializeActivation, type ActivationFn, type ActivationId } from '../../src/activations.js';
import { getInitializer, serializeInitializer, type InitializerFn, type InitializerId } from '../../src/initializers/index.js';
import { getRegularizer, type RegularizerFn, type RegularizerId } from '../../src/regularizers.js';
import { getConstraint, type ConstraintId } from '../../src/constraints.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { kernelBiasConfig, optionsFromConfig } from '../config.js';
import { einsumShapes, splitEquation } from './einsum-shapes.js';

export interface EinsumDenseOptions extends LayerArgs {
  activation?: ActivationId;
  /** The output axes (letters of the equation's output) that get a bias; none when absent. */
  biasAxes?: string | null;
  kernelInitializer?: InitializerId;
  biasInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId | null;
  biasRegularizer?: RegularizerId | null;
  activityRegularizer?: RegularizerId | null;
  kernelConstraint?: ConstraintId | null;
  biasConstraint?: ConstraintId | null;
}

/** The initializers whose scale follows the kernel's fans (keras.initializers.VarianceScaling and its presets). */
const FAN_SCALED = new Set(['VarianceScaling', 'GlorotUniform', 'GlorotNormal', 'HeNormal', 'HeUniform', 'LecunNormal', 'LecunUniform']);

/**
 * `activation(einsum(equation, x, kernel) + bias)` (keras.layers.EinsumDense): a dense layer
 * over any axes. `outputShape` gives the output's axes without the batch axis and the axes an
 * ellipsis stands for (null where the input decides). The weights are 'kernel', shaped by the
 * equation's second subscript, then 'bias' when `biasAxes` names output axes.
 * @example
 * const proj = new kiln.layers.EinsumDense('abc,cde->abde', [null, 4, 8], { biasAxes: 'de' });
 * proj.apply(kiln.zeros([2, 5, 16])).shape;   // [2, 5, 4, 8]; kernel [16, 4, 8], bias [4, 8]
 */
export class EinsumDense extends Layer {
  static readonly className = 'EinsumDense';
  readonly equation: string;
  readonly partialOutputShape: Dim[];
  readonly biasAxes: string | null;
  readonly activation: ActivationFn;
  kernel: Variable | null = null;
  bias: Variable | null = null;
  private builtRank = 0;
  private readonly activityPenalty: RegularizerFn | null;

  constructor(equation: string, outputShape: Dim | readonly Dim[], private readonly options: EinsumDenseOptions = {}) {
    super(options);
    splitEquation(this.toString(), equation);
    this.equation = equation;
    const dims = typeof outputShape === 'number' || outputShape === null ? [outputShape] : Array.isArray(outputShape) ? [...outputShape] : null;
    if (!dims || !dims.every((d) => d === null || (Number.isSafeInteger(d) && d >= 0))) {
      fail(this.toString(), `outputShape must be a non-negative integer or a list of them (null where the input decides), got ${JSON.stringify(outputShape)}`);
    }
    this.partialOutputShape = dims;
    const biasAxes = options.biasAxes ?? null;
    if (biasAxes !== null && (typeof biasAxes !== 'string' || biasAxes === '')) fail(this.toString(), `biasAxes must be a string of output axes or null, got ${JSON.stringify(biasAxes)}`);
    this.biasAxes = biasAxes;
    this.activation = getActivation(options.activation);
    this.activityPenalty = options.activityRegularizer ? getRegularizer(options.activityRegularizer) : null;
    for (const id of [options.kernelInitializer, options.biasInitializer]) if (id !== undefined) getInitializer(id);
    for (const id of [options.kernelRegularizer, options.biasRegularizer]) if (id) getRegularizer(id);
    for (const id of [options.kernelConstraint, options.biasConstraint]) if (id) getConstraint(id);
  }

  override build(inputShape: Shape): void {
    const { kernelShape, biasShape, inputAxes, outputAxes } = einsumShapes(this.toString(), this.equation, this.biasAxes, inputShape, this.partialOutputShape);
    const o = this.options;
    this.builtRank = inputShape.length;
    this.kernel = this.addWeight('kernel', kernelShape, {
      initializer: byFans(o.kernelInitializer ?? 'glorot_uniform', inputAxes, outputAxes), regularizer: o.kernelRegularizer, constraint: o.kernelConstraint,
    });
    if (biasShape) {
      this.bias = this.addWeight('bias', biasShape, { initializer: o.biasInitializer ?? 'zeros', regularizer: o.biasRegularizer, constraint: o.biasConstraint });
    }
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return einsumShapes(this.toString(), this.equation, this.biasAxes, inputShape, this.partialOutputShape).outputShape;
  }

  call(x: Tensor): Tensor {
    if (x.rank !== this.builtRank) fail(this.toString(), `was built for inputs of rank ${this.builtRank}, got shape ${fmtShape(x.shape)}`);
    let y = ops.einsum(this.equation, x, this.kernel!.value);
    if (this.bias) y = ops.add(y, this.bias.value);
    y = this.activation(y);
    // symbolic calls only infer shapes: a penalty there would be thrown away
    if (this.activityPenalty && y instanceof Tensor) this.addActivityLoss(this.activityPenalty(y), y);
    return y;
  }

  override getConfig(): LayerConfig {
    const o = this.options;
    return {
      ...super.getConfig(),
      outputShape: this.partialOutputShape,
      equation: this.equation,
      activation: serializeActivation(o.activation),
      biasAxes: this.biasAxes,
      ...kernelBiasConfig(o),
    };
  }

  static fromConfig(config: LayerConfig): EinsumDense {
    const { equation, outputShape, ...rest } = config;
    return new EinsumDense(equation as string, outputShape as Dim[], optionsFromConfig<EinsumDenseOptions>(rest as LayerConfig));
  }
}

/**
 * A fan-scaled initializer sized by the axes the equation contracts and produces, as Keras 3
 * gives VarianceScaling the kernel's input and output axes: a query kernel [dim, heads, keyDim]
 * has fan-in dim and fan-out heads·keyDim, not a convolution's receptive field. The draws are
 * independent, so drawing [fanIn, fanOut] and reshaping gives the same distribution.
 */
function byFans(id: InitializerId, inputAxes: number[], outputAxes: number[]): InitializerId {
  if (typeof id === 'function' || !FAN_SCALED.has(serializeInitializer(id).className)) return id;
  const init = getInitializer(id);
  const fans: InitializerFn = (shape, dtype) => {
    const size = (axes: number[]): number => axes.reduce((n, a) => n * shape[a], 1);
    return ops.reshape(init([size(inputAxes), size(outputAxes)], dtype), shape);
  };
  return fans;
}
