import type { Model } from '../../models/model.js';
import { producer, type Layer } from '../../layers/layer.js';
import type { NodeDef } from './proto.js';

/**
 * The model as a GraphDef of its layers: a node per layer, named after it, its op the layer's
 * class, its inputs the layers that feed it. kiln runs no op graph for TensorBoard to show, and
 * the layer graph is what a Keras user sees in the Graphs tab's conceptual view.
 */
export function layerGraph(model: Model): NodeDef[] {
  // Sequential's layers leave out its InputLayer, which still feeds the first layer
  const inputLayers = model.inputs.flatMap((t) => producer.get(t)?.layer ?? []);
  const layers = [...new Set<Layer>([...inputLayers, ...model.layers])];
  const inModel = new Set(layers);
  return layers.map((layer) => {
    const input: string[] = [];
    for (const node of layer.inboundNodes) {
      for (const t of node.inputs) {
        // a layer shared with another model has inbound nodes there too
        const from = producer.get(t)?.layer;
        if (from && inModel.has(from) && !input.includes(from.name)) input.push(from.name);
      }
    }
    return { name: layer.name, op: layer.className, input };
  });
}
