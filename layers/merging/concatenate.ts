import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import type { LayerMask } from '../mask.js';
import { optionsFromConfig } from '../config.js';

export interface ConcatenateOptions extends LayerArgs {
  axis?: number;
}

/**
 * Joins a list of tensors along `axis` (keras.layers.Concatenate); every other dimension must
 * match. Masks join as in Keras 3: each input's mask, spread over its features (all true for an
 * input without one), is joined along `axis`, and a step is kept where any of its features is:
 * on the features axis a step is kept when any input keeps it, on the steps axis the masks sit
 * side by side.
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

  override computeMask(inputs: Tensor[], previousMask: LayerMask): LayerMask {
    const masks = previousMask as readonly (Tensor | null)[] | null;
    if (masks === null || masks.every((m) => m === null)) return null;
    const full = inputs.map((x, i) => {
      const m = masks[i];
      if (m === null) return allTrue(x);
      return m.rank < x.rank ? ops.logicalAnd(ops.expandDims(m, -1), allTrue(x)) : m;
    });
    return ops.any(ops.concatenate(full, this.axis), -1);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), axis: this.axis };
  }

  static fromConfig(config: LayerConfig): Concatenate {
    return new Concatenate(optionsFromConfig(config));
  }
}

/** A mask of `x`'s shape that keeps everything; made from `x`, whose batch size a symbolic call does not know. */
function allTrue(x: Tensor): Tensor {
  return ops.logicalOr(ops.cast(x, 'bool'), true);
}
