import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export interface ConcatenateOptions extends LayerArgs {
  axis?: number;
}

/**
 * Joins a list of tensors along `axis` (keras.layers.Concatenate); every other dimension must
 * match.
 * @example
 * new kiln.layers.Concatenate().apply([kiln.zeros([2, 3]), kiln.zeros([2, 5])]).shape;   // [2, 8]
 */
export class Concatenate extends Layer {
  static readonly className = 'Concatenate';
  override readonly multiInput = true;
  readonly axis: number;

  constructor({ axis = -1, ...args }: ConcatenateOptions = {}) {
    super(args);
    if (!Number.isInteger(axis)) fail(this.toString(), `axis must be an integer, got ${String(axis)}`);
    this.axis = axis;
  }

  call(inputs: Tensor[]): Tensor {
    const shapes = inputs.map((x) => fmtShape(x.shape)).join(', ');
    if (inputs.length === 0) fail(this.toString(), 'expects at least 1 input, got none');
    const rank = inputs[0].rank;
    if (this.axis < -rank || this.axis >= rank) fail(this.toString(), `axis ${this.axis} is out of range for inputs of rank ${rank}`);
    const axis = this.axis < 0 ? this.axis + rank : this.axis;
    const fits = inputs.every((x) => x.rank === rank && x.shape.every((d, i) => {
      const d0 = inputs[0].shape[i];
      return i === axis || d === null || d0 === null || d === d0;
    }));
    if (!fits) fail(this.toString(), `expects inputs of one rank whose dimensions match except on axis ${this.axis}, got shapes ${shapes}`);
    return ops.concatenate(inputs, axis);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), axis: this.axis };
  }

  static fromConfig(config: LayerConfig): Concatenate {
    return new Concatenate(optionsFromConfig(config));
  }
}
