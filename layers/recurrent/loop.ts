import * as ops from '../../src/ops/index.js';
import { zeros } from '../../src/creation.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';

/** One step of a recurrence: [batch, features] and the states to the output and the new states. */
export type StepFn = (input: Tensor, states: Tensor[]) => [Tensor, Tensor[]];

/** What a run over a sequence gives: the last output, every step's output, and the final states. */
export interface SequenceResult {
  last: Tensor;
  /** [batch, time, outputSize]: the outputs in the order the steps ran (reversed input when going backwards). */
  outputs: Tensor;
  states: Tensor[];
}

export interface LoopOptions {
  /** [batch, time], true where a step counts; a masked step keeps the states. */
  mask: Tensor | null;
  goBackwards: boolean;
  /** Whether a masked step outputs zeros rather than the previous step's output. */
  zeroOutputForMask: boolean;
  outputSize: number;
}

/**
 * Runs `step` over the time axis of `x` [batch, time, features], as Keras's backend.rnn: a masked
 * step keeps every state and outputs the previous step's output (zeros before the first step), or
 * zeros when zeroOutputForMask. With no steps, the last output is zeros and the states are the
 * initial ones.
 */
export function runSteps(step: StepFn, x: Tensor, initial: Tensor[], options: LoopOptions): SequenceResult {
  const [batch, time] = x.shape as number[];
  const inputs = options.goBackwards ? ops.flip(x, 1) : x;
  const mask = options.mask && (options.goBackwards ? ops.flip(options.mask, 1) : options.mask);
  const steps = time > 0 ? ops.split(inputs, time, 1) : [];
  const keeps = mask && time > 0 ? ops.split(mask, time, 1) : [];
  let states = initial;
  let previous = zeros([batch, options.outputSize], x.dtype);
  const outputs: Tensor[] = [];
  steps.forEach((xt, t) => {
    let [out, next] = step(ops.squeeze(xt, 1), states);
    if (mask) {
      const keep = keeps[t];
      out = ops.where(keep, out, options.zeroOutputForMask ? 0 : previous);
      next = next.map((s, i) => ops.where(keep, s, states[i]));
    }
    outputs.push(out);
    previous = out;
    states = next;
  });
  const all = time > 0 ? ops.stack(outputs, 1) : zeros([batch, 0, options.outputSize], x.dtype);
  return { last: previous, outputs: all, states };
}

/**
 * The mask as the loop reads it: bool [batch, time], checked against the sequence. Keras also
 * takes [batch, time, 1].
 */
export function sequenceMask(who: string, mask: Tensor | null | undefined, x: Tensor): Tensor | null {
  if (mask === null || mask === undefined) return null;
  const m = mask.rank === 3 && mask.shape[2] === 1 ? ops.squeeze(mask, 2) : mask;
  if (m.rank !== 2 || m.shape[0] !== x.shape[0] || m.shape[1] !== x.shape[1]) {
    fail(who, `the mask must be [batch, time] = ${fmtShape(x.shape.slice(0, 2))} for the input ${fmtShape(x.shape)}, got a mask of shape ${fmtShape(mask.shape)}`);
  }
  return m.dtype === 'bool' ? m : ops.notEqual(m, 0);
}
