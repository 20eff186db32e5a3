import * as ops from '../../src/ops/index.js';
import { fail } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { SymbolicTensor } from '../../src/symbolic.js';
import type { Tensor } from '../../src/tensor.js';
import type { TensorLike } from '../../src/convert.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig, type Shapes, type Symbolic, type Tensors } from '../layer.js';
import type { LayerMask } from '../mask.js';
import { layerFromConfig, serializeLayer } from '../registry.js';
import { optionsFromConfig } from '../config.js';
import { describeValue, nestedLayer } from './nested-layer.js';

/** How the two directions' outputs combine; null returns both. */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;
const MERGE_MODES: readonly MergeMode[] = ['sum', 'mul', 'ave', 'concat', null];

/**
 * What Bidirectional needs of the layer it wraps, as Keras: an RNN (LSTM, GRU, SimpleRNN, RNN of
 * any cell), or any layer with these flags and RNN's meaning for them.
 */
export interface RecurrentLayer extends Layer {
  readonly goBackwards: boolean;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly stateful: boolean;
  /** Set by Bidirectional to returnSequences, as Keras forces it. */
  zeroOutputForMask?: boolean;
  resetStates?(): void;
}

const FLAGS = ['goBackwards', 'returnSequences', 'returnState', 'stateful'] as const;

export interface BidirectionalOptions extends LayerArgs {
  /** How the forward and backward outputs combine (default 'concat', along the last axis). */
  mergeMode?: MergeMode;
  /**
   * The layer that reads the sequence backwards; by default a copy of `layer`'s config with
   * goBackwards true. It must return what `layer` returns and have the opposite goBackwards.
   */
  backwardLayer?: Layer | null;
  /** Initial weights: the forward layer's, then the backward layer's, set when the layer builds. */
  weights?: readonly (Tensor | TensorLike)[] | null;
}

/** Bidirectional's call options: the training flag, the mask, and the states to start from. */
export interface BidirectionalCallOptions extends CallOptions {
  /** The forward layer's initial states, then the backward layer's (half each); symbolic in a Functional model. */
  initialState?: readonly (Tensor | SymbolicTensor)[] | null;
}

/**
 * Runs a recurrent layer over the sequence forwards and a copy of it backwards, and merges the
 * two (keras.layers.Bidirectional). The backward outputs are put back in time order before they
 * merge, so step t of the output sees the whole sequence; a masked (right-padded) sequence is
 * read backwards from its last real step. The weights are the forward layer's, then the
 * backward layer's, named `forward_<name>` and `backward_<name>` as Keras.
 * @example
 * const bi = new kiln.layers.Bidirectional(new kiln.layers.LSTM(16, { returnSequences: true }));
 * bi.apply(kiln.zeros([4, 10, 8])).shape;   // [4, 10, 32]
 */
export class Bidirectional extends Layer {
  static readonly className = 'Bidirectional';
  static override readonly tensorCallOptions: readonly string[] = ['initialState'];
  override supportsMasking = true;
  readonly forwardLayer: RecurrentLayer;
  readonly backwardLayer: RecurrentLayer;
  readonly mergeMode: MergeMode;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly stateful: boolean;
  private initialWeights: readonly (Tensor | TensorLike)[] | null;

  constructor(layer: Layer, options: BidirectionalOptions = {}) {
    const { mergeMode = 'concat', backwardLayer = null, weights = null, ...args } = options;
    super(args);
    recurrent(this, layer, 'the layer to wrap');
    if (backwardLayer !== null) recurrent(this, backwardLayer, 'backwardLayer');
    if (!MERGE_MODES.includes(mergeMode)) fail(this.toString(), `mergeMode must be 'sum', 'mul', 'ave', 'concat' or null, got ${JSON.stringify(mergeMode)}`);
    this.mergeMode = mergeMode;
    // made afresh from the config, as Keras: the wrapped layer's weights and states stay its own
    const saved = serializeLayer(layer);
    this.forwardLayer = this.track(layerFromConfig({ ...saved, config: { ...saved.config, name: `forward_${unprefixed(layer.name, 'forward_')}` } }) as RecurrentLayer);
    this.backwardLayer = this.track(backwardLayer as RecurrentLayer | null
      ?? layerFromConfig({ ...saved, config: { ...saved.config, goBackwards: true, name: `backward_${unprefixed(layer.name, 'backward_')}` } }) as RecurrentLayer);
    this.checkDirections();
    this.returnSequences = this.forwardLayer.returnSequences;
    this.returnState = this.forwardLayer.returnState;
    this.stateful = this.forwardLayer.stateful;
    // as Keras: a masked step of a returned sequence is zeros in both directions, so that the
    // two halves of a padded step agree rather than one repeating its last real output
    for (const l of [this.forwardLayer, this.backwardLayer]) {
      if (typeof l.zeroOutputForMask === 'boolean') l.zeroOutputForMask = this.returnSequences;
    }
    this.multiOutput = this.returnState || this.mergeMode === null;
    this.initialWeights = weights;
  }

  private checkDirections(): void {
    const [f, b] = [this.forwardLayer, this.backwardLayer];
    if (f.goBackwards === b.goBackwards) {
      fail(this.toString(), `the forward and backward layers must have opposite goBackwards, got ${f.goBackwards} for ${f} and ${b.goBackwards} for ${b}`);
    }
    for (const flag of ['stateful', 'returnSequences', 'returnState'] as const) {
      if (f[flag] !== b[flag]) fail(this.toString(), `the forward and backward layers must have the same ${flag}, got ${f[flag]} for ${f} and ${b[flag]} for ${b}`);
    }
  }

  override build(inputShape: Shape): void {
    for (const l of [this.forwardLayer, this.backwardLayer]) if (!l.built) l.build(inputShape);
    const weights = this.initialWeights;
    if (!weights) return;
    this.initialWeights = null;
    const [f, b] = [this.forwardLayer, this.backwardLayer].map((l) => l.getWeightVariables().length);
    if (weights.length !== f + b) fail(this.toString(), `weights must hold the forward layer's ${f} arrays then the backward layer's ${b}, got ${weights.length}`);
    this.forwardLayer.setWeights(weights.slice(0, f));
    this.backwardLayer.setWeights(weights.slice(f));
  }

  override call(inputs: Tensors, options?: BidirectionalCallOptions): Tensors;
  override call(inputs: Tensors, options: BidirectionalCallOptions = {}): Tensors {
    if (Array.isArray(inputs)) fail(this.toString(), `takes one sequence tensor, got a list of ${inputs.length}`);
    const [forwardState, backwardState] = this.splitStates(options.initialState);
    const run = (layer: RecurrentLayer, initialState: readonly (Tensor | SymbolicTensor)[] | null): Tensor[] => {
      layer.callLosses = [];
      const y = layer.call(inputs, { training: options.training, mask: options.mask, initialState } as BidirectionalCallOptions);
      return Array.isArray(y) ? y : [y];
    };
    const [y, ...forwardStates] = run(this.forwardLayer, forwardState);
    const [yBackward, ...backwardStates] = run(this.backwardLayer, backwardState);
    const yReversed = this.returnSequences ? ops.flip(yBackward, 1) : yBackward;
    const merged = this.merge(y, yReversed);
    if (!this.returnState) return merged;
    return [...(Array.isArray(merged) ? merged : [merged]), ...forwardStates, ...backwardStates];
  }

  private merge(y: Tensor, yReversed: Tensor): Tensor | Tensor[] {
    switch (this.mergeMode) {
      case 'concat': return ops.concatenate([y, yReversed], -1);
      case 'sum': return ops.add(y, yReversed);
      case 'mul': return ops.multiply(y, yReversed);
      case 'ave': return ops.multiply(ops.add(y, yReversed), 0.5);
      default: return [y, yReversed];
    }
  }

  /** `initialState` as Keras splits it: the first half starts the forward layer, the rest the backward one. */
  private splitStates(states: BidirectionalCallOptions['initialState']): [readonly (Tensor | SymbolicTensor)[] | null, readonly (Tensor | SymbolicTensor)[] | null] {
    if (states === undefined || states === null) return [null, null];
    if (!Array.isArray(states) || states.length % 2 !== 0) {
      fail(this.toString(), `initialState must list the forward layer's states then the backward layer's (an even count), got ${Array.isArray(states) ? `${states.length} tensors` : describeValue(states)}`);
    }
    return [states.slice(0, states.length / 2), states.slice(states.length / 2)];
  }

  /** Applies the layer; `initialState` (forward states, then backward states) starts both directions from given states. */
  override apply(inputs: SymbolicTensor, options?: BidirectionalCallOptions): SymbolicTensor;
  override apply(inputs: SymbolicTensor[], options?: BidirectionalCallOptions): SymbolicTensor | SymbolicTensor[];
  override apply(inputs: Tensor, options?: BidirectionalCallOptions): Tensor;
  override apply(inputs: Tensors | Symbolic, options?: BidirectionalCallOptions): Tensors;
  override apply(inputs: Tensors | Symbolic, options: BidirectionalCallOptions = {}): Tensors | Symbolic {
    return super.apply(inputs as Tensors, options);
  }

  /** Shapes from the two layers' own, without running either loop (time may be unknown). */
  override computeOutputShape(inputShape: Shapes): Shapes {
    const [[forward, ...forwardStates], [backward, ...backwardStates]] = [this.forwardLayer, this.backwardLayer].map((l) => {
      const shapes = l.computeOutputShape(inputShape);
      return (this.returnState ? shapes : [shapes]) as Shape[];
    });
    // concat joins the last axes, which differ where the backward layer has other units
    const merged = this.mergeMode === 'concat' ? [...forward.slice(0, -1), concatenated(forward.at(-1)!, backward.at(-1)!)] : forward;
    const outputs = this.mergeMode === null ? [forward, backward] : [merged];
    return this.multiOutput ? [...outputs, ...forwardStates, ...backwardStates] : outputs[0];
  }

  protected override outputSpecs(inputs: SymbolicTensor | SymbolicTensor[], options: CallOptions = {}): SymbolicTensor[] {
    // call reads the mask, and computeOutputShape does not run call: reading it here records in
    // the graph that this layer takes masks (the ONNX exporter carries them to it)
    void options.mask;
    return super.outputSpecs(inputs, options);
  }

  /**
   * As Keras 3.15: each output keeps the input's mask when it is a sequence; the states have none.
   * One entry per output, so that a Functional model and the ONNX exporter, which ask
   * computeMask, give each output its own. (Keras lists the states' entries for a stateful layer
   * only; kiln lists one for every output the call gives.)
   */
  override computeMask(inputs: Tensors, previousMask: LayerMask): LayerMask {
    const mask = (Array.isArray(previousMask) ? previousMask[0] : previousMask) ?? null;
    if (!this.multiOutput) return this.returnSequences ? mask : null;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const count = (this.computeOutputShape(x.shape) as Shape[]).length;
    const outputs = this.mergeMode === null ? 2 : 1;
    return Array.from({ length: count }, (_, i) => (i < outputs && this.returnSequences ? mask : null));
  }

  /** Zeroes both directions' carried states (stateful layers only). */
  resetStates(): void {
    if (!this.stateful) fail(`${this}.resetStates`, 'the layer is not stateful: wrap a layer made with stateful: true');
    this.forwardLayer.resetStates?.();
    this.backwardLayer.resetStates?.();
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), mergeMode: this.mergeMode, layer: serializeLayer(this.forwardLayer), backwardLayer: serializeLayer(this.backwardLayer) };
  }

  static fromConfig(config: LayerConfig): Bidirectional {
    const { layer, backwardLayer, ...rest } = config;
    const backward = backwardLayer === undefined || backwardLayer === null ? null : nestedLayer(backwardLayer, 'Bidirectional', 'backwardLayer');
    return new Bidirectional(nestedLayer(layer, 'Bidirectional', 'layer'), { ...optionsFromConfig<BidirectionalOptions>(rest as LayerConfig), backwardLayer: backward });
  }
}

/** Checks that `layer` is a recurrent layer Bidirectional can run both ways. */
function recurrent(owner: Layer, layer: unknown, what: string): asserts layer is RecurrentLayer {
  if (!(layer instanceof Layer)) fail(owner.toString(), `${what} must be a kiln Layer, got ${describeValue(layer)}`);
  const missing = FLAGS.filter((f) => typeof (layer as unknown as Record<string, unknown>)[f] !== 'boolean');
  if (missing.length) {
    fail(owner.toString(), `${what} must be a recurrent layer (RNN, LSTM, GRU, SimpleRNN, or a layer with boolean ${FLAGS.join(', ')}), got ${layer}, which has no ${missing.join(', ')}`);
  }
}

function unprefixed(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

function concatenated(forward: number | null, backward: number | null): number | null {
  return forward === null || backward === null ? null : forward + backward;
}
