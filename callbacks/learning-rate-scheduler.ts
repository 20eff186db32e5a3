import { fail } from '../src/errors.js';
import { Callback, type Logs } from '../models/callback.js';
import { learningRateOf } from './monitor.js';

/** The learning rate for `epoch` (0-based) given the current one. */
export type Schedule = (epoch: number, lr: number) => number;

/**
 * Sets the optimizer's learning rate at the start of every epoch from `schedule(epoch, lr)`
 * (Keras's LearningRateScheduler), and adds `learning_rate` to the epoch logs.
 * @example
 * const sched = new kiln.callbacks.LearningRateScheduler((epoch, lr) => (epoch < 10 ? lr : lr * Math.exp(-0.1)));
 */
export class LearningRateScheduler extends Callback {
  readonly verbose: number;

  constructor(readonly schedule: Schedule, { verbose = 0 }: { verbose?: number } = {}) {
    super();
    if (typeof schedule !== 'function') fail('LearningRateScheduler', `expected a function (epoch, lr) => lr, got ${typeof schedule}`);
    this.verbose = verbose;
  }

  override onEpochBegin(epoch: number): void {
    const lr = this.schedule(epoch, learningRateOf('LearningRateScheduler', this.model));
    if (typeof lr !== 'number' || !Number.isFinite(lr)) {
      fail('LearningRateScheduler', `the schedule must return a finite number, got ${String(lr)} at epoch ${epoch}`);
    }
    this.model.optimizer!.learningRate = lr;
    if (this.verbose > 0) console.log(`\nEpoch ${epoch + 1}: LearningRateScheduler setting learning rate to ${lr}.`);
  }

  override onEpochEnd(_epoch: number, logs: Logs = {}): void {
    logs.learning_rate = learningRateOf('LearningRateScheduler', this.model);
  }
}
