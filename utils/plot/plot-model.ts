import { fail } from '../../src/errors.js';
import { Model } from '../../models/model.js';
import { writeFileAtomic } from '../../saving/atomic.js';
import { plotGraph } from './graph.js';
import { toDot } from './dot.js';
import { toSvg } from './svg.js';

export interface PlotModelOptions {
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
  /** Also write the picture here, atomically: `.svg` writes the SVG, `.dot`/`.gv` the DOT text. */
  toFile?: string;
}

export interface ModelPlot {
  svg: string;
  dot: string;
}

const OP = 'plotModel';

/**
 * The layer graph as Keras's `plot_model` draws it, as SVG (laid out in JavaScript: no Graphviz
 * needed) and as DOT text for Graphviz.
 * @example
 * const { svg } = await kiln.utils.plotModel(model, { showShapes: true, toFile: 'model.svg' });
 */
export async function plotModel(model: Model, options: PlotModelOptions = {}): Promise<ModelPlot> {
  if (!(model instanceof Model)) fail(OP, `expected a kiln Model, got ${model === null ? 'null' : typeof model}`);
  const { showShapes = false, showDtype = false, showLayerNames = false, rankdir = 'TB', expandNested = false, dpi = 200, toFile } = options;
  for (const [key, value] of Object.entries({ showShapes, showDtype, showLayerNames, expandNested })) {
    if (typeof value !== 'boolean') fail(OP, `${key} must be true or false, got ${JSON.stringify(value)}`);
  }
  if (rankdir !== 'TB' && rankdir !== 'LR') fail(OP, `rankdir must be 'TB' or 'LR', got ${JSON.stringify(rankdir)}`);
  if (typeof dpi !== 'number' || !(dpi > 0) || !Number.isFinite(dpi)) fail(OP, `dpi must be a positive number, got ${JSON.stringify(dpi)}`);
  const format = toFile === undefined ? null : fileFormat(toFile);
  const graph = plotGraph(model, { showShapes, showDtype, showLayerNames, expandNested }, OP);
  const plot = { svg: toSvg(graph, rankdir, model.name), dot: toDot(graph, { rankdir, dpi, name: model.name }) };
  if (toFile !== undefined) await writeFileAtomic(toFile, format === 'svg' ? plot.svg : plot.dot, OP);
  return plot;
}

function fileFormat(path: string): 'svg' | 'dot' {
  if (typeof path !== 'string' || path === '') fail(OP, `toFile must be a file path, got ${JSON.stringify(path)}`);
  const ext = path.slice(path.lastIndexOf('.')).toLowerCase();
  if (ext === '.svg') return 'svg';
  if (ext === '.dot' || ext === '.gv') return 'dot';
  return fail(OP, `toFile must end in .svg, .dot or .gv (kiln writes SVG and DOT, not images), got ${JSON.stringify(path)}`);
}
