import { releasePlans } from './jit.js';
import { fail } from '../src/errors.js';
import { SymbolicTensor } from '../src/symbolic.js';
import { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig, type Symbolic, type Tensors } from '../layers/layer.js';
import { maskOf, previousMask, withMask, type LayerMask, type MaskedOutputs } from '../layers/mask.js';
import { Graph } from './graph.js';
import { summary, type SummaryOptions } from './summary.js';
import { compile, type CompileArgs, type Compiled } from './compile.js';
import {
  evaluate, fit, predict, predictOnBatch, testOnBatch, testStep, trainOnBatch, trainStep,
  type EvaluateOptions, type FitOptions, type PredictOptions, type StepData,
} from './training.js';
import type { History } from './history.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { InputsLike, TargetsLike } from './data.js';
import { modelFromConfig, modelToConfig } from './serialize.js';
import { registerLayer } from '../layers/registry.js';

export interface ModelArgs extends LayerArgs {
  inputs?: SymbolicTensor | SymbolicTensor[] | Record<string, SymbolicTensor>;
  outputs?: SymbolicTensor | SymbolicTensor[] | Record<string, SymbolicTensor>;
}

/**
 * A model: layers with training and evaluation. Functional when built from `inputs` and `outputs`
 * (any DAG of layer applications, several inputs and outputs, shared layers, nested models);
 * subclassed when a class extends Model and defines `call` (layers assigned to its fields are
 * tracked, as in Keras).
 * @example
 * const inputs = kiln.Input({ shape: [4] });
 * const outputs = new kiln.layers.Dense(1).apply(inputs);
 * const model = new kiln.Model({ inputs, outputs });
 */
export class Model extends Layer {
  static readonly className: string = 'Functional';
  protected graph: Graph | null = null;
  /** Output names in order, as used in logs and in per-output losses (the output layers' names). */
  outputNames: string[] = [];
  inputNames: string[] = [];
  compiled: Compiled | null = null;
  stopTraining = false;
  history: History | null = null;
  /**
   * Where the next fit starts when an interrupted run is resumed: a callback that restored a
   * backup sets it in onTrainBegin (BackupAndRestore; Keras's model._initial_epoch), and fit reads
   * it right after onTrainBegin, then clears it. null leaves fit's `initialEpoch` option in charge.
   */
  resumeEpoch: number | null = null;

  constructor(args: ModelArgs = {}) {
    super(args);
    if (args.inputs !== undefined || args.outputs !== undefined) {
      if (args.inputs === undefined || args.outputs === undefined) fail(`Model '${this.name}'`, 'a Functional model needs both inputs and outputs');
      this.initGraph(args.inputs, args.outputs);
      // as Keras's Functional constructor: a trainable argument reaches every layer of the graph
      if (args.trainable !== undefined) this.trainable = args.trainable;
    }
  }

  protected initGraph(inputs: NonNullable<ModelArgs['inputs']>, outputs: NonNullable<ModelArgs['outputs']>): void {
    const list = (v: typeof inputs, what: string): SymbolicTensor[] => {
      const arr = v instanceof SymbolicTensor ? [v] : Array.isArray(v) ? v : Object.values(v);
      // a model of no outputs computes nothing, and its exported graph would fail in onnxruntime
      if (arr.length === 0) fail(`Model '${this.name}'`, `a Functional model needs at least one ${what}, got none`);
      arr.forEach((t, i) => {
        if (!(t instanceof SymbolicTensor)) fail(`Model '${this.name}'`, `${what} ${i} must be a symbolic tensor from kiln.Input or layer.apply, got ${(t as unknown) instanceof Tensor ? 'a concrete Tensor' : typeof t}`);
      });
      return arr;
    };
    this.graph = new Graph(list(inputs, 'input'), list(outputs, 'output'), this.name);
    this.multiInput = this.graph.inputs.length > 1;
    this.multiOutput = this.graph.outputs.length > 1 || Array.isArray(outputs);
    this.inputNames = this.graph.inputLayers.map((l) => l.name);
    this.outputNames = this.graph.outputs.map((t, i) => {
      const node = this.graph!.nodes.find((n) => n.outputs.includes(t));
      return node?.layer.name ?? `output_${i}`;
    });
    if (!Array.isArray(outputs) && !(outputs instanceof SymbolicTensor)) this.outputNames = Object.keys(outputs);
    // a nested model's outputs share its name: number the repeats, as logs and exports need unique names
    const seen = new Map<string, number>();
    this.outputNames = this.outputNames.map((n) => {
      const k = seen.get(n) ?? 0;
      seen.set(n, k + 1);
      return k === 0 ? n : `${n}_${k}`;
    });
    this.built = true;
  }

  get isFunctional(): boolean {
    return this.graph !== null;
  }

  /** The model's layers: the graph's in execution order (Input layers first), or the layers held in fields. */
  get layers(): Layer[] {
    if (this.graph) return this.graph.layers;
    const found: Layer[] = [];
    for (const v of Object.values(this)) {
      for (const item of Array.isArray(v) ? v : [v]) if (item instanceof Layer && item !== this && !found.includes(item)) found.push(item);
    }
    return found;
  }

  protected override heldLayers(): Layer[] {
    return [...new Set([...super.heldLayers(), ...this.layers])];
  }

  get inputs(): SymbolicTensor[] {
    return this.graph?.inputs ?? [];
  }

  get outputs(): SymbolicTensor[] {
    return this.graph?.outputs ?? [];
  }

  /** A layer by name or by index in `layers`. */
  getLayer(nameOrIndex: string | number): Layer {
    const layers = this.layers;
    if (typeof nameOrIndex === 'number') {
      if (!Number.isInteger(nameOrIndex) || nameOrIndex < 0 || nameOrIndex >= layers.length) {
        fail('getLayer', `index ${nameOrIndex} is out of range: the model has ${layers.length} layers`);
      }
      return layers[nameOrIndex];
    }
    const found = layers.find((l) => l.name === nameOrIndex);
    if (!found) fail('getLayer', `no layer named '${nameOrIndex}'; layers: ${layers.map((l) => l.name).join(', ')}`);
    return found;
  }

  override apply(inputs: SymbolicTensor, options?: CallOptions): SymbolicTensor;
  override apply(inputs: SymbolicTensor[], options?: CallOptions): SymbolicTensor | SymbolicTensor[];
  override apply(inputs: Tensor, options?: CallOptions): Tensor;
  override apply(inputs: Tensors | Symbolic, options?: CallOptions): Tensors;
  override apply(inputs: Tensors | Symbolic, options: CallOptions = {}): Tensors | Symbolic {
    if (!this.graph && !this.built) this.multiInput = Array.isArray(inputs);
    return super.apply(inputs, options);
  }

  call(inputs: Tensors, options: CallOptions = {}): Tensors {
    if (!this.graph) fail(`Model '${this.name}'`, 'a subclassed model must define call(inputs, options)');
    return this.callWithMasks(inputs, [], options).outputs;
  }

  /**
   * The outputs with their masks. A Functional model runs its graph, the inputs' masks fed to its
   * inputs; a subclassed model's outputs carry the masks its layers attached. Either way the
   * masks are the ones its layers made, as Keras keeps them on a model's outputs although a model
   * does not itself support masking.
   */
  override callWithMasks(inputs: Tensors, inputMasks: readonly (Tensor | null)[], options: CallOptions): MaskedOutputs {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const previous = previousMask(this, this.multiInput, list, inputMasks, options);
    if (!this.graph) {
      const outputs = this.call(inputs, withMask(options, this.multiInput, previous));
      return { outputs, masks: (Array.isArray(outputs) ? outputs : [outputs]).map((t) => maskOf(t)) };
    }
    const masks = previous === null ? [] : Array.isArray(previous) ? previous : [previous as Tensor];
    const run = this.graph.run(list, masks, options);
    return { outputs: this.multiOutput ? run.outputs : run.outputs[0], masks: run.masks };
  }

  /**
   * Where a Functional model is applied to symbolic tensors: its outputs carry the masks its graph
   * gives them for its inputs' masks, by the symbolic run of the same code as its eager run.
   */
  protected override outputMasks(inputs: Tensors, previous: LayerMask, count: number): (Tensor | null)[] {
    if (!this.graph) return super.outputMasks(inputs, previous, count);
    return this.callWithMasks(inputs, [], withMask({}, this.multiInput, previous)).masks;
  }

  // the model's layers are among those it holds (heldLayers), so Layer gathers their weights,
  // losses and constraints; a layer shared by two nested models is counted once
  protected override orderedWeights(): Variable[] {
    return dedupe(super.orderedWeights());
  }

  override get trainableWeights(): Variable[] {
    return dedupe(super.trainableWeights);
  }

  override get nonTrainableWeights(): Variable[] {
    const trainable = new Set(this.trainableWeights);
    return this.orderedWeights().filter((v) => !trainable.has(v));
  }

  /** Frees the weights and what compile() holds: optimizer slots, metric and loss-tracker state. */
  override dispose(): void {
    super.dispose();
    releasePlans(this);
    const c = this.compiled;
    if (c) {
      c.optimizer.dispose();
      for (const m of [c.lossTracker, ...c.outputLossTrackers.map((t) => t.tracker), ...(c.metrics ?? []).map((e) => e.metric)]) m.dispose();
      this.compiled = null;
    }
  }

  /** Prints Keras's summary table (or hands each line to `printFn`) and returns it. */
  summary(options: SummaryOptions = {}): string {
    return summary(this, options);
  }

  compile(args: CompileArgs = {}): void {
    compile(this, args);
  }

  get optimizer(): Optimizer | null {
    return this.compiled?.optimizer ?? null;
  }

  /** On arrays `fit(x, y, options)`; on a dataset, which carries its targets, `fit(dataset, options)`. */
  fit(dataset: AsyncIterable<unknown>, options?: FitOptions): Promise<History>;
  fit(x: InputsLike | AsyncIterable<unknown>, y?: TargetsLike, options?: FitOptions): Promise<History>;
  fit(x: InputsLike | AsyncIterable<unknown>, y?: TargetsLike | FitOptions, options: FitOptions = {}): Promise<History> {
    return fit(this, x, y, options);
  }

  /** On arrays `evaluate(x, y, options)`; on a dataset `evaluate(dataset, options)`. */
  evaluate(dataset: AsyncIterable<unknown>, options?: EvaluateOptions): Promise<Record<string, number>>;
  evaluate(x: InputsLike | AsyncIterable<unknown>, y?: TargetsLike, options?: EvaluateOptions): Promise<Record<string, number>>;
  evaluate(x: InputsLike | AsyncIterable<unknown>, y?: TargetsLike | EvaluateOptions, options: EvaluateOptions = {}): Promise<Record<string, number>> {
    return evaluate(this, x, y, options);
  }

  predict(x: InputsLike | AsyncIterable<unknown>, options: PredictOptions = {}): Promise<Tensor | Tensor[]> {
    return predict(this, x, options);
  }

  trainOnBatch(x: InputsLike, y: TargetsLike, options: { sampleWeight?: Tensor; classWeight?: Record<number, number> } = {}): Promise<Record<string, number>> {
    return trainOnBatch(this, x, y, options);
  }

  testOnBatch(x: InputsLike, y: TargetsLike, options: { sampleWeight?: Tensor } = {}): Promise<Record<string, number>> {
    return testOnBatch(this, x, y, options);
  }

  predictOnBatch(x: InputsLike): Tensor | Tensor[] {
    return predictOnBatch(this, x);
  }

  /** One optimization step on a batch; override for custom training (Keras's train_step). Returns scalar logs. */
  trainStep(data: StepData): Record<string, Tensor> {
    return trainStep(this, data);
  }

  /** One evaluation step on a batch; override for custom evaluation (Keras's test_step). */
  testStep(data: StepData): Record<string, Tensor> {
    return testStep(this, data);
  }

  /** Saves architecture, weights, compile settings and optimizer state to one `.kiln` file (atomically). */
  async save(path: string, options: { overwrite?: boolean } = {}): Promise<void> {
    // the documented facade to saving/, a floor above models/ (docs/structure.md)
    const { saveModel } = await import('../saving/save.js');
    return saveModel(this, path, options);
  }

  /** Saves only the weights (a `.weights.kiln` file). */
  async saveWeights(path: string): Promise<void> {
    // the documented facade to saving/, a floor above models/ (docs/structure.md)
    const { saveWeights } = await import('../saving/save.js');
    return saveWeights(this, path);
  }

  /** Loads weights saved by saveWeights (or save) into this model; names and shapes must match. */
  async loadWeights(path: string, options: { allowNonFinite?: boolean } = {}): Promise<void> {
    // the documented facade to saving/, a floor above models/ (docs/structure.md)
    const { loadWeights } = await import('../saving/load.js');
    return loadWeights(this, path, options);
  }

  /**
   * Exports the model for inference in another runtime, as Keras 3's model.export: `format:
   * 'onnx'` (the default) writes an ONNX file, atomically (docs/onnx.md).
   * The documented facade to onnx/, a floor above models/ (docs/structure.md): its types too are
   * named through import(), which loads nothing.
   * @example
   * await model.export('model.onnx', { format: 'onnx', opset: 17, verify: true });
   */
  async export(path: string, options: import('../onnx/write.js').ExportOptions = {}): Promise<import('../onnx/write.js').ExportResult> {
    // the documented facade, imported on first use: the exporter imports this module, and loads onnx-proto
    const { exportModel } = await import('../onnx/write.js');
    return exportModel(this, path, options);
  }

  override getConfig(): LayerConfig {
    if (!this.isFunctional && this.className !== 'Sequential') return super.getConfig();
    return { ...super.getConfig(), ...(modelToConfig(this).config as object) } as LayerConfig;
  }

  static fromConfig(config: LayerConfig): Model {
    return modelFromConfig({ className: this.className, config }) as Model;
  }
}

function dedupe<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

// a Functional model saved inside a layer's config (TimeDistributed's) comes back through the
// layer registry, as Sequential does
registerLayer(Model);
