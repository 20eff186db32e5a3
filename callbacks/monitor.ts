import { fail } from '../src/errors.js';
import type { Logs } from '../models/callback.js';
import type { Model } from '../models/model.js';

/** How a monitored quantity improves: `'auto'` infers it from the name, as Keras does. */
export type Mode = 'auto' | 'min' | 'max';

// Keras 3 asks the compiled metric for its direction; kiln's metrics do not carry one, so the
// names of Keras's built-in metrics stand in (Keras 2 used the 'acc' substring the same way).
const MAXIMIZED = /acc|auc|precision|recall|f1_score|fbeta|iou|r2_score|cosine_similarity|true_positives|true_negatives/;
const MINIMIZED = /loss|error|crossentropy|hinge|divergence|poisson|logcosh|^mse$|^mae$|^mape$|^msle$|false_positives|false_negatives/;

/**
 * The direction in which `monitor` improves. Unknown modes fall back to 'auto' with a warning, as
 * in Keras. An 'auto' name that is neither a known loss nor a known metric takes `fallback` or fails.
 */
export function monitorDirection(owner: string, monitor: string, mode: string, fallback?: 'min' | 'max'): 'min' | 'max' {
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') {
    console.warn(`${owner} mode '${mode}' is unknown, fallback to auto mode.`);
    mode = 'auto';
  }
  if (mode !== 'auto') return mode as 'min' | 'max';
  const name = monitor.replace(/^val_/, '');
  if (name.endsWith('loss')) return 'min';
  if (MAXIMIZED.test(name)) return 'max';
  if (MINIMIZED.test(name)) return 'min';
  if (fallback) return fallback;
  return fail(owner, `received monitor='${monitor}', but cannot tell whether that metric should be maximized or minimized. Pass mode: 'max' to monitor the highest value, or mode: 'min' for the lowest`);
}

/** Whether `current` beats `reference` by more than `minDelta` (a magnitude) in direction `dir`. */
export function isImprovement(dir: 'min' | 'max', current: number, reference: number, minDelta: number): boolean {
  return dir === 'min' ? current + minDelta < reference : current - minDelta > reference;
}

/** Reads the monitored value, warning once per training run when logs lack it. */
export class MonitorReader {
  private warned = false;

  constructor(private readonly what: string, private readonly monitor: string) {}

  reset(): void {
    this.warned = false;
  }

  read(logs: Logs): number | undefined {
    const value = logs[this.monitor];
    if (value === undefined && !this.warned) {
      this.warned = true;
      console.warn(`${this.what} conditioned on metric \`${this.monitor}\` which is not available. Available metrics are: ${Object.keys(logs).join(',')}`);
    }
    return value;
  }
}

/** The optimizer's learning rate, which must be a plain number for a callback to read or set it. */
export function learningRateOf(owner: string, model: Model): number {
  const optimizer = model.optimizer;
  if (!optimizer) fail(owner, `model '${model.name}' has no optimizer: compile it first`);
  const lr: unknown = optimizer.learningRate;
  // Keras refuses to overwrite a LearningRateSchedule: the two would fight over the rate
  if (typeof lr !== 'number') fail(owner, `the optimizer's learningRate is a schedule, not a number; ${owner} needs a constant learning rate to adjust`);
  return lr;
}

/** Python's `f'{x:.{digits}f}'`: fixed digits, and 'nan'/'inf' as Python spells them. */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return x.toFixed(digits);
}
