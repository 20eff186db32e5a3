import { fail } from '../../src/errors.js';
import { Model } from '../../models/model.js';
import { summary } from '../../models/summary.js';
import { writeFileAtomic } from '../../saving/atomic.js';
import { plotModel } from '../plot/plot-model.js';
import { reportHtml } from './html.js';
import { fromHistory, readRunLog, type HistoryLike, type RunLog } from './run-log.js';
import { chartLibrary } from './uplot.js';

export interface TrainingReportOptions {
  /** The model trained: its summary and plotModel picture join the curves. Default: the History's model, if any. */
  model?: Model;
  /** The page's heading (default `Training report: <model name>`, or the log's file name). */
  title?: string;
}

const OP = 'trainingReport';

/**
 * Writes one self-contained HTML page (it opens with no network: the chart library is inlined)
 * with the run's loss and metric curves per epoch, training and validation on one chart, the
 * learning rate and time per epoch when logged, and the model's summary and plotModel picture.
 * The source is a History (what `fit` returns), its `{ epoch, history }` object, or the path of a
 * log kiln writes: CSVLogger's `.csv`, JSON lines (`.jsonl`), a History saved as `.json`. The file
 * is written atomically.
 * @example
 * const history = await model.fit(x, y, { epochs: 10, validationSplit: 0.2 });
 * await kiln.utils.trainingReport(history, 'report.html');
 */
export async function trainingReport(source: HistoryLike | string, path: string, options: TrainingReportOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path === '') fail(OP, `expected the path of the .html file to write, got ${JSON.stringify(path)}`);
  const log: RunLog = typeof source === 'string' ? await readRunLog(source) : fromHistory(source);
  const model = options.model ?? (typeof source === 'object' && source !== null && 'model' in source && source.model instanceof Model ? source.model : undefined);
  if (model !== undefined && !(model instanceof Model)) fail(OP, `options.model must be a kiln Model, got ${typeof model}`);
  const title = options.title ?? (model ? `Training report: ${model.name}` : typeof source === 'string' ? `Training report: ${source}` : 'Training report');
  if (typeof title !== 'string') fail(OP, `options.title must be a string, got ${typeof title}`);
  const drawn = model?.built ? await plotModel(model, { showShapes: true, showLayerNames: true }) : null;
  const html = reportHtml({ title, log, summary: model ? summary(model, { printFn: () => {} }) : null, svg: drawn?.svg ?? null }, await chartLibrary(OP));
  await writeFileAtomic(path, html, OP);
}
