import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fail } from '../src/errors.js';
import { Callback, type Logs } from '../models/callback.js';
import { formatFilepath } from './filepath-template.js';
import { isImprovement, monitorDirection, pyFixed, type Mode } from './monitor.js';

export interface ModelCheckpointOptions {
  /** The log key that decides what "best" is when `saveBestOnly` (default 'val_loss'). */
  monitor?: string;
  verbose?: number;
  /** Save only when the monitored value improves on the best so far. */
  saveBestOnly?: boolean;
  /** `model.saveWeights` instead of `model.save`. */
  saveWeightsOnly?: boolean;
  mode?: Mode;
  /** 'epoch', or save every this many training batches. */
  saveFreq?: 'epoch' | number;
  /** The best value to beat before the first save, with `saveBestOnly`. */
  initialValueThreshold?: number;
}

/**
 * Saves the model or its weights during training (Keras's ModelCheckpoint). The file path may hold
 * Python-style fields filled from the epoch (1-based), the batch and the logs.
 * @example
 * const ckpt = new kiln.callbacks.ModelCheckpoint('ckpt/{epoch:02d}-{val_loss:.4f}.kiln', { saveBestOnly: true });
 */
export class ModelCheckpoint extends Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly verbose: number;
  readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean;
  readonly saveFreq: 'epoch' | number;
  readonly direction: 'min' | 'max';
  /** The best monitored value saved so far (the threshold, or ±Infinity, before any save). */
  best: number;
  private currentEpoch = 0;
  private batchesSinceSave = 0;

  constructor(filepath: string, {
    monitor = 'val_loss', verbose = 0, saveBestOnly = false, saveWeightsOnly = false,
    mode = 'auto', saveFreq = 'epoch', initialValueThreshold,
  }: ModelCheckpointOptions = {}) {
    super();
    if (typeof filepath !== 'string' || filepath === '') fail('ModelCheckpoint', `expected a file path, got ${String(filepath)}`);
    if (saveFreq !== 'epoch' && !(Number.isInteger(saveFreq) && saveFreq > 0)) {
      fail('ModelCheckpoint', `saveFreq must be 'epoch' or a positive integer, got ${String(saveFreq)}`);
    }
    this.filepath = filepath;
    this.monitor = monitor;
    this.verbose = verbose;
    this.saveBestOnly = saveBestOnly;
    this.saveWeightsOnly = saveWeightsOnly;
    this.saveFreq = saveFreq;
    this.direction = monitorDirection('ModelCheckpoint', monitor, mode);
    this.best = initialValueThreshold ?? (this.direction === 'min' ? Infinity : -Infinity);
    // a batch hook makes fit read logs back every step: only batch-frequency saving needs it
    if (saveFreq === 'epoch') this.onTrainBatchEnd = Callback.prototype.onTrainBatchEnd;
  }

  override onEpochBegin(epoch: number): void {
    this.currentEpoch = epoch;
  }

  override onTrainBatchEnd(batch: number, logs: Logs = {}): void | Promise<void> {
    // the count runs on across epochs, as in Keras
    if (++this.batchesSinceSave < (this.saveFreq as number)) return;
    this.batchesSinceSave = 0;
    return this.save(this.currentEpoch, batch, logs);
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    if (this.saveFreq === 'epoch') await this.save(epoch, null, logs);
  }

  private filePath(epoch: number, batch: number | null, logs: Logs): string {
    // fields are 1-based as in Keras; a log key named 'batch' wins over the batch counter
    const values: Record<string, number> = batch === null ? { epoch: epoch + 1 } : { epoch: epoch + 1, batch: batch + 1 };
    return formatFilepath('ModelCheckpoint', this.filepath, { ...values, ...logs });
  }

  private async save(epoch: number, batch: number | null, logs: Logs): Promise<void> {
    const path = this.filePath(epoch, batch, logs);
    if (!this.shouldSave(epoch, logs, path)) return;
    await mkdir(dirname(path), { recursive: true });
    if (this.saveWeightsOnly) await this.model.saveWeights(path);
    else await this.model.save(path, { overwrite: true });
    if (this.verbose > 0) console.log(`\nEpoch ${epoch + 1}: finished saving model to ${path}`);
  }

  private shouldSave(epoch: number, logs: Logs, path: string): boolean {
    if (!this.saveBestOnly) {
      if (this.verbose > 0) console.log(`\nEpoch ${epoch + 1}: saving model to ${path}`);
      return true;
    }
    const current = logs[this.monitor];
    if (current === undefined) {
      // Keras saves anyway: losing a checkpoint is worse than keeping one too many
      console.warn(`Can save best model only with ${this.monitor} available. Available metrics are: ${Object.keys(logs).join(',')}`);
      return true;
    }
    const bestText = pyFixed(this.best, 5);
    if (!isImprovement(this.direction, current, this.best, 0)) {
      if (this.verbose > 0) console.log(`\nEpoch ${epoch + 1}: ${this.monitor} did not improve from ${bestText}`);
      return false;
    }
    if (this.verbose > 0) console.log(`\nEpoch ${epoch + 1}: ${this.monitor} improved from ${bestText} to ${pyFixed(current, 5)}, saving model to ${path}`);
    this.best = current;
    return true;
  }
}
