import type { Tensor } from '../src/tensor.js';
import { dispose } from '../src/memory.js';
import { Callback, type Logs } from '../models/callback.js';
import { isImprovement, monitorDirection, MonitorReader, type Mode } from './monitor.js';

export interface EarlyStoppingOptions {
  /** The log key to watch (default 'val_loss'). */
  monitor?: string;
  /** The least change that counts as an improvement (its sign is ignored). */
  minDelta?: number;
  /** Epochs without improvement before training stops. */
  patience?: number;
  verbose?: number;
  mode?: Mode;
  /** Training stops unless the monitored value beats this within `patience` epochs. */
  baseline?: number | null;
  /** Whether to put back the weights of the best epoch when training ends, stopped early or not. */
  restoreBestWeights?: boolean;
  /** Epochs of warm-up before monitoring starts. */
  startFromEpoch?: number;
}

/**
 * Stops training when a monitored quantity has stopped improving (Keras's EarlyStopping).
 * @example
 * const stop = new kiln.callbacks.EarlyStopping({ monitor: 'loss', patience: 3 });
 * await model.fit(x, y, { epochs: 100, callbacks: [stop] });
 */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly verbose: number;
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  readonly direction: 'min' | 'max';
  /** Epochs since the last improvement. */
  wait = 0;
  /** The epoch (0-based) at which training was stopped; 0 when it was not. */
  stoppedEpoch = 0;
  best: number;
  bestEpoch = 0;
  private bestWeights: Tensor[] | null = null;
  private readonly reader: MonitorReader;

  constructor({
    monitor = 'val_loss', minDelta = 0, patience = 0, verbose = 0, mode = 'auto',
    baseline = null, restoreBestWeights = false, startFromEpoch = 0,
  }: EarlyStoppingOptions = {}) {
    super();
    this.monitor = monitor;
    this.minDelta = Math.abs(minDelta);
    this.patience = patience;
    this.verbose = verbose;
    this.baseline = baseline;
    this.restoreBestWeights = restoreBestWeights;
    this.startFromEpoch = startFromEpoch;
    this.direction = monitorDirection('EarlyStopping', monitor, mode);
    this.best = this.worst();
    this.reader = new MonitorReader('Early stopping', monitor);
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestEpoch = 0;
    // Keras 3 keeps `best` across fits; resetting it is what lets an instance be reused
    this.best = this.worst();
    this.dropBestWeights();
    this.reader.reset();
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const current = this.reader.read(logs);
    if (current === undefined || epoch < this.startFromEpoch) return;
    // the first monitored epoch is the best so far even if it does not beat the baseline
    if (this.restoreBestWeights && this.bestWeights === null) {
      this.bestWeights = this.model.getWeights();
      this.bestEpoch = epoch;
    }
    this.wait++;
    if (isImprovement(this.direction, current, this.best, this.minDelta)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) {
        this.dropBestWeights();
        this.bestWeights = this.model.getWeights();
      }
      // patience restarts only once the baseline is beaten too
      if (this.baseline === null || isImprovement(this.direction, current, this.baseline, this.minDelta)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  override onTrainEnd(): void {
    if (this.stoppedEpoch > 0 && this.verbose > 0) console.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
    if (this.restoreBestWeights && this.bestWeights !== null) {
      if (this.verbose > 0) console.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}.`);
      this.model.setWeights(this.bestWeights);
      this.dropBestWeights();
    }
  }

  private worst(): number {
    return this.direction === 'min' ? Infinity : -Infinity;
  }

  // snapshots hold device buffers alive: free each one as soon as a better one replaces it
  private dropBestWeights(): void {
    dispose(this.bestWeights);
    this.bestWeights = null;
  }
}
