import { KilnError } from '../src/errors.js';
import { Callback, type Logs } from '../models/callback.js';

/**
 * Stops training at the first batch whose loss is NaN or infinite (Keras's TerminateOnNaN). By
 * default it sets `model.stopTraining`, so the epoch ends and every callback's `onTrainEnd` runs;
 * with `raiseError` it throws instead, skipping that cleanup (a backup then survives).
 * Where it stopped stays in `stoppedAtEpoch`, `stoppedAtBatch` and `message`.
 * @example
 * await model.fit(x, y, { callbacks: [new kiln.callbacks.TerminateOnNaN()] });
 */
export class TerminateOnNaN extends Callback {
  readonly raiseError: boolean;
  /** The epoch (0-based) of the invalid loss, or null while training is healthy. */
  stoppedAtEpoch: number | null = null;
  /** The batch (0-based, within its epoch) of the invalid loss, or null. */
  stoppedAtBatch: number | null = null;
  /** What was printed (or thrown) when training was stopped, or null. */
  message: string | null = null;
  private epoch = 0;

  constructor({ raiseError = false }: { raiseError?: boolean } = {}) {
    super();
    this.raiseError = raiseError;
  }

  override onTrainBegin(): void {
    this.stoppedAtEpoch = null;
    this.stoppedAtBatch = null;
    this.message = null;
  }

  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  override onTrainBatchEnd(batch: number, logs: Logs = {}): void {
    const loss = logs.loss;
    if (loss === undefined || Number.isFinite(loss)) return;
    this.stoppedAtEpoch = this.epoch;
    this.stoppedAtBatch = batch;
    if (this.raiseError) {
      this.message = `NaN or Inf loss encountered at batch ${batch}. Loss value: ${loss}. Terminating training immediately.`;
      throw new KilnError('TerminateOnNaN', `${this.message} (epoch ${this.epoch + 1})`);
    }
    this.message = `Batch ${batch}: Invalid loss, terminating training`;
    console.log(this.message);
    this.model.stopTraining = true;
  }
}
