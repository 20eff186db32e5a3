import { Model } from '../../models/model.js';
import { fromHistory, type HistoryLike } from '../../callbacks/report/run-log.js';
import { writeReport } from '../../callbacks/report/write-report.js';
import { readRunLog } from './log-files.js';

export interface TrainingReportOptions {
  /** The model trained: its summary and plotModel picture join the curves. Default: the History's model, if any. */
  model?: Model;
  /** The page's heading (default `Training report: <model name>`, or the log's path). */
  title?: string;
}

/**
 * Writes one self-contained HTML page (it opens with no network: the chart library is inlined)
 * with the run's loss and metric curves per epoch, training and validation on one chart, the
 * learning rate and time per epoch when logged, and the model's summary and plotModel picture.
 * The source is a History (what `fit` returns), its `{ epoch, history }` object, or the path of a
 * log kiln writes: CSVLogger's `.csv`, JSON lines (`.jsonl`), a History saved as `.json`, or a
 * TensorBoard log folder. The file is written atomically.
 * @example
 * const history = await model.fit(x, y, { epochs: 10, validationSplit: 0.2 });
 * await kiln.utils.trainingReport(history, 'report.html');
 */
export async function trainingReport(source: HistoryLike | string, path: string, options: TrainingReportOptions = {}): Promise<void> {
  const log = typeof source === 'string' ? await readRunLog(source) : fromHistory(source, 'trainingReport');
  const model = options.model ?? (typeof source === 'object' && source !== null && 'model' in source && source.model instanceof Model ? source.model : undefined);
  const title = options.title ?? (model ? `Training report: ${model.name}` : typeof source === 'string' ? `Training report: ${source}` : 'Training report');
  await writeReport(log, path, model, title, 'trainingReport');
}
