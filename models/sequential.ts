import { fail } from '../src/errors.js';
import { SymbolicTensor } from '../src/symbolic.js';
import type { Dim } from '../src/shape.js';
import { Layer, producer, type CallOptions, type LayerConfig, type Shapes, type Tensors } from '../layers/layer.js';
import { InputLayer } from '../layers/core/input.js';
import { registerLayer } from '../layers/registry.js';
import { Model } from './model.js';

/**
 * A plain stack of layers, one input and one output.
 * @example
 * const model = new kiln.Sequential([
 *   kiln.Input({ shape: [784] }),
 *   new kiln.layers.Dense(256, { activation: 'relu' }),
 *   new kiln.layers.Dense(10, { activation: 'softmax' }),
 * ]);
 */
export class Sequential extends Model {
  static override readonly className: string = 'Sequential';
  private stack: Layer[] = [];
  private inputLayer: InputLayer | null = null;

  constructor(layers: (Layer | SymbolicTensor)[] = [], args: { name?: string; trainable?: boolean } = {}) {
    super(args);
    if (!Array.isArray(layers)) fail('Sequential', `expected an array of layers, got ${typeof layers}`);
    for (const l of layers) this.add(l);
  }

  /** Appends a layer (or, first, a `kiln.Input`); the model builds as soon as its input shape is known. */
  add(layer: Layer | SymbolicTensor): void {
    if (layer instanceof SymbolicTensor) {
      const source = producer.get(layer)?.layer;
      if (!(source instanceof InputLayer) || this.stack.length > 0 || this.inputLayer) {
        fail(`Sequential '${this.name}'.add`, 'a symbolic tensor is accepted only as the first element, and only from kiln.Input');
      }
      this.inputLayer = source;
      return;
    }
    if (!(layer instanceof Layer)) fail(`Sequential '${this.name}'.add`, `expected a Layer, got ${layer === null ? 'null' : typeof layer}`);
    if (layer instanceof InputLayer) {
      if (this.stack.length > 0 || this.inputLayer) fail(`Sequential '${this.name}'.add`, 'an InputLayer can only come first');
      this.inputLayer = layer;
      return;
    }
    if (this.stack.includes(layer)) fail(`Sequential '${this.name}'.add`, `layer '${layer.name}' is already in the model`);
    if (this.stack.length === 0 && !this.inputLayer && layer.batchInputShape) {
      this.inputLayer = new InputLayer({ batchShape: layer.batchInputShape, dtype: layer.dtype, name: `${layer.name}_input` });
    }
    this.stack.push(layer);
    this.graph = null;
    this.built = false;
    if (this.inputLayer) this.buildGraph(this.inputLayer.output);
  }

  /** Removes the last layer. */
  pop(): Layer {
    const last = this.stack.pop();
    if (!last) fail(`Sequential '${this.name}'.pop`, 'the model has no layers');
    this.graph = null;
    this.built = false;
    if (this.inputLayer && this.stack.length) this.buildGraph(this.inputLayer.output);
    return last;
  }

  private buildGraph(input: SymbolicTensor): void {
    let x: Tensors = input as unknown as Tensors;
    for (const layer of this.stack) x = layer.apply(x);
    this.initGraph(input, x as unknown as SymbolicTensor);
  }

  /** Builds for inputs of `inputShape` (batch dimension included). */
  override build(inputShape: Shapes): void {
    if (this.graph) return;
    if (this.stack.length === 0) fail(`Sequential '${this.name}'`, 'cannot build a model with no layers');
    const shape = inputShape as readonly Dim[];
    this.inputLayer = new InputLayer({ batchShape: [null, ...shape.slice(1)], name: `${this.stack[0].name}_input` });
    this.buildGraph(this.inputLayer.output);
  }

  override call(inputs: Tensors, options: CallOptions = {}): Tensors {
    if (!this.graph) this.build((inputs as { shape: readonly number[] }).shape);
    return super.call(inputs, options);
  }

  /** The layers in order, without the InputLayer (as Keras's Sequential.layers). */
  override get layers(): Layer[] {
    return [...this.stack];
  }

  override getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      layers: [
        ...(this.inputLayer ? [{ className: 'InputLayer', config: this.inputLayer.getConfig() }] : []),
        ...this.stack.map((l) => ({ className: l.className, config: l.getConfig() })),
      ],
    };
  }
}

// serialize.ts finds Sequential through the registry: importing it there would be circular
registerLayer(Sequential);
