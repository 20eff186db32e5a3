import type { Tensor } from '../tensor.js';
import { fail, fmtShape } from '../errors.js';
import { reshape, slice } from '../ops/movement.js';
import type { Spec } from '../engine.js';
import { defineFused } from './define.js';
import { SLOTS, checkSequence, composeGru, composeLstm, composeSimpleRnn, type GruAttrs, type ScanAttrs } from './recurrent-scan.js';

/** What every recurrent sequence function takes besides its tensors. */
export interface SequenceOptions {
  /** [B, T] bool: a false step keeps the previous states and output. */
  mask?: Tensor | null;
  /** Whether a masked step outputs zeros rather than the previous output (Keras's zero_output_for_mask). */
  zeroOutputForMask?: boolean;
}

/** The step outputs [B, T, U] and the final state at `slot` ([B, U]) out of a record [B, T, slots·U]. */
function outputsOf(record: Tensor, U: number): Tensor {
  return slice(record, [0, 0, 0], [-1, -1, U]);
}

function finalState(record: Tensor, slot: number, U: number): Tensor {
  const T = record.shape[1] as number;
  return reshape(slice(record, [0, T - 1, slot * U], [-1, 1, U]), [-1, U]);
}

/** The attributes shared by the three ops, from the options. */
function scanAttrs(options: SequenceOptions & { activation?: string; recurrentActivation?: string }): ScanAttrs {
  return {
    activation: options.activation ?? 'tanh',
    recurrentActivation: options.recurrentActivation ?? 'sigmoid',
    zeroOutputForMask: options.zeroOutputForMask ?? false,
    masked: options.mask !== undefined && options.mask !== null,
  };
}

/** Zero steps: no outputs ([B, 0, U], sliced from xProj so that it keeps xProj's batch and dtype). */
function noSteps(xProj: Tensor, U: number): Tensor {
  return slice(xProj, [0, 0, 0], [-1, 0, U]);
}

/** The record [B, T, slots·U] of a recurrent op whose kernel is [U, gates·U], in xProj's dtype. */
const recordOf = (xProj: Spec, kernel: Spec, slots: number): Spec =>
  ({ shape: [xProj.shape[0], xProj.shape[1], slots * (kernel.shape[0] as number)], dtype: xProj.dtype });

/** A spec like `s`'s: the gradient of an input. */
const like = (s: Spec): Spec => ({ shape: s.shape, dtype: s.dtype });

/**
 * Whether the kernels take a call: tanh and sigmoid (other activations compose), batch and units
 * known and non-zero. The public functions have checked the rest and handled T = 0.
 */
const kernelTakes = (xProj: Tensor, attrs: ScanAttrs): boolean =>
  attrs.activation === 'tanh' && attrs.recurrentActivation === 'sigmoid' && xProj.size > 0;

const LSTM = defineFused({
  kernel: 'lstm',
  infer: (inputs: readonly Spec[]) => recordOf(inputs[0], inputs[3], SLOTS.lstm),
  compose: composeLstm,
  applies: ([xProj], attrs: ScanAttrs) => kernelTakes(xProj, attrs),
  run: (lstm, [xProj, h0, c0, kernel, mask], out, attrs) => lstm(xProj, h0, c0, kernel, mask ?? null, attrs.zeroOutputForMask, out),
  // backward through time in one call: per step the gates' gradients and one product for h's,
  // the kernel's gradient as one product over all steps at the end
  backward: {
    kernel: 'lstmGrad',
    infer: ([xProj, h0, c0, kernel]) => [like(xProj), like(h0), like(c0), like(kernel), null],
    run: (lstmGrad, dy, y, [, h0, c0, kernel, mask], [dxProj, dh0, dc0, dKernel], attrs) =>
      lstmGrad(dy, y, h0, c0, kernel, mask ?? null, attrs.zeroOutputForMask, dxProj, dh0, dc0, dKernel),
  },
});

/** The GRU's inputs: [xProj, h0, kernel, bias?, mask?]. */
const gruParts = <T>(inputs: readonly T[], attrs: GruAttrs) =>
  ({ bias: attrs.bias ? inputs[3] : null, mask: attrs.masked ? inputs[inputs.length - 1] : null });

const GRU = defineFused({
  kernel: 'gru',
  infer: (inputs: readonly Spec[]) => recordOf(inputs[0], inputs[2], SLOTS.gru),
  compose: composeGru,
  applies: ([xProj], attrs: GruAttrs) => kernelTakes(xProj, attrs),
  run: (gru, inputs, out, attrs) => {
    const { bias, mask } = gruParts(inputs, attrs);
    gru(inputs[0], inputs[1], inputs[2], bias, mask, attrs.resetAfter, attrs.zeroOutputForMask, out);
  },
  backward: {
    kernel: 'gruGrad',
    infer: ([xProj, h0, kernel, ...rest], attrs) =>
      [like(xProj), like(h0), like(kernel), ...(attrs.bias ? [like(rest[0])] : []), ...(attrs.masked ? [null] : [])],
    run: (gruGrad, dy, y, inputs, grads, attrs) => gruGrad(
      dy, y, inputs[1], inputs[2], gruParts(inputs, attrs).mask, attrs.resetAfter, attrs.zeroOutputForMask,
      grads[0], grads[1], grads[2], gruParts(grads, attrs).bias,
    ),
  },
});

const SIMPLE_RNN = defineFused({
  kernel: 'simpleRnn',
  infer: (inputs: readonly Spec[]) => recordOf(inputs[0], inputs[2], SLOTS.simpleRnn),
  compose: composeSimpleRnn,
  applies: ([xProj], attrs: ScanAttrs) => attrs.activation === 'tanh' && xProj.size > 0,
  run: (simpleRnn, [xProj, h0, kernel, mask], out, attrs) => simpleRnn(xProj, h0, kernel, mask ?? null, attrs.zeroOutputForMask, out),
  backward: {
    kernel: 'simpleRnnGrad',
    infer: ([xProj, h0, kernel]) => [like(xProj), like(h0), like(kernel), null],
    run: (simpleRnnGrad, dy, y, [, h0, kernel, mask], [dxProj, dh0, dKernel], attrs) =>
      simpleRnnGrad(dy, y, h0, kernel, mask ?? null, attrs.zeroOutputForMask, dxProj, dh0, dKernel),
  },
});

/**
 * An LSTM layer's recurrence (Keras 3's LSTMCell over time): per step z = xProj_t + h·U, gates
 * i, f, c̃, o in that order (recurrentActivation on i, f, o; activation on c̃), c' = f·c + i·c̃,
 * h' = o·activation(c'). xProj is x·kernel + bias, [B, T, 4U]; h0 and c0 [B, U];
 * recurrentKernel [U, 4U]. Returns every step's output [B, T, U] and the final states.
 * @example
 * const { outputs, h, c } = lstmSequence(xProj, h0, c0, recurrentKernel, { mask });
 */
export function lstmSequence(
  xProj: Tensor, h0: Tensor, c0: Tensor, recurrentKernel: Tensor,
  options: SequenceOptions & { activation?: string; recurrentActivation?: string } = {},
): { outputs: Tensor; h: Tensor; c: Tensor } {
  const mask = options.mask ?? null;
  checkSequence('lstmSequence', 4, xProj, [['h0', h0], ['c0', c0]], recurrentKernel, mask);
  const U = recurrentKernel.shape[0] as number;
  if (xProj.shape[1] === 0) return { outputs: noSteps(xProj, U), h: h0, c: c0 };
  const record = LSTM.apply(mask ? [xProj, h0, c0, recurrentKernel, mask] : [xProj, h0, c0, recurrentKernel], scanAttrs(options));
  return { outputs: outputsOf(record, U), h: finalState(record, 1, U), c: finalState(record, 2, U) };
}

/**
 * A GRU layer's recurrence (Keras 3's GRUCell over time), gates z, r, h̃ in that order. xProj is
 * x·kernel plus the input bias, [B, T, 3U]; h0 [B, U]; recurrentKernel [U, 3U]. With resetAfter
 * (Keras's default), inner = h·U + recurrentBias ([3U], or null) and h̃ = activation(xProj_h +
 * r·inner_h); without it, h̃ = activation(xProj_h + (r·h)·U_h) and recurrentBias must be null.
 * Then h' = z·h + (1 − z)·h̃.
 */
export function gruSequence(
  xProj: Tensor, h0: Tensor, recurrentKernel: Tensor, recurrentBias: Tensor | null,
  options: SequenceOptions & { resetAfter: boolean; activation?: string; recurrentActivation?: string },
): { outputs: Tensor; h: Tensor } {
  const mask = options.mask ?? null;
  checkSequence('gruSequence', 3, xProj, [['h0', h0]], recurrentKernel, mask);
  const U = recurrentKernel.shape[0] as number;
  checkRecurrentBias(recurrentBias, options.resetAfter, xProj, U);
  if (xProj.shape[1] === 0) return { outputs: noSteps(xProj, U), h: h0 };
  const inputs = [xProj, h0, recurrentKernel, ...(recurrentBias ? [recurrentBias] : []), ...(mask ? [mask] : [])];
  const record = GRU.apply(inputs, { ...scanAttrs(options), resetAfter: options.resetAfter, bias: recurrentBias !== null });
  return { outputs: outputsOf(record, U), h: finalState(record, 1, U) };
}

/**
 * A SimpleRNN layer's recurrence (Keras 3's SimpleRNNCell over time): h' = activation(xProj_t +
 * h·U). xProj is x·kernel + bias, [B, T, U]; h0 [B, U]; recurrentKernel [U, U].
 */
export function simpleRnnSequence(
  xProj: Tensor, h0: Tensor, recurrentKernel: Tensor, options: SequenceOptions & { activation?: string } = {},
): { outputs: Tensor; h: Tensor } {
  const mask = options.mask ?? null;
  checkSequence('simpleRnnSequence', 1, xProj, [['h0', h0]], recurrentKernel, mask);
  const U = recurrentKernel.shape[0] as number;
  if (xProj.shape[1] === 0) return { outputs: noSteps(xProj, U), h: h0 };
  const record = SIMPLE_RNN.apply(mask ? [xProj, h0, recurrentKernel, mask] : [xProj, h0, recurrentKernel], scanAttrs(options));
  return { outputs: outputsOf(record, U), h: finalState(record, 1, U) };
}

function checkRecurrentBias(bias: Tensor | null, resetAfter: boolean, xProj: Tensor, U: number): void {
  if (typeof resetAfter !== 'boolean') fail('gruSequence', `resetAfter must be a boolean, got ${JSON.stringify(resetAfter)}`);
  if (bias === null) return;
  if (!resetAfter) fail('gruSequence', 'recurrentBias must be null without resetAfter (the input bias is part of xProj)');
  if (bias.rank !== 1 || bias.shape[0] !== 3 * U) fail('gruSequence', `recurrentBias must have shape [${3 * U}], got ${fmtShape(bias.shape)}`);
  if (bias.dtype !== xProj.dtype) fail('gruSequence', `recurrentBias must have xProj's dtype ${xProj.dtype}, got ${bias.dtype}`);
}
