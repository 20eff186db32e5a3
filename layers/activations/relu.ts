import * as ops from '../../src/ops/index.js';
import { fail } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export interface ReLUOptions extends LayerArgs {
  /** The largest output (no cap when null). */
  maxValue?: number | null;
  /** The slope below the threshold. */
  negativeSlope?: number;
  /** Inputs above it pass; below it they are scaled by negativeSlope. */
  threshold?: number;
}

/**
 * The rectifier with Keras's three options (keras.layers.ReLU):
 * `min(x, maxValue)` for x > threshold, else `negativeSlope · (x - threshold)`.
 * @example
 * new kiln.layers.ReLU({ maxValue: 6 }).apply(kiln.tensor([-1, 3, 9]));   // [0, 3, 6]
 */
export class ReLU extends Layer {
  static readonly className = 'ReLU';
  override supportsMasking = true;
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;

  constructor({ maxValue = null, negativeSlope = 0, threshold = 0, ...args }: ReLUOptions = {}) {
    super(args);
    // Keras's checks: a negative cap or slope would make the output non-monotonic
    const check = (name: string, v: unknown): void => {
      if (typeof v !== 'number' || !(v >= 0)) fail(this.toString(), `${name} must be a number >= 0, got ${String(v)}`);
    };
    if (maxValue !== null) check('maxValue', maxValue);
    check('negativeSlope', negativeSlope);
    check('threshold', threshold);
    this.maxValue = maxValue;
    this.negativeSlope = negativeSlope;
    this.threshold = threshold;
  }

  call(x: Tensor): Tensor {
    const t = this.threshold;
    let y = t === 0 ? ops.relu(x) : ops.where(ops.greater(x, t), x, 0);
    if (this.maxValue !== null) y = ops.minimum(y, this.maxValue);
    if (this.negativeSlope !== 0) y = ops.subtract(y, ops.multiply(ops.relu(ops.subtract(t, x)), this.negativeSlope));
    return y;
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), maxValue: this.maxValue, negativeSlope: this.negativeSlope, threshold: this.threshold };
  }

  static fromConfig(config: LayerConfig): ReLU {
    return new ReLU(optionsFromConfig(config));
  }
}
