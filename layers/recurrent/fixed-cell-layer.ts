/**
 * What SimpleRNN, LSTM and GRU share: a cell made from the layer's options, one flat config, and
 * the fast path. That path projects the inputs of every step in one matmul (x · kernel + bias for
 * [batch, time, features] at once) and runs the recurrence as one fused sequence op
 * (src/fused/recurrent.ts). Recurrent dropout needs a mask on the state at each step, so it, and
 * an activation given as a function of the user's own, take the cell's step loop instead.
 */
import type { ActivationId } from '../../src/activations.js';
import { serializeActivation } from '../../src/activations.js';
import { zeros } from '../../src/creation.js';
import { dense } from '../../src/fused/dense.js';
import * as ops from '../../src/ops/index.js';
import type { Tensor } from '../../src/tensor.js';
import type { LayerConfig } from '../layer.js';
import type { CellOptions } from './cell-options.js';
import type { DropoutRNNCell } from './cell-dropout.js';

/** The cell's options from the layer's: the same, less what belongs to the layer (its name, input shape, batch size). */
export function cellOptions<O extends CellOptions>(options: O, name: string): O {
  const { inputShape: _shape, batchSize: _batch, ...rest } = options;
  return { ...rest, name } as O;
}

/** The layer's config as Keras saves it: its own, its cell's options and the RNN flags in one flat object. */
export function flatConfig(layer: LayerConfig, cell: LayerConfig, rnn: Record<string, unknown>): LayerConfig {
  const { name: _name, trainable: _trainable, dtype: _dtype, ...options } = cell;
  return { ...layer, ...options, ...rnn };
}

/** An activation's id for the fused op, or null for a function of the user's own (the step loop runs it). */
export function activationName(id: ActivationId, fallback: string): string | null {
  if (id === undefined) return fallback;
  return typeof id === 'function' ? null : serializeActivation(id);
}

/** Whether this call can take the fused path: no recurrent dropout drawn, activations the fused ops know. */
export function fusable(cell: DropoutRNNCell, training: boolean, ...activations: (string | null)[]): boolean {
  const rate = cell.dropoutMasks.recurrentRate;
  return !(training && rate > 0 && rate < 1) && activations.every((a) => a !== null);
}

/**
 * The sequence in the order the steps run, with the cell's input dropout mask on every step (one
 * mask for the whole sequence), projected in one matmul: xProj [batch, time, gates·units].
 */
export function projectSequence(cell: DropoutRNNCell, x: Tensor, mask: Tensor | null, goBackwards: boolean, kernel: Tensor, bias: Tensor | null, training: boolean): { xProj: Tensor; mask: Tensor | null } {
  const [batch, , features] = x.shape as number[];
  const drop = cell.dropoutMasks.input({ shape: [batch, features], dtype: x.dtype }, 1, training);
  let seq = goBackwards ? ops.flip(x, 1) : x;
  if (drop) seq = ops.multiply(seq, ops.expandDims(drop[0], 1));
  return { xProj: dense(seq, kernel, bias, 'linear'), mask: mask && (goBackwards ? ops.flip(mask, 1) : mask) };
}

/** The last step's output [batch, units] (zeros when there are no steps), as the step loop gives it. */
export function lastOutput(outputs: Tensor): Tensor {
  const [batch, time, units] = outputs.shape as number[];
  if (time === 0) return zeros([batch, units], outputs.dtype);
  return ops.squeeze(ops.slice(outputs, [0, time - 1, 0], [batch, 1, units]), 1);
}
