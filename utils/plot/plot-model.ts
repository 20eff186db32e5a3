import { fail } from '../../src/errors.js';
import type { Model } from '../../models/model.js';
import { drawModel, type DrawOptions } from '../../models/plot/draw.js';
import { writeFileAtomic } from '../../saving/atomic.js';

export interface PlotModelOptions extends DrawOptions {
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
  const { toFile, ...draw } = options;
  const format = toFile === undefined ? null : fileFormat(toFile);
  const plot = drawModel(model, draw, OP);
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
