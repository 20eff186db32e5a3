import { fail } from '../src/errors.js';
import type { SymbolicTensor } from '../src/symbolic.js';
import type { Tensor } from '../src/tensor.js';
import { type CallOptions, type Layer, type LayerNode, producer, type Tensors } from '../layers/layer.js';
import { withoutMasks } from '../layers/mask.js';
import { joinTensorOptions } from '../layers/call-options.js';
import { InputLayer } from '../layers/core/input.js';

/**
 * A Functional model's graph of layer applications, sorted once at construction so that each
 * call only walks a list.
 */
export class Graph {
  /** Layer applications in execution order (Input layers excluded). */
  readonly nodes: LayerNode[] = [];
  /** Every layer once, in execution order, Input layers first (Keras's `model.layers`). */
  readonly layers: Layer[] = [];
  readonly inputLayers: InputLayer[];

  constructor(
    readonly inputs: SymbolicTensor[],
    readonly outputs: SymbolicTensor[],
    modelName: string,
  ) {
    const op = `Model '${modelName}'`;
    this.inputLayers = inputs.map((t, i) => {
      const layer = producer.get(t)?.layer;
      if (!(layer instanceof InputLayer)) fail(op, `input ${i} must come from kiln.Input(...), got ${t}`);
      return layer;
    });
    const inputSet = new Set(inputs);
    const visited = new Set<LayerNode>();
    const visiting = new Set<LayerNode>();
    const visit = (t: SymbolicTensor, path: string): void => {
      if (inputSet.has(t)) return;
      const node = producer.get(t);
      if (!node) fail(op, `tensor ${t} (${path}) was not made by a layer: outputs must be computed from the inputs with layer.apply`);
      if (node.layer instanceof InputLayer) {
        fail(op, `output is not reachable from the model's inputs: it depends on Input '${node.layer.name}', which is not among the inputs [${this.inputLayers.map((l) => l.name).join(', ')}] (via ${path})`);
      }
      if (visited.has(node)) return;
      if (visiting.has(node)) fail(op, `the graph has a cycle through layer '${node.layer.name}'`);
      visiting.add(node);
      for (const x of node.inputs) visit(x, `${node.layer.name} <- ${path}`);
      visiting.delete(node);
      visited.add(node);
      this.nodes.push(node);
    };
    outputs.forEach((t, i) => visit(t, `output ${i}`));
    const seen = new Set<Layer>();
    for (const l of [...this.inputLayers, ...this.nodes.map((n) => n.layer)]) {
      if (!seen.has(l)) {
        seen.add(l);
        this.layers.push(l);
      }
    }
  }

  /**
   * Runs the graph on concrete inputs (one per model input, in order) and their masks (null where
   * an input has none); returns the outputs and their masks. The masks travel beside the values,
   * keyed by the graph's tensors rather than attached to the concrete ones (layers/mask.ts).
   */
  run(inputs: readonly Tensor[], inputMasks: readonly (Tensor | null)[], options: CallOptions): { outputs: Tensor[]; masks: (Tensor | null)[] } {
    const values = new Map<SymbolicTensor, Tensor>();
    const masks = new Map<SymbolicTensor, Tensor | null>();
    this.inputs.forEach((t, i) => {
      values.set(t, inputs[i]);
      masks.set(t, inputMasks[i] ?? null);
    });
    // the model's own masks reach its layers through its inputs, not as every layer's mask
    const shared = withoutMasks(options);
    // once per run, not per node: a shared layer's penalties add up over its applications
    for (const node of this.nodes) node.layer.callLosses = [];
    for (const node of this.nodes) {
      const call = joinTensorOptions(node.optionInputs, node.inputs.map((t) => values.get(t)!), { ...shared, ...node.callArgs });
      const args = call.inputs;
      const out = node.layer.callWithMasks(node.layer.multiInput ? args : args[0], node.inputs.slice(0, args.length).map((t) => masks.get(t)!), call.options);
      const list = Array.isArray(out.outputs) ? out.outputs : [out.outputs];
      node.outputs.forEach((t, i) => {
        values.set(t, list[i]);
        masks.set(t, out.masks[i]);
      });
    }
    return { outputs: this.outputs.map((t) => values.get(t)!), masks: this.outputs.map((t) => masks.get(t)!) };
  }

  /** The layer nodes that consume each symbolic tensor (for summary's "connected to"). */
  inboundLayerNames(node: LayerNode): string[] {
    return node.inputs.map((t) => {
      const p = producer.get(t);
      if (!p) return '?';
      const idx = p.layer.inboundNodes.indexOf(p);
      const k = p.outputs.indexOf(t);
      return `${p.layer.name}[${Math.max(idx, 0)}][${k}]`;
    });
  }
}

export type { Tensors };
