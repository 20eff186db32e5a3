import { Adam, type AdamOptions } from './adam.js';
import { fail } from '../src/errors.js';

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter, 2019): Adam whose weightDecay
 * defaults to 0.004 and may not be null. The decay itself is the base optimizer's,
 * `w -= w * weightDecay * lr` before each update, as in Keras 3.
 * @example
 * const opt = new kiln.optimizers.AdamW({ learningRate: 1e-3, weightDecay: 0.01 });
 * opt.excludeFromWeightDecay({ varNames: ['bias'] });
 */
export class AdamW extends Adam {
  static override readonly className: string = 'AdamW';

  constructor(options: AdamOptions = {}) {
    if (options?.weightDecay === null) fail(options.name ?? 'adamw', 'weightDecay must be a number for AdamW, got null');
    super({ ...options, weightDecay: options?.weightDecay ?? 0.004, name: options?.name ?? 'adamw' });
  }
}
