import { Adam, type AdamOptions } from './adam.js';
import { fail } from '../src/errors.js';
import { describe } from '../src/variable.js';

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
    // checked here as the base checks it: a spread would turn null into {} and a string into its characters
    if (options === null || typeof options !== 'object') fail('adamw', `expected an options object, got ${describe(options)}`);
    const name = options.name ?? 'adamw';
    if (options.weightDecay === null) fail(name, 'weightDecay must be a number for AdamW, got null');
    super({ ...options, weightDecay: options.weightDecay ?? 0.004, name });
  }
}
