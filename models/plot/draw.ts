import { fail } from '../../src/errors.js';
import { Model } from '../model.js';
import { plotGraph } from './graph.js';
import { toDot } from './dot.js';
import { toSvg } from './svg.js';

export interface DrawOptions {
  /** Show each layer's input and output shapes (default false, as Keras). */
  showShapes?: boolean;
  /** Show each layer's output dtype (default false). */
  showDtype?: boolean;
  /** Show layer names beside the class names (default false, as Keras 3). */
  showLayerNames?: boolean;
  /** 'TB' draws top to bottom, 'LR' left to right (default 'TB'). */
  rankdir?: 'TB' | 'LR';
  /** Draw nested Functional and Sequential models as clusters of their layers (default false). */
  expandNested?: boolean;
  /** Resolution a Graphviz renderer of the DOT text uses (default 200, as Keras); the SVG is vector. */
  dpi?: number;
}

/** The layer graph as SVG and DOT text, options checked (kiln.utils.plotModel, which also writes files). */
export function drawModel(model: Model, options: DrawOptions, op: string): { svg: string; dot: string } {
  if (!(model instanceof Model)) fail(op, `expected a kiln Model, got ${model === null ? 'null' : typeof model}`);
  const { showShapes = false, showDtype = false, showLayerNames = false, rankdir = 'TB', expandNested = false, dpi = 200 } = options;
  for (const [key, value] of Object.entries({ showShapes, showDtype, showLayerNames, expandNested })) {
    if (typeof value !== 'boolean') fail(op, `${key} must be true or false, got ${JSON.stringify(value)}`);
  }
  if (rankdir !== 'TB' && rankdir !== 'LR') fail(op, `rankdir must be 'TB' or 'LR', got ${JSON.stringify(rankdir)}`);
  if (typeof dpi !== 'number' || !(dpi > 0) || !Number.isFinite(dpi)) fail(op, `dpi must be a positive number, got ${JSON.stringify(dpi)}`);
  const graph = plotGraph(model, { showShapes, showDtype, showLayerNames, expandNested }, op);
  return { svg: toSvg(graph, rankdir, model.name), dot: toDot(graph, { rankdir, dpi, name: model.name }) };
}
