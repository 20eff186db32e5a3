import { Callback, type Logs } from './callback.js';

export interface ProgbarOptions {
  verbose?: number;
  mode?: 'train' | 'test';
  /** Where lines go (default: process.stdout). */
  stream?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
}

/**
 * Keras's progress output: a live bar with step count, ETA and running logs when stdout is a TTY
 * and verbose is 1; otherwise one line per epoch.
 */
export class ProgbarLogger extends Callback {
  private readonly mode: 'train' | 'test';
  private readonly stream: NonNullable<ProgbarOptions['stream']>;
  private readonly live: boolean;
  private epochStart = 0;

  constructor({ verbose = 1, mode = 'train', stream = process.stdout }: ProgbarOptions = {}) {
    super();
    this.mode = mode;
    this.stream = stream;
    this.live = verbose === 1 && Boolean(stream.isTTY);
    // batch hooks make fit read logs back every step: only the live bar needs them
    if (!this.live) {
      this.onTrainBatchEnd = Callback.prototype.onTrainBatchEnd;
      this.onTestBatchEnd = Callback.prototype.onTestBatchEnd;
    }
  }

  override onEpochBegin(epoch: number): void {
    this.epochStart = performance.now();
    if (this.live) this.stream.write(`Epoch ${epoch + 1}/${this.params.epochs}\n`);
  }

  override onTestBegin(): void {
    this.epochStart = performance.now();
  }

  override onTrainBatchEnd(batch: number, logs: Logs = {}): void {
    this.bar(batch + 1, logs);
  }

  override onTestBatchEnd(batch: number, logs: Logs = {}): void {
    this.bar(batch + 1, logs);
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const seconds = (performance.now() - this.epochStart) / 1000;
    const steps = this.params.steps ?? 0;
    const perStep = steps ? ` ${formatTime(seconds / steps)}/step` : '';
    if (this.live) this.stream.write(`\r${this.barText(steps, steps)} ${formatTime(seconds)}${perStep} - ${formatLogs(logs)}\x1b[K\n`);
    else this.stream.write(`Epoch ${epoch + 1}/${this.params.epochs} - ${formatTime(seconds)} - ${formatLogs(logs)}\n`);
  }

  override onTestEnd(logs: Logs = {}): void {
    if (this.mode !== 'test') return;
    const seconds = (performance.now() - this.epochStart) / 1000;
    this.stream.write(`${this.live ? '\r' : ''}evaluate - ${formatTime(seconds)} - ${formatLogs(logs)}${this.live ? '\x1b[K' : ''}\n`);
  }

  private bar(step: number, logs: Logs): void {
    const total = this.params.steps;
    const elapsed = (performance.now() - this.epochStart) / 1000;
    const eta = total ? (elapsed / step) * (total - step) : 0;
    this.stream.write(`\r${this.barText(step, total)} ETA: ${formatTime(eta)} - ${formatLogs(logs)}\x1b[K`);
  }

  private barText(step: number, total: number | null): string {
    if (!total) return `${step}/Unknown`;
    const width = 20;
    const done = Math.min(width, Math.floor((step / total) * width));
    const bar = '━'.repeat(done) + (done < width ? '─'.repeat(width - done) : '');
    return `${String(step).padStart(String(total).length)}/${total} ${bar}`;
  }
}

function formatTime(s: number): string {
  if (s >= 3600) return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  if (s >= 60) return `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  return s >= 1 ? `${s.toFixed(0)}s` : `${(s * 1000).toFixed(0)}ms`;
}

function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k}: ${Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(4)}`)
    .join(' - ');
}
