import type { DType } from '../backends/contract.js';
import { ENGINE } from '../src/engine.js';
import { fail, fmtShape } from '../src/errors.js';
import { chargeWeight, checkAllocation } from '../src/limits.js';
import type { Dim, Shape } from '../src/shape.js';
import { SymbolicTensor } from '../src/symbolic.js';
import { Tensor } from '../src/tensor.js';
import { Variable } from '../src/variable.js';
import { asTensor, tensorFrom, type TensorLike } from '../src/convert.js';
import { divide } from '../src/ops/binary.js';
import { getInitializer, type InitializerId } from '../src/initializers/index.js';
import { getRegularizer, type RegularizerId } from '../src/regularizers.js';
import { getConstraint, type ConstraintId } from '../src/constraints.js';
import { snakeCase, uniqueName } from './names.js';
import { splitTensorOptions, type OptionInputs } from './call-options.js';
import { attachMasks, maskList, maskOf, maskSpec, previousMask, probed, withMask, type LayerMask, type MaskedOutputs, type MaskOptions } from './mask.js';

/** A layer's inputs or outputs: one tensor, or a list for multi-input layers. */
export type Tensors = Tensor | Tensor[];
export type Symbolic = SymbolicTensor | SymbolicTensor[];
/** A shape, or a list of shapes for multi-input layers. */
export type Shapes = Shape | Shape[];

/** What a call gets besides its inputs: the training flag, and the inputs' masks (layers/mask.ts). */
export interface CallOptions extends MaskOptions {
  training?: boolean;
}

export interface LayerArgs {
  name?: string;
  trainable?: boolean;
  dtype?: DType;
  /** Shape of one sample (no batch dimension): makes this layer a model's first layer. */
  inputShape?: readonly Dim[];
  batchSize?: number;
}

/** What getConfig returns: plain JSON, enough for fromConfig to rebuild the layer. */
export type LayerConfig = { name: string; trainable: boolean; dtype: DType } & Record<string, unknown>;

export interface WeightOptions {
  initializer?: InitializerId;
  regularizer?: RegularizerId | null;
  constraint?: ConstraintId | null;
  trainable?: boolean;
  dtype?: DType;
}

/** A layer application recorded in a Functional graph: which layer made which symbolic tensors. */
export class LayerNode {
  constructor(
    readonly layer: Layer,
    readonly inputs: SymbolicTensor[],
    readonly outputs: SymbolicTensor[],
    /** Constructor-style call arguments other than inputs (e.g. `training` forced by the user). */
    readonly callArgs: CallOptions = {},
    /**
     * Whether the call reads its mask argument, whether or not there was a mask (the exporter
     * carries masks to it); false for a layer that infers its shapes without running call.
     */
    readonly readsMask = false,
    /** Where the call's tensor options sit at the end of `inputs` (call-options.ts). */
    readonly optionInputs: OptionInputs = [],
  ) {}
}

/** The layer node that produced each symbolic tensor (absent for Input tensors). */
export const producer = new WeakMap<SymbolicTensor, LayerNode>();

/**
 * The base of every layer, with Keras's life cycle: created with its config, built once with the
 * input shape (creating its weights), then called on tensors. Subclasses implement `call`, and
 * `build` when they own weights.
 */
export abstract class Layer {
  /** The call options that hold tensors, which a Functional node records as inputs (call-options.ts). */
  static readonly tensorCallOptions: readonly string[] = [];
  name: string;
  private _trainable: boolean;
  readonly dtype: DType;
  built = false;
  /** Weights in creation order: Keras's order for getWeights/setWeights. */
  protected _weights: { variable: Variable; trainable: boolean; regularizer: ((w: Tensor) => Tensor) | null; constraint: ((w: Tensor) => Tensor) | null }[] = [];
  /** Layers this one owns (their weights are part of this layer's). */
  protected _sublayers: Layer[] = [];
  /** The names of the layers holding this one, each with a '/': weights are named by their path, as Keras 3's ('mha/query/kernel'). */
  private weightScope = '';
  /** Regularization terms added by the last call (activity regularizers). */
  callLosses: Tensor[] = [];
  readonly batchInputShape: Dim[] | null;
  inboundNodes: LayerNode[] = [];
  /** Whether `call` takes a list of tensors (merge layers). */
  multiInput = false;
  /** Whether `call` returns a list of tensors (models with several outputs). */
  multiOutput = false;
  /**
   * Whether the outputs carry a mask on: the input's, unless computeMask says otherwise. Keras's
   * default: true exactly when the class overrides computeMask. A layer whose output keeps its
   * input's steps sets it true (Dense, activations, Dropout); at any other layer a mask stops.
   */
  supportsMasking: boolean;

  constructor(args: LayerArgs = {}) {
    // a name from a config file reaches ONNX node names, which onnxruntime reads as C strings (cut at a NUL)
    if (args.name !== undefined && (typeof args.name !== 'string' || args.name === '' || args.name.includes('\0'))) fail(this.className, `name must be a non-empty string without NUL characters, got ${JSON.stringify(args.name)?.slice(0, 80)}`);
    this.name = args.name ?? uniqueName(snakeCase(this.constructor.name));
    // the flag alone: a layer holds no other layers yet, and a subclass's fields do not exist yet
    this._trainable = args.trainable ?? true;
    this.dtype = args.dtype ?? 'float32';
    this.batchInputShape = args.inputShape ? [args.batchSize ?? null, ...args.inputShape] : null;
    this.supportsMasking = this.computeMask !== Layer.prototype.computeMask;
    // as Keras wraps build: a layer built directly (build, then setWeights) counts as built
    const build = this.build;
    this.build = (inputShape: Shapes) => {
      build.call(this, inputShape);
      this.built = true;
    };
  }

  /** Whether the optimizer trains this layer's weights (and BatchNormalization uses batch statistics in training). */
  get trainable(): boolean {
    return this._trainable;
  }

  /**
   * Sets the flag on this layer and on every layer it holds, as Keras 3's setter does: freezing a
   * model freezes all of its layers, and unfreezing it unfreezes them all.
   */
  set trainable(value: boolean) {
    this._trainable = value;
    for (const layer of this.heldLayers()) layer.trainable = value;
  }

  /**
   * Sets this layer's own flag, leaving its layers' as they are: how a model is restored from its
   * config, each of its layers carrying its own flag.
   */
  setOwnTrainable(value: boolean): void {
    this._trainable = value;
  }

  /**
   * The layers this one holds: those given to track, then those in its fields (a layer or a list
   * of layers), as Keras 3 tracks a layer assigned to an attribute. Their weights are this layer's.
   */
  protected heldLayers(): Layer[] {
    const held = [...this._sublayers];
    for (const v of Object.values(this)) for (const l of Array.isArray(v) ? v : [v]) if (l instanceof Layer && l !== this && !held.includes(l)) held.push(l);
    return held;
  }

  /** Kiln's class name for this layer, as saved in configs. */
  get className(): string {
    return (this.constructor as typeof Layer & { className?: string }).className ?? this.constructor.name;
  }

  /** Creates the weights for inputs of `inputShape` (batch dimension included). */
  build(inputShape: Shapes): void {
    void inputShape;
    this.built = true;
  }

  abstract call(inputs: Tensors, options: CallOptions): Tensors;

  /**
   * The outputs' mask for these inputs and the mask that came with them: by default the input's
   * mask when the layer supports masking, else none. Runs on symbolic tensors too.
   */
  computeMask(inputs: Tensors, previousMask: LayerMask): LayerMask {
    void inputs;
    return this.supportsMasking ? previousMask : null;
  }

  /**
   * `call` with masks, as Keras 3's `__call__` handles them: the call sees the input's mask (an
   * explicit `options.mask` wins), and the outputs get computeMask's result where the layer
   * supports masking. Models override it to carry masks through their graph.
   */
  callWithMasks(inputs: Tensors, inputMasks: readonly (Tensor | null)[], options: CallOptions): MaskedOutputs {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const previous = previousMask(this, this.multiInput, list, inputMasks, options);
    const outputs = this.call(inputs, withMask(options, this.multiInput, previous));
    return { outputs, masks: this.outputMasks(inputs, previous, Array.isArray(outputs) ? outputs.length : 1) };
  }

  /** One mask (or null) per output: computeMask's where the layer supports masking. */
  protected outputMasks(inputs: Tensors, previous: LayerMask, count: number): (Tensor | null)[] {
    if (!this.supportsMasking) return new Array<Tensor | null>(count).fill(null);
    return maskList(this, this.computeMask(inputs, previous), count);
  }

  /**
   * The output shape for `inputShape`, by running `call` on symbolic tensors: the same shape
   * inference eager calls use. Layers override it only when that is not possible.
   */
  computeOutputShape(inputShape: Shapes): Shapes {
    const shapes = this.outputSpecs(symbolicOf(inputShape, this.dtype)).map((t) => t.shape);
    return shapes.length === 1 && !this.multiOutput ? shapes[0] : shapes;
  }

  /**
   * Output shapes and dtypes for symbolic inputs: `call` run symbolically, unless the subclass
   * overrides computeOutputShape (a Lambda given outputShape, say). Then the dtype is the first
   * input's, as for the layers that move data (Keras's Reshape, Flatten and Permute keep it): a
   * layer whose call computes in another dtype leaves computeOutputShape to the symbolic call.
   */
  protected outputSpecs(inputs: SymbolicTensor | SymbolicTensor[], options: CallOptions = {}): SymbolicTensor[] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    this.maybeBuild(this.multiInput ? list.map((t) => t.shape) : list[0].shape);
    if (this.computeOutputShape !== Layer.prototype.computeOutputShape) {
      const shapes = this.computeOutputShape(this.multiInput ? list.map((t) => t.shape) : list[0].shape);
      const many = shapes.length > 0 && Array.isArray(shapes[0]);
      const dtype = list[0].dtype;
      return many ? (shapes as Shape[]).map((s) => new SymbolicTensor(s, dtype)) : [new SymbolicTensor(shapes as Shape, dtype)];
    }
    // tidy frees the constants (the 1 in add(x, 1)) that ops upload while only shapes are wanted
    const raw = ENGINE.tidy(() => ENGINE.withoutTapes(() => this.call(inputs as unknown as Tensors, options))) as unknown as Symbolic;
    this.callLosses = [];
    return Array.isArray(raw) ? raw : [raw];
  }

  /**
   * Calls the layer: on tensors it computes (building first if needed); on symbolic tensors
   * (from `kiln.Input`) it records a node of a Functional graph and returns symbolic outputs.
   */
  apply(inputs: SymbolicTensor, options?: CallOptions): SymbolicTensor;
  apply(inputs: SymbolicTensor[], options?: CallOptions): SymbolicTensor | SymbolicTensor[];
  apply(inputs: Tensor, options?: CallOptions): Tensor;
  apply(inputs: Tensors | Symbolic, options?: CallOptions): Tensors;
  apply(inputs: Tensors | Symbolic, options: CallOptions = {}): Tensors | Symbolic {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (this.multiInput !== Array.isArray(inputs)) {
      fail(`${this.className} '${this.name}'`, this.multiInput ? `expects a list of inputs, got one tensor` : `expects one input tensor, got a list of ${list.length}`);
    }
    for (const [i, x] of list.entries()) {
      if (!(x instanceof Tensor) && !(x instanceof SymbolicTensor)) {
        fail(`${this.className} '${this.name}'`, `input ${i} is not a tensor (got ${x === null ? 'null' : typeof x})`);
      }
    }
    const shapes = list.map((x) => x.shape);
    this.maybeBuild(this.multiInput ? shapes : shapes[0]);
    const { tensors, layout, rest } = splitTensorOptions(this.toString(), (this.constructor as typeof Layer).tensorCallOptions, options);
    const symbolic = list.some((x) => x instanceof SymbolicTensor);
    if (tensors.some((t) => (t instanceof SymbolicTensor) !== symbolic)) {
      fail(this.toString(), `options ${layout.map(([n]) => `'${n}'`).join(', ')} must be ${symbolic ? 'symbolic tensors (from kiln.Input or a layer), as the inputs are' : 'concrete tensors, as the inputs are'}`);
    }
    if (symbolic) return this.applySymbolic(list as SymbolicTensor[], options, { tensors: tensors as SymbolicTensor[], layout, rest });
    this.callLosses = [];
    const { outputs, masks } = this.callWithMasks(inputs as Tensors, (list as Tensor[]).map((x) => maskOf(x)), options);
    attachMasks(outputs, masks);
    return outputs;
  }

  /** Records a node of a Functional graph; its outputs carry the masks the same call would give eagerly. */
  private applySymbolic(inputs: SymbolicTensor[], options: CallOptions, extra: { tensors: SymbolicTensor[]; layout: OptionInputs; rest: CallOptions }): Tensors {
    // symbolic masks stand in for tensors here as symbolic inputs do in call
    const inputMasks = inputs.map((x) => maskOf(x)) as unknown as (Tensor | null)[];
    const previous = previousMask(this, this.multiInput, inputs, inputMasks, options);
    const args = (this.multiInput ? inputs : inputs[0]) as unknown as Tensors;
    let readsMask = false;
    const probe = probed(withMask({ ...options }, this.multiInput, previous), this.multiInput, () => (readsMask = true));
    const specs = this.outputSpecs(args as unknown as SymbolicTensor | SymbolicTensor[], probe);
    const outs = specs.map((t) => new SymbolicTensor(t.shape, t.dtype, null, `${this.name}/output`));
    const masks = ENGINE.tidy(() => ENGINE.withoutTapes(() => this.outputMasks(args, previous, outs.length)));
    attachMasks(outs, masks.map((m) => maskSpec(m, `${this.name}/mask`)));
    const node = new LayerNode(this, [...inputs, ...extra.tensors], outs, extra.rest, readsMask, extra.layout);
    for (const o of outs) producer.set(o, node);
    this.inboundNodes.push(node);
    return (outs.length === 1 && !this.multiOutput ? outs[0] : outs) as unknown as Tensors;
  }

  /** Builds on first use, checking the input against what the layer was built for. */
  protected maybeBuild(inputShape: Shapes): void {
    if (this.built) return;
    this.build(inputShape);
    this.built = true;
  }

  /** Creates a weight; call from build(). */
  addWeight(name: string, shape: readonly number[], options: WeightOptions = {}): Variable {
    const dtype = options.dtype ?? this.dtype;
    // named here, before the initializer runs: a config's `units: 1e9` then names the layer and weight
    const op = `${this.toString()}: weight '${name}'`;
    checkAllocation(op, shape, dtype);
    chargeWeight(op, shape, dtype);
    const init = getInitializer(options.initializer ?? 'glorot_uniform');
    const value = ENGINE.tidy(() => init(shape, dtype));
    const trainable = options.trainable ?? true;
    const variable = new Variable(value, { name: `${this.weightScope}${this.name}/${name}`, trainable, dtype });
    value.dispose();
    this._weights.push({
      variable,
      trainable,
      regularizer: options.regularizer ? getRegularizer(options.regularizer) : null,
      constraint: options.constraint ? getConstraint(options.constraint) : null,
    });
    return variable;
  }

  /** Registers a layer this one calls, so its weights count as this layer's. */
  protected track<L extends Layer>(layer: L): L {
    layer.weightScope = `${this.weightScope}${this.name}/`;
    this._sublayers.push(layer);
    return layer;
  }

  get weights(): Variable[] {
    return [...this.trainableWeights, ...this.nonTrainableWeights];
  }

  get trainableWeights(): Variable[] {
    if (!this.trainable) return [];
    return [...this._weights.filter((w) => w.trainable).map((w) => w.variable), ...this.heldLayers().flatMap((l) => l.trainableWeights)];
  }

  get nonTrainableWeights(): Variable[] {
    const own = this._weights.filter((w) => !this.trainable || !w.trainable).map((w) => w.variable);
    const sub = this.heldLayers().flatMap((l) => (this.trainable ? l.nonTrainableWeights : l.weights));
    return [...own, ...sub];
  }

  /** Every weight in creation order (Keras's getWeights order), trainable or not. */
  protected orderedWeights(): Variable[] {
    return [...this._weights.map((w) => w.variable), ...this.heldLayers().flatMap((l) => l.orderedWeights())];
  }

  /** The weight variables in creation order (the order of getWeights). */
  getWeightVariables(): Variable[] {
    return this.orderedWeights();
  }

  /** Copies of the weight values, in Keras 3's order and layouts. */
  getWeights(): Tensor[] {
    return this.orderedWeights().map((v) => ENGINE.view(v.value));
  }

  /** Sets every weight, in getWeights order; shapes must match exactly. */
  setWeights(values: readonly (Tensor | TensorLike)[]): void {
    const vars = this.orderedWeights();
    const op = `${this.className} '${this.name}'.setWeights`;
    if (values.length !== vars.length) fail(op, `expected ${vars.length} arrays (${vars.map((v) => fmtShape(v.shape)).join(', ')}), got ${values.length}`);
    ENGINE.tidy(() => {
      vars.forEach((v, i) => {
        const raw = values[i];
        const t = raw instanceof Tensor ? raw : ArrayBuffer.isView(raw) ? tensorFrom(raw, v.shape, v.dtype, op) : asTensor(raw, op, v.dtype);
        if (t.shape.length !== v.shape.length || t.shape.some((d, j) => d !== v.shape[j])) {
          fail(op, `weight ${i} ('${v.name}') has shape ${fmtShape(v.shape)}, got ${fmtShape(t.shape)}`);
        }
        v.assign(t.dtype === v.dtype ? t : fail(op, `weight ${i} ('${v.name}') is ${v.dtype}, got ${t.dtype}`));
      });
    });
  }

  countParams(): number {
    if (!this.built) fail(`${this.className} '${this.name}'.countParams`, 'the layer is not built yet: call it on data or build it first');
    return this.weights.reduce((n, v) => n + v.size, 0);
  }

  /**
   * Records an activity penalty of `output` for this call, divided by the batch size so that its
   * strength does not depend on it (as Keras does).
   */
  protected addActivityLoss(penalty: Tensor, output: Tensor): void {
    const batch = output.rank > 0 ? output.shape[0] : 1;
    this.callLosses.push(batch > 1 ? divide(penalty, batch) : penalty);
  }

  /** Regularization penalties of the weights plus the last call's activity penalties. */
  get losses(): Tensor[] {
    const own = this._weights.filter((w) => w.regularizer).map((w) => w.regularizer!(w.variable.value));
    return [...own, ...this.callLosses, ...this.heldLayers().flatMap((l) => l.losses)];
  }

  /** The weights that have a constraint, with it, this layer's and its layers' (applied after each optimizer step). */
  constrainedWeights(): [Variable, (w: Tensor) => Tensor][] {
    return [...this._weights.flatMap((w) => (w.constraint ? [[w.variable, w.constraint] as [Variable, (w: Tensor) => Tensor]] : [])), ...this.heldLayers().flatMap((l) => l.constrainedWeights())];
  }

  getConfig(): LayerConfig {
    const config: LayerConfig = { name: this.name, trainable: this.trainable, dtype: this.dtype };
    if (this.batchInputShape) config.batchInputShape = this.batchInputShape;
    return config;
  }

  dispose(): void {
    for (const w of this._weights) w.variable.dispose();
    for (const l of this.heldLayers()) l.dispose();
  }

  toString(): string {
    return `${this.className} '${this.name}'`;
  }
}

/** Symbolic placeholders of the given shapes. */
export function symbolicOf(shapes: Shapes, dtype: DType): SymbolicTensor | SymbolicTensor[] {
  const isList = shapes.length > 0 && Array.isArray(shapes[0]);
  return isList ? (shapes as Shape[]).map((s) => new SymbolicTensor(s, dtype)) : new SymbolicTensor(shapes as Shape, dtype);
}
