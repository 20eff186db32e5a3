import { fail } from '../src/errors.js';
import { Callback } from '../models/callback.js';

const HOOKS = [
  'onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onTrainBatchBegin', 'onTrainBatchEnd',
  'onTestBegin', 'onTestEnd', 'onTestBatchBegin', 'onTestBatchEnd',
  'onPredictBegin', 'onPredictEnd', 'onPredictBatchBegin', 'onPredictBatchEnd',
] as const;

/** Functions for any of Callback's hooks, each with the hook's arguments. */
export type LambdaHooks = Partial<Pick<Callback, (typeof HOOKS)[number]>>;

/**
 * A callback made of plain functions (Keras's LambdaCallback). Only the hooks given replace the
 * base's no-ops, so fit reads batch logs back only when a batch hook is given.
 * @example
 * const log = new kiln.callbacks.LambdaCallback({ onEpochEnd: (epoch, logs) => console.log(epoch, logs?.loss) });
 */
export class LambdaCallback extends Callback {
  constructor(hooks: LambdaHooks = {}) {
    super();
    for (const [name, fn] of Object.entries(hooks)) {
      if (!(HOOKS as readonly string[]).includes(name)) fail('LambdaCallback', `unknown hook '${name}'; hooks are ${HOOKS.join(', ')}`);
      if (fn === undefined) continue;
      if (typeof fn !== 'function') fail('LambdaCallback', `${name} must be a function, got ${typeof fn}`);
      Object.assign(this, { [name]: fn });
    }
  }
}
