import { fail } from '../../src/errors.js';
import type { Dim } from '../../src/shape.js';
import type { SymbolicTensor } from '../../src/symbolic.js';
import { type Layer, type LayerNode, producer } from '../../layers/layer.js';
import { InputLayer } from '../../layers/core/input.js';
import { Model } from '../model.js';
import { formatShape } from '../summary.js';
import type { Graph } from '../graph.js';

/** One box: a layer, and the lines its label shows. */
export interface PlotNode {
  id: string;
  layer: Layer;
  /** The layer's name, null without `showLayerNames`. */
  name: string | null;
  className: string;
  /** Keras's cells: `Input shape`, `Output shape`, `Output dtype`, as asked. */
  details: { label: string; value: string }[];
  /** The cluster (an expanded nested model) holding the box, if any. */
  cluster: string | null;
}

export interface PlotCluster {
  id: string;
  model: Model;
  label: string;
  parent: string | null;
}

export interface PlotGraph {
  nodes: PlotNode[];
  edges: { from: string; to: string }[];
  clusters: PlotCluster[];
}

export interface LabelOptions {
  showShapes: boolean;
  showDtype: boolean;
  showLayerNames: boolean;
  expandNested: boolean;
}

/** The model's graph as it is plotted. Functional models (Sequential included) draw the graph the model was built on. */
function graphOf(model: Model): Graph | null {
  // the graph is the model's own (protected) state, read as summary() reads it
  return (model as unknown as { graph: Graph | null }).graph;
}

/** A model whose insides can be drawn as a cluster. */
function expandable(layer: Layer): layer is Model {
  return layer instanceof Model && graphOf(layer) !== null;
}

/**
 * The boxes, edges and clusters of Keras's plot_model for `model`: a Functional model draws its
 * layers (Input layers included) and one edge per tensor passed between them, a Sequential model
 * its layers in a chain (no Input box, as Keras's `Sequential.layers`), a subclassed model one box.
 * With `expandNested`, a nested Functional or Sequential model becomes a cluster of its own boxes,
 * its incoming edges going to its first layers and its outgoing edges leaving from its last.
 */
export function plotGraph(model: Model, options: LabelOptions, op: string): PlotGraph {
  if (!model.built) fail(op, `the model '${model.name}' has not been built: build it, or call it on data, before plotting it`);
  const out: PlotGraph = { nodes: [], edges: [], clusters: [] };
  const ids = new Map<Layer, string>();
  const edgeKeys = new Set<string>();
  const addEdge = (from: string, to: string) => {
    if (edgeKeys.has(`${from}->${to}`)) return;
    edgeKeys.add(`${from}->${to}`);
    out.edges.push({ from, to });
  };

  const addModel = (m: Model, cluster: string | null): void => {
    const graph = graphOf(m);
    if (!graph) {
      addBox(m, null, cluster);
      return;
    }
    const sequential = m.className === 'Sequential';
    const layers = m.layers;
    for (const layer of layers) {
      if (options.expandNested && expandable(layer)) {
        const id = `cluster_${out.clusters.length}`;
        out.clusters.push({ id, model: layer, label: layer.name, parent: cluster });
        addModel(layer, id);
      } else {
        addBox(layer, graph.nodes.find((n) => n.layer === layer) ?? null, cluster);
      }
    }
    if (sequential) {
      for (let i = 0; i + 1 < layers.length; i++) addEdge(exitOf(layers[i], 0), entryOf(layers[i + 1], 0));
      return;
    }
    for (const node of graph.nodes) {
      node.inputs.forEach((t, i) => {
        const source = sourceOf(t);
        if (source) addEdge(exitOf(source.layer, source.index), entryOf(node.layer, i));
      });
    }
  };

  // where an edge into / out of a layer lands: the layer's box, or inside an expanded model
  const entryOf = (layer: Layer, inputIndex: number): string => {
    if (!options.expandNested || !expandable(layer)) return ids.get(layer)!;
    const graph = graphOf(layer)!;
    if (layer.className === 'Sequential') return entryOf(layer.layers[0], 0);
    return entryOf(graph.inputLayers[Math.min(inputIndex, graph.inputLayers.length - 1)], 0);
  };
  const exitOf = (layer: Layer, outputIndex: number): string => {
    if (!options.expandNested || !expandable(layer)) return ids.get(layer)!;
    const graph = graphOf(layer)!;
    const source = sourceOf(graph.outputs[Math.min(outputIndex, graph.outputs.length - 1)])!;
    return exitOf(source.layer, source.index);
  };

  const addBox = (layer: Layer, node: LayerNode | null, cluster: string | null): void => {
    const id = `node_${out.nodes.length}`;
    ids.set(layer, id);
    out.nodes.push({ id, layer, name: options.showLayerNames ? layer.name : null, className: layer.className, details: details(layer, node, options), cluster });
  };

  addModel(model, null);
  return out;
}

/** The layer that made `t` (an Input tensor's is its InputLayer) and which of its outputs `t` is. */
function sourceOf(t: SymbolicTensor): { layer: Layer; index: number } | null {
  const node = producer.get(t);
  return node ? { layer: node.layer, index: node.outputs.indexOf(t) } : null;
}

/** Keras's label cells: input and output shapes (not for an Input layer), the output dtype. */
function details(layer: Layer, node: LayerNode | null, { showShapes, showDtype }: LabelOptions): PlotNode['details'] {
  const outputs = layer instanceof InputLayer ? [layer.output] : node?.outputs ?? [];
  const cells: PlotNode['details'] = [];
  if (showShapes) {
    if (!(layer instanceof InputLayer)) cells.push({ label: 'Input shape', value: shapes(node?.inputs.map((t) => t.shape) ?? []) });
    cells.push({ label: 'Output shape', value: shapes(outputs.map((t) => t.shape)) });
  }
  if (showDtype) cells.push({ label: 'Output dtype', value: outputs.length ? [...new Set(outputs.map((t) => t.dtype))].join(', ') : '?' });
  return cells;
}

function shapes(list: (readonly Dim[])[]): string {
  if (list.length === 0) return '?';
  return list.length === 1 ? formatShape(list[0]) : `[${list.map(formatShape).join(', ')}]`;
}
