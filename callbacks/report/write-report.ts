import { fail } from '../../src/errors.js';
import { Model } from '../../models/model.js';
import { summary } from '../../models/summary.js';
import { drawModel } from '../../models/plot/draw.js';
import { writeFileAtomic } from '../../saving/atomic.js';
import { reportHtml } from './html.js';
import type { RunLog } from './run-log.js';
import { chartLibrary } from './uplot.js';

/**
 * Writes the report page for `log` (atomically), with `model`'s summary and picture when given.
 * kiln.utils.trainingReport and callbacks.TrainingReport both end here.
 */
export async function writeReport(log: RunLog, path: string, model: Model | undefined, title: string, op: string): Promise<void> {
  if (typeof path !== 'string' || path === '') fail(op, `expected the path of the .html file to write, got ${JSON.stringify(path)}`);
  if (model !== undefined && !(model instanceof Model)) fail(op, `the model must be a kiln Model, got ${typeof model}`);
  if (typeof title !== 'string') fail(op, `the title must be a string, got ${typeof title}`);
  const svg = model?.built ? drawModel(model, { showShapes: true, showLayerNames: true }, op).svg : null;
  const html = reportHtml({ title, log, summary: model ? summary(model, { printFn: () => {} }) : null, svg }, await chartLibrary(op));
  await writeFileAtomic(path, html, op);
}
