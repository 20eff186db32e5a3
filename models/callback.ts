import type { Model } from './model.js';

/** Logs handed to callbacks: metric name → value (`loss`, `accuracy`, `val_loss`, …). */
export type Logs = Record<string, number>;

/** What fit/evaluate/predict tell callbacks before they start (Keras's `params`). */
export interface CallbackParams {
  epochs: number;
  steps: number | null;
  verbose: number | 'json';
}

/**
 * The base of every callback, with Keras's hooks. Each hook may be async; fit awaits it.
 * A callback that overrides a batch hook makes fit read that batch's logs back from the backend;
 * the others cost nothing per step.
 */
export class Callback {
  model!: Model;
  params: CallbackParams = { epochs: 1, steps: null, verbose: 1 };

  setModel(model: Model): void {
    this.model = model;
  }

  setParams(params: CallbackParams): void {
    this.params = params;
  }

  onTrainBegin(_logs?: Logs): void | Promise<void> {}
  onTrainEnd(_logs?: Logs): void | Promise<void> {}
  onEpochBegin(_epoch: number, _logs?: Logs): void | Promise<void> {}
  onEpochEnd(_epoch: number, _logs?: Logs): void | Promise<void> {}
  onTrainBatchBegin(_batch: number, _logs?: Logs): void | Promise<void> {}
  onTrainBatchEnd(_batch: number, _logs?: Logs): void | Promise<void> {}
  onTestBegin(_logs?: Logs): void | Promise<void> {}
  onTestEnd(_logs?: Logs): void | Promise<void> {}
  onTestBatchBegin(_batch: number, _logs?: Logs): void | Promise<void> {}
  onTestBatchEnd(_batch: number, _logs?: Logs): void | Promise<void> {}
  onPredictBegin(_logs?: Logs): void | Promise<void> {}
  onPredictEnd(_logs?: Logs): void | Promise<void> {}
  onPredictBatchBegin(_batch: number, _logs?: Logs): void | Promise<void> {}
  onPredictBatchEnd(_batch: number, _logs?: Logs): void | Promise<void> {}
}

type Hook = Exclude<keyof Callback, 'model' | 'params' | 'setModel' | 'setParams'>;

/** Runs a hook on every callback in order. */
export class CallbackList {
  constructor(readonly callbacks: Callback[]) {}

  /** Whether any callback overrides `hook` (so fit knows whether batch logs must be read back). */
  wants(hook: Hook): boolean {
    return this.callbacks.some((c) => c[hook] !== Callback.prototype[hook]);
  }

  setModel(model: Model): void {
    for (const c of this.callbacks) c.setModel(model);
  }

  setParams(params: CallbackParams): void {
    for (const c of this.callbacks) c.setParams(params);
  }

  async call(hook: Hook, ...args: unknown[]): Promise<void> {
    for (const c of this.callbacks) {
      if (c[hook] !== Callback.prototype[hook]) await (c[hook] as (...a: unknown[]) => unknown)(...args);
    }
  }
}
