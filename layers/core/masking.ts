import { fail } from '../../src/errors.js';
import * as ops from '../../src/ops/index.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export interface MaskingOptions extends LayerArgs {
  /** The value that marks a padding step when every feature of the step holds it (default 0). */
  maskValue?: number;
}

/**
 * Masks the steps of a [batch, steps, features] input whose features all equal `maskValue`
 * (keras.layers.Masking): they become 0, and the output carries a mask [batch, steps], false at
 * them, that the layers after it and the loss honour.
 * @example
 * const x = kiln.tensor([[[1, 2], [-1, -1], [-1, 3]]]);
 * const y = new kiln.layers.Masking({ maskValue: -1 }).apply(x);   // [[[1, 2], [0, 0], [-1, 3]]]
 * kiln.layers.maskOf(y);                                          // [[true, false, true]]
 */
export class Masking extends Layer {
  static readonly className = 'Masking';
  override supportsMasking = true;
  readonly maskValue: number;

  constructor(options: MaskingOptions = {}) {
    super(options);
    const { maskValue = 0 } = options;
    if (typeof maskValue !== 'number') fail(this.toString(), `maskValue must be a number, got ${JSON.stringify(maskValue)}`);
    this.maskValue = maskValue;
  }

  call(x: Tensor): Tensor {
    return ops.where(this.kept(x, true), x, 0);
  }

  override computeMask(x: Tensor): Tensor {
    return this.kept(x, false);
  }

  /** Whether any feature of a step differs from maskValue (NaN differs from everything, as in Keras). */
  private kept(x: Tensor, keepdims: boolean): Tensor {
    return ops.any(ops.notEqual(x, this.maskValue), -1, keepdims);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), maskValue: this.maskValue };
  }

  static fromConfig(config: LayerConfig): Masking {
    return new Masking(optionsFromConfig<MaskingOptions>(config));
  }
}
