import { ENGINE } from '../../src/engine.js';
import { fail, fmtShape } from '../../src/errors.js';
import * as ops from '../../src/ops/index.js';
import { GATHER } from '../../src/ops/gather.js';
import type { Shape } from '../../src/shape.js';
import { Tensor } from '../../src/tensor.js';
import { checkOnDevice } from '../../src/deferred-checks.js';
import type { Variable } from '../../src/variable.js';
import { getInitializer, serializeInitializer, type InitializerId } from '../../src/initializers/index.js';
import { getRegularizer, type RegularizerFn, type RegularizerId } from '../../src/regularizers.js';
import { getConstraint, type ConstraintId } from '../../src/constraints.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { constraintConfig, optionsFromConfig, regularizerConfig } from '../config.js';

export interface EmbeddingOptions extends LayerArgs {
  /** Default 'uniform': draws in [-0.05, 0.05), as Keras's RandomUniform. */
  embeddingsInitializer?: InitializerId;
  embeddingsRegularizer?: RegularizerId | null;
  /** A penalty on the layer's output, added to `callLosses` by each call. */
  activityRegularizer?: RegularizerId | null;
  embeddingsConstraint?: ConstraintId | null;
  /**
   * Whether index 0 is padding: the output then carries a mask, false where the input is 0, that
   * the layers after it and the loss honour. Index 0 keeps its row, so the vocabulary needs
   * `inputDim` = its size + 1.
   */
  maskZero?: boolean;
}

/**
 * Turns integer indices into dense vectors: row `i` of the 'embeddings' weight [inputDim,
 * outputDim] for each index `i` (keras.layers.Embedding), so [batch, steps] → [batch, steps,
 * outputDim]. Float indices are cast to int32 (toward zero), as Keras does; an index outside
 * [0, inputDim) is an error, thrown by the next read (docs/indices.md).
 * @example
 * const emb = new kiln.layers.Embedding(1000, 64, { maskZero: true });
 * emb.apply(kiln.tensor([[4, 20, 0]], [1, 3], 'int32')).shape;   // [1, 3, 64], masked at step 2
 */
export class Embedding extends Layer {
  static readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly maskZero: boolean;
  embeddings: Variable | null = null;
  private readonly activityPenalty: RegularizerFn | null;

  constructor(inputDim: number, outputDim: number, private readonly options: EmbeddingOptions = {}) {
    super(options);
    for (const [name, v] of [['inputDim', inputDim], ['outputDim', outputDim]] as const) {
      if (!Number.isInteger(v) || v <= 0) fail(this.toString(), `${name} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    const { maskZero = false } = options;
    if (typeof maskZero !== 'boolean') fail(this.toString(), `maskZero must be true or false, got ${JSON.stringify(maskZero)}`);
    this.inputDim = inputDim;
    this.outputDim = outputDim;
    this.maskZero = maskZero;
    this.supportsMasking = maskZero;
    this.activityPenalty = options.activityRegularizer ? getRegularizer(options.activityRegularizer) : null;
    // resolved now so that a misspelt id fails here, as in Keras, not at the first call
    if (options.embeddingsInitializer !== undefined) getInitializer(options.embeddingsInitializer);
    if (options.embeddingsRegularizer) getRegularizer(options.embeddingsRegularizer);
    if (options.embeddingsConstraint) getConstraint(options.embeddingsConstraint);
  }

  override build(inputShape: Shape): void {
    void inputShape;
    const o = this.options;
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], {
      initializer: o.embeddingsInitializer ?? 'uniform', regularizer: o.embeddingsRegularizer, constraint: o.embeddingsConstraint,
    });
  }

  call(inputs: Tensor): Tensor {
    if (inputs.dtype === 'bool') fail(this.toString(), `expects integer indices, got a bool tensor of shape ${fmtShape(inputs.shape)}`);
    const cast = inputs.dtype === 'int32' ? inputs : ops.cast(inputs, 'int32');
    // symbolic calls only infer shapes; eager indices are checked here, where the error can name
    // the layer, and clamped, as the error waits for the next read; gather then runs directly
    const indices = inputs instanceof Tensor ? this.checked(inputs, cast) : cast;
    const y = ENGINE.run(GATHER, [this.embeddings!.value, indices], { axis: 0 });
    if (this.activityPenalty && y instanceof Tensor) this.addActivityLoss(this.activityPenalty(y), y);
    return y;
  }

  /** Padding steps: false where the input is 0, when maskZero; the input's mask is not kept, as in Keras. */
  override computeMask(inputs: Tensor): Tensor | null {
    return this.maskZero ? ops.notEqual(inputs, 0) : null;
  }

  /**
   * `cast` clamped into [0, inputDim), the inputs checked on the device: each index as the cast
   * gives it (toward zero) must lie in [0, inputDim), so an int32 one must be left alone by the
   * clamp and a float one must be above -1 and below inputDim (NaN and ±Infinity never are). The
   * error, naming the layer, the index and where it sits, comes with the next read (fit reads its
   * logs), on every backend alike (docs/indices.md).
   */
  private checked(inputs: Tensor, cast: Tensor): Tensor {
    const clamped = ops.clip(cast, 0, this.inputDim - 1);
    const bad = inputs.dtype === 'int32'
      ? ops.notEqual(clamped, inputs)
      : ops.logicalNot(ops.logicalAnd(ops.greater(inputs, -1), ops.less(inputs, this.inputDim)));
    const at = `of the input ${fmtShape(inputs.shape)}, flattened`;
    checkOnDevice(`${this.toString()} ${inputs.dtype} ${at}`, inputs, bad, (i, v) => fail(this.toString(),
      `index ${v}${inputs.rank > 0 ? ` (element ${i} ${at})` : ''} is out of range for inputDim ${this.inputDim}: indices must be in [0, ${this.inputDim})`));
    return clamped;
  }

  override getConfig(): LayerConfig {
    const o = this.options;
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: serializeInitializer(o.embeddingsInitializer ?? 'uniform'),
      embeddingsRegularizer: regularizerConfig(o.embeddingsRegularizer),
      activityRegularizer: regularizerConfig(o.activityRegularizer),
      embeddingsConstraint: constraintConfig(o.embeddingsConstraint),
      maskZero: this.maskZero,
    };
  }

  static fromConfig(config: LayerConfig): Embedding {
    return new Embedding(config.inputDim as number, config.outputDim as number, optionsFromConfig<EmbeddingOptions>(config));
  }
}
