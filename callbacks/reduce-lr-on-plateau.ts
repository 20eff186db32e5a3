import { fail } from '../src/errors.js';
import { Callback, type Logs } from '../models/callback.js';
import { isImprovement, learningRateOf, monitorDirection, MonitorReader, type Mode } from './monitor.js';

export interface ReduceLROnPlateauOptions {
  /** The log key to watch (default 'val_loss'). */
  monitor?: string;
  /** `newLr = lr * factor`; must be below 1. */
  factor?: number;
  /** Epochs without improvement before the rate is reduced. */
  patience?: number;
  verbose?: number;
  mode?: Mode;
  /** The least change that counts as an improvement. */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again. */
  cooldown?: number;
  /** The rate never goes below this. */
  minLr?: number;
}

/**
 * Reduces the optimizer's learning rate when a monitored quantity stops improving (Keras's
 * ReduceLROnPlateau). Adds `learning_rate` (the rate the epoch ran with) to the epoch logs.
 * @example
 * const reduce = new kiln.callbacks.ReduceLROnPlateau({ factor: 0.2, patience: 5, minLr: 0.001 });
 */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly verbose: number;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  readonly direction: 'min' | 'max';
  wait = 0;
  cooldownCounter = 0;
  best: number;
  private readonly reader: MonitorReader;

  constructor({
    monitor = 'val_loss', factor = 0.1, patience = 10, verbose = 0, mode = 'auto',
    minDelta = 1e-4, cooldown = 0, minLr = 0,
  }: ReduceLROnPlateauOptions = {}) {
    super();
    if (!(factor < 1)) fail('ReduceLROnPlateau', `does not support a factor >= 1.0, got factor=${factor}`);
    this.monitor = monitor;
    this.factor = factor;
    this.patience = patience;
    this.verbose = verbose;
    this.minDelta = minDelta;
    this.cooldown = cooldown;
    this.minLr = minLr;
    // Keras's ReduceLROnPlateau minimizes any name it does not recognize instead of failing
    this.direction = monitorDirection('ReduceLROnPlateau', monitor, mode, 'min');
    this.best = this.worst();
    this.reader = new MonitorReader('Learning rate reduction', monitor);
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.cooldownCounter = 0;
    this.best = this.worst();
    this.reader.reset();
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const lr = learningRateOf('ReduceLROnPlateau', this.model);
    logs.learning_rate = lr;
    const current = this.reader.read(logs);
    if (current === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (isImprovement(this.direction, current, this.best, this.minDelta)) {
      this.best = current;
      this.wait = 0;
      return;
    }
    if (this.cooldownCounter > 0 || ++this.wait < this.patience) return;
    // Keras compares against min_lr in float32, so a rate that float32 rounds to it stays put
    if (lr <= Math.fround(this.minLr)) return;
    const newLr = Math.max(lr * this.factor, this.minLr);
    this.model.optimizer!.learningRate = newLr;
    if (this.verbose > 0) console.log(`\nEpoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate to ${newLr}.`);
    this.cooldownCounter = this.cooldown;
    this.wait = 0;
  }

  private worst(): number {
    return this.direction === 'min' ? Infinity : -Infinity;
  }
}
