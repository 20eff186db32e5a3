import { performance } from 'node:perf_hooks';
import { fail } from '../src/errors.js';
import { Callback, type Logs } from '../models/callback.js';
import { fromHistory } from './report/run-log.js';
import { writeReport } from './report/write-report.js';

/**
 * Writes `kiln.utils.trainingReport`'s HTML page at the end of `fit`: the epoch logs, plus the
 * learning rate (when no other callback logs it) and the seconds each epoch took.
 * @example
 * await model.fit(x, y, { epochs: 10, callbacks: [new kiln.callbacks.TrainingReport('run/report.html')] });
 */
export class TrainingReport extends Callback {
  readonly path: string;
  private epochs: number[] = [];
  private history: Record<string, number[]> = {};
  private started = 0;

  constructor(path: string) {
    super();
    if (typeof path !== 'string' || path === '') fail('TrainingReport', `expected the path of the .html file to write, got ${JSON.stringify(path)}`);
    this.path = path;
  }

  override onTrainBegin(): void {
    this.epochs = [];
    this.history = {};
  }

  override onEpochBegin(): void {
    this.started = performance.now();
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const seconds = (performance.now() - this.started) / 1000;
    // the rate at the epoch's end, as TensorBoard's epoch_learning_rate: a scheduler changes it only at the next onEpochBegin
    const lr = this.model.optimizer?.learningRate;
    const row: Record<string, number> = { ...logs };
    if (!('learning_rate' in row) && lr !== undefined) row.learning_rate = lr;
    row.epoch_time = seconds;
    const n = this.epochs.length;
    this.epochs.push(epoch);
    // a key first logged mid-run (or missing from one epoch) is NaN elsewhere: a gap in its chart
    for (const key of new Set([...Object.keys(this.history), ...Object.keys(row)])) {
      const values = (this.history[key] ??= new Array<number>(n).fill(NaN));
      values.push(key in row ? row[key] : NaN);
    }
  }

  override async onTrainEnd(): Promise<void> {
    await writeReport(fromHistory({ epoch: this.epochs, history: this.history }, 'TrainingReport'), this.path, this.model, `Training report: ${this.model.name}`, 'TrainingReport');
  }
}
