import { fail, fmtShape } from '../../src/errors.js';
import * as ops from '../../src/ops/index.js';
import { zeros } from '../../src/creation.js';
import { getRegularizer, type RegularizerFn, type RegularizerId } from '../../src/regularizers.js';
import type { Dim, Shape } from '../../src/shape.js';
import type { SymbolicTensor } from '../../src/symbolic.js';
import { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig, type Shapes, type Symbolic, type Tensors } from '../layer.js';
import type { LayerMask } from '../mask.js';
import { optionsFromConfig, regularizerConfig } from '../config.js';
import { serializeLayer, type SerializedLayer } from '../registry.js';
import { cellFromConfig, outputSizeOf, stateSizesOf, type CellLike } from './cell.js';
import { StackedRNNCells } from './stacked-rnn-cells.js';
import { runSteps, sequenceMask, type SequenceResult } from './loop.js';
import { CarriedStates, checkStates } from './rnn-states.js';

export interface RNNOptions extends LayerArgs {
  /** Whether to return every step's output [batch, time, units] rather than the last [batch, units]. */
  returnSequences?: boolean;
  /** Whether to return the final states too: [output, ...states]. */
  returnState?: boolean;
  /** Whether to run the sequence from its last step to its first (the outputs come in that order). */
  goBackwards?: boolean;
  /**
   * Whether each call starts from the previous call's final states (sample i of a batch
   * continuing sample i of the batch before); the batch size is then fixed. `resetStates()` zeroes them.
   */
  stateful?: boolean;
  /** Accepted for Keras's configs; kiln's loop runs the same either way. */
  unroll?: boolean;
  /** Whether a masked step outputs zeros rather than the previous step's output. */
  zeroOutputForMask?: boolean;
  /** A penalty on the layer's output, added to `callLosses` by each call. */
  activityRegularizer?: RegularizerId | null;
}

/** A recurrent layer's call options: the training flag, the mask, and the states to start from. */
export interface RNNCallOptions extends CallOptions {
  /**
   * One [batch, size] tensor per state of the cell (for LSTM: [h, c]); zeros when absent. In a
   * Functional model, symbolic tensors (another layer's states, an Input).
   */
  initialState?: Tensor | SymbolicTensor | readonly (Tensor | SymbolicTensor)[] | null;
}

const FLAGS = ['returnSequences', 'returnState', 'goBackwards', 'stateful', 'unroll', 'zeroOutputForMask'] as const;

/**
 * Runs a cell over the time axis of [batch, time, features] (keras.layers.RNN). The cell is any
 * object with `stateSize`, optional `outputSize` and `call(input, states, { training })` returning
 * `[output, newStates]`; a list of cells becomes StackedRNNCells. Masks (from Embedding with
 * maskZero, or Masking) make padded steps keep the previous states and output.
 * @example
 * const lstm = new kiln.layers.RNN(new kiln.layers.LSTMCell(16), { returnSequences: true });
 * lstm.apply(kiln.zeros([4, 10, 8])).shape;   // [4, 10, 16]
 */
export class RNN extends Layer {
  static readonly className: string = 'RNN';
  /** In a Functional model, symbolic initial states are inputs of the layer's node. */
  static override readonly tensorCallOptions: readonly string[] = ['initialState'];
  readonly cell: CellLike;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly stateful: boolean;
  readonly unroll: boolean;
  readonly zeroOutputForMask: boolean;
  /** The size of each state the cell carries, in order (LSTM: [units, units]). */
  readonly stateSizes: number[];
  private readonly activityPenalty: RegularizerFn | null;
  private readonly carried: CarriedStates | null;
  /** The features the cell was built for. */
  private features: number | null = null;

  constructor(cell: CellLike | readonly CellLike[], protected readonly rnnOptions: RNNOptions = {}) {
    super(rnnOptions);
    if (Array.isArray(cell)) cell = new StackedRNNCells(cell);
    const one = cell as CellLike;
    if (typeof (one as Partial<CellLike> | null)?.call !== 'function') fail(this.toString(), `the cell needs a call(input, states, options) method, got ${String(cell)}`);
    this.stateSizes = stateSizesOf(one, this.toString());
    outputSizeOf(one, this.toString());
    this.cell = one;
    if (one instanceof Layer) this.track(one);
    for (const flag of FLAGS) {
      const v = rnnOptions[flag] ?? false;
      if (typeof v !== 'boolean') fail(this.toString(), `${flag} must be true or false, got ${JSON.stringify(v)}`);
    }
    this.returnSequences = rnnOptions.returnSequences ?? false;
    this.returnState = rnnOptions.returnState ?? false;
    this.goBackwards = rnnOptions.goBackwards ?? false;
    this.stateful = rnnOptions.stateful ?? false;
    this.unroll = rnnOptions.unroll ?? false;
    this.zeroOutputForMask = rnnOptions.zeroOutputForMask ?? false;
    this.multiOutput = this.returnState;
    this.activityPenalty = rnnOptions.activityRegularizer ? getRegularizer(rnnOptions.activityRegularizer) : null;
    this.carried = this.stateful ? new CarriedStates(this.toString(), this.stateSizes, this.dtype) : null;
  }

  get outputSize(): number {
    return outputSizeOf(this.cell, this.toString());
  }

  override build(inputShape: Shape): void {
    this.checkSequenceShape(inputShape);
    this.features = inputShape[2];
    if (this.cell.build && !this.cell.built) this.cell.build([inputShape[0], inputShape[2]]);
    const batch = inputShape[0] ?? this.batchInputShape?.[0] ?? null;
    if (this.carried && batch !== null && this.carried.batch === null) this.carried.create(batch);
  }

  override call(inputs: Tensors, options?: RNNCallOptions): Tensors;
  override call(inputs: Tensors, options: RNNCallOptions = {}): Tensors {
    const x = inputs as Tensor;
    this.checkSequenceShape(x.shape);
    const mask = sequenceMask(this.toString(), options.mask, x);
    const initial = this.initialStates(x, options.initialState);
    this.cell.resetDropoutMasks?.();
    const result = this.runSequence(x, initial, mask, options.training ?? false);
    this.cell.resetDropoutMasks?.();
    if (this.carried) this.carried.carry(result.states);
    const output = this.returnSequences ? result.outputs : result.last;
    if (this.activityPenalty) this.addActivityLoss(this.activityPenalty(output), output);
    return this.returnState ? [output, ...result.states] : output;
  }

  /** Applies the layer; `initialState` (one tensor per state) starts the recurrence from given states. */
  override apply(inputs: SymbolicTensor, options?: RNNCallOptions): SymbolicTensor;
  override apply(inputs: SymbolicTensor[], options?: RNNCallOptions): SymbolicTensor | SymbolicTensor[];
  override apply(inputs: Tensor, options?: RNNCallOptions): Tensor;
  override apply(inputs: Tensors | Symbolic, options?: RNNCallOptions): Tensors;
  override apply(inputs: Tensors | Symbolic, options: RNNCallOptions = {}): Tensors | Symbolic {
    return super.apply(inputs as Tensors, options);
  }

  /**
   * The recurrence over x [batch, time, features] from `initial`: the cell's step in a loop.
   * SimpleRNN, LSTM and GRU override it with their fused sequence ops.
   */
  protected runSequence(x: Tensor, initial: Tensor[], mask: Tensor | null, training: boolean): SequenceResult {
    const step = (input: Tensor, states: Tensor[]): [Tensor, Tensor[]] => {
      const [out, next] = this.cell.call(input, states, { training });
      return [out, Array.isArray(next) ? next : [next]];
    };
    return runSteps(step, x, initial, { mask, goBackwards: this.goBackwards, zeroOutputForMask: this.zeroOutputForMask, outputSize: this.outputSize });
  }

  /** The states a call starts from: the caller's, the carried ones (stateful), or zeros. */
  private initialStates(x: Tensor, given: RNNCallOptions['initialState']): Tensor[] {
    const batch = x.shape[0];
    if (given !== undefined && given !== null) {
      const list = given instanceof Tensor ? [given] : Array.isArray(given) ? [...given] : fail(this.toString(), `initialState must be a tensor or a list of tensors, got ${typeof given}`);
      checkStates(this.toString(), list, this.stateSizes, batch);
      // an eager call has concrete states: Layer.apply refuses symbolic options beside concrete inputs
      return (list as Tensor[]).map((s) => (s.dtype === x.dtype ? s : ops.cast(s, x.dtype)));
    }
    if (this.carried) return this.carried.values(batch);
    return this.stateSizes.map((n) => zeros([batch, n], x.dtype));
  }

  private checkSequenceShape(shape: readonly Dim[]): void {
    if (shape.length !== 3 || shape[2] === null) {
      fail(this.toString(), `expects sequences [batch, time, features] with known features, got shape ${fmtShape(shape)}${shape.length === 2 ? ' (a single step? add a time axis: expandDims(x, 1))' : ''}`);
    }
    if (this.features !== null && shape[2] !== this.features) fail(this.toString(), `was built for ${this.features} features, got shape ${fmtShape(shape)}`);
  }

  /**
   * Shapes without running the loop, so that a symbolic call (a Functional model, summary) works
   * with unknown batch and time sizes.
   */
  override computeOutputShape(inputShape: Shapes): Shapes {
    const [batch, time] = inputShape as Shape;
    const output: Shape = this.returnSequences ? [batch, time, this.outputSize] : [batch, this.outputSize];
    return this.returnState ? [output, ...this.stateSizes.map((n): Shape => [batch, n])] : output;
  }

  protected override outputSpecs(inputs: SymbolicTensor | SymbolicTensor[], options: CallOptions = {}): SymbolicTensor[] {
    // call reads the mask, and computeOutputShape does not run call: reading it here records in
    // the graph that this layer takes masks (the ONNX exporter carries them to it)
    void options.mask;
    const given = (options as RNNCallOptions).initialState;
    if (given !== undefined && given !== null) checkStates(this.toString(), [given].flat(), this.stateSizes, (inputs as SymbolicTensor).shape[0]);
    return super.outputSpecs(inputs, options);
  }

  /** The output mask: the input's, for every step, when returning sequences (the states have none). */
  override computeMask(inputs: Tensors, previousMask: LayerMask): LayerMask {
    void inputs;
    const mask = (Array.isArray(previousMask) ? previousMask[0] : previousMask) ?? null;
    const output = this.returnSequences ? mask : null;
    return this.returnState ? [output, ...this.stateSizes.map(() => null)] : output;
  }

  /**
   * Sets a stateful layer's states to zeros, or to `states` (one [batch, size] tensor per state).
   * @example
   * const lstm = new kiln.layers.LSTM(4, { stateful: true, batchSize: 2 });
   * lstm.apply(kiln.ones([2, 3, 1]));
   * lstm.resetStates();   // the next call starts from zeros
   */
  resetStates(states?: Tensor | readonly Tensor[]): void {
    if (!this.carried) fail(`${this}.resetStates`, 'the layer is not stateful: only a layer made with stateful: true carries states between calls');
    this.carried.reset(states);
  }

  override dispose(): void {
    this.carried?.dispose();
    super.dispose();
  }

  /** The RNN options' part of the config, which every recurrent layer saves. */
  protected rnnConfig(): Record<string, unknown> {
    return {
      returnSequences: this.returnSequences, returnState: this.returnState, goBackwards: this.goBackwards,
      stateful: this.stateful, unroll: this.unroll, zeroOutputForMask: this.zeroOutputForMask,
      activityRegularizer: regularizerConfig(this.rnnOptions.activityRegularizer),
    };
  }

  override getConfig(): LayerConfig {
    if (!(this.cell instanceof Layer)) fail(this.toString(), 'cannot save a cell that is not a Layer: make the cell a layer class with a static className and fromConfig, registered with kiln.registerLayer');
    return { ...this.baseConfig(), ...this.rnnConfig(), cell: serializeLayer(this.cell) };
  }

  /** Layer's config (name, trainable, dtype, input shape), under which SimpleRNN, LSTM and GRU put their cell's options. */
  protected baseConfig(): LayerConfig {
    return super.getConfig();
  }

  static fromConfig(config: LayerConfig): RNN {
    const { cell, ...rest } = config;
    return new RNN(cellFromConfig(cell as SerializedLayer, config.dtype), optionsFromConfig(rest as LayerConfig));
  }
}
