import * as ops from '../../src/ops/index.js';
import { fail } from '../../src/errors.js';
import { tensor } from '../../src/creation.js';
import type { NestedInput } from '../../src/convert.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

/** A number, or (nested) arrays of them broadcast against the input, e.g. one per channel. */
export type Scalars = number | NestedInput;

export interface RescalingOptions extends LayerArgs {
  offset?: Scalars;
}

/**
 * `x · scale + offset`, in the layer's dtype (keras.layers.Rescaling): integer pixels become
 * floats on the way.
 * @example
 * new kiln.layers.Rescaling(1 / 127.5, { offset: -1 }).apply(kiln.tensor([0, 255]));   // [-1, 1]
 */
export class Rescaling extends Layer {
  static readonly className = 'Rescaling';
  override supportsMasking = true;
  readonly scale: Scalars;
  readonly offset: Scalars;

  constructor(scale: Scalars, { offset = 0, ...args }: RescalingOptions = {}) {
    super(args);
    const numeric = (v: unknown): boolean => (typeof v === 'number' ? Number.isFinite(v) : Array.isArray(v) && v.every(numeric));
    if (!numeric(scale)) fail(this.toString(), `scale must be a finite number or an array of them, got ${JSON.stringify(scale)}`);
    if (!numeric(offset)) fail(this.toString(), `offset must be a finite number or an array of them, got ${JSON.stringify(offset)}`);
    this.scale = scale;
    this.offset = offset;
  }

  call(x: Tensor): Tensor {
    const t = x.dtype === this.dtype ? x : ops.cast(x, this.dtype);
    // numbers stay numbers (weakly typed: no upload, and they follow the input's dtype)
    const asOperand = (v: Scalars): number | Tensor => (typeof v === 'number' ? v : tensor(v, undefined, this.dtype));
    return ops.add(ops.multiply(t, asOperand(this.scale)), asOperand(this.offset));
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }

  static fromConfig(config: LayerConfig): Rescaling {
    return new Rescaling(config.scale as Scalars, optionsFromConfig(config));
  }
}
