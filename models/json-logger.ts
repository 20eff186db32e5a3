import { fail } from '../src/errors.js';
import { Callback, type Logs } from './callback.js';
import { appendFile } from './log-file.js';

export interface JsonLoggerOptions {
  /** A file the lines are appended to; without it they go to `stream`. */
  path?: string;
  /** Where lines go when no path is given (default: process.stdout). */
  stream?: { write(s: string): unknown };
  /** Also a line after every training batch (each makes fit read that batch's logs back). */
  perBatch?: boolean;
}

/** A log value as JSON: JSON has no NaN or infinities, so they are written as the strings "NaN", "Infinity", "-Infinity". */
function jsonNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

function jsonLogs(logs: Logs): Record<string, number | string> {
  return Object.fromEntries(Object.entries(logs).map(([k, v]) => [k, jsonNumber(v)]));
}

/**
 * Training logs for machines: one JSON object per line (JSON Lines), each written whole by one
 * write, so a reader that tails the file never sees half a line.
 *
 * Lines: `{"event":"train_begin","epochs":E,"steps":S}`, then per epoch
 * `{"event":"epoch","epoch":i,"seconds":t,"logs":{...}}` (epoch counted from 0, as callbacks
 * see it; `logs` are the History's values for that epoch), with `perBatch`
 * `{"event":"batch","epoch":i,"batch":j,"logs":{...}}` after each training batch, and
 * `{"event":"train_end","epochs_run":n}`. `fit(..., { verbose: 'json' })` writes the same
 * lines to stdout without the batch lines (a batch line costs a readback per step).
 * @example
 * await model.fit(x, y, { epochs: 5, callbacks: [new kiln.callbacks.JsonLogger({ path: 'run/log.jsonl' })] });
 */
export class JsonLogger extends Callback {
  readonly path: string | undefined;
  readonly perBatch: boolean;
  private readonly stream: { write(s: string): unknown };
  private epoch = 0;
  private epochsRun = 0;
  private epochStart = 0;

  constructor({ path, stream = process.stdout, perBatch = false }: JsonLoggerOptions = {}) {
    super();
    if (path !== undefined && (typeof path !== 'string' || path === '')) fail('JsonLogger', `path must be a file name, got ${String(path)}`);
    if (typeof stream?.write !== 'function') fail('JsonLogger', 'stream must have a write(text) method');
    this.path = path;
    this.stream = stream;
    this.perBatch = perBatch;
    // batch hooks make fit read logs back every step: only per-batch lines need them
    if (!perBatch) this.onTrainBatchEnd = Callback.prototype.onTrainBatchEnd;
  }

  override async onTrainBegin(): Promise<void> {
    this.epochsRun = 0;
    await this.line({ event: 'train_begin', epochs: this.params.epochs, steps: this.params.steps });
  }

  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
    this.epochStart = performance.now();
  }

  override onTrainBatchEnd(batch: number, logs: Logs = {}): void | Promise<void> {
    return this.line({ event: 'batch', epoch: this.epoch, batch, logs: jsonLogs(logs) });
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    this.epochsRun++;
    await this.line({ event: 'epoch', epoch, seconds: (performance.now() - this.epochStart) / 1000, logs: jsonLogs(logs) });
  }

  override async onTrainEnd(): Promise<void> {
    await this.line({ event: 'train_end', epochs_run: this.epochsRun });
  }

  private async line(record: Record<string, unknown>): Promise<void> {
    const text = JSON.stringify(record) + '\n';
    // one O_APPEND write per line and no file held open: a crash leaves only whole lines
    if (this.path !== undefined) await appendFile(this.path, text);
    else this.stream.write(text);
  }
}
