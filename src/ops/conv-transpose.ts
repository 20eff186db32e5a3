/**
 * convTranspose's sizes, as Keras computes them (its JAX backend's padding rules, the ones its
 * other backends are made to agree with), and the zero insertion that turns the transposed
 * convolution into a stride-1 convolution the fused conv runs.
 */
import { ENGINE } from '../engine.js';
import { fail } from '../errors.js';
import type { Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { ConvPlan } from '../fused/conv.js';
import { PAD, SLICE, reshape } from './movement.js';
import type { Resolved } from './conv-options.js';

/**
 * Per spatial axis, the output's size (null where the input's is unknown) and the stride-1
 * convolution over the zero-inserted input that computes it. With window w = (K - 1)·dilation
 * + 1 and stride s, 'valid' pads w - 1 before and w - 1 + outputPadding after (outputPadding
 * inferred as max(w, s) - w); 'same' pads s + w - 2 in all (w + w % 2 - 2 + outputPadding
 * when given), the larger half before but at most w - 1.
 */
export function transposePlan(
  op: string, S: readonly Dim[], K: readonly number[], o: Resolved, outputPadding: readonly number[] | null, shapes: string,
): { sizes: Dim[]; conv: ConvPlan } {
  const before: number[] = [];
  const after: number[] = [];
  const sizes = S.map((size, i): Dim => {
    const [s, window] = [o.strides[i], (K[i] - 1) * o.dilations[i] + 1];
    const given = outputPadding?.[i];
    if (o.padding === 'valid') {
      before.push(window - 1);
      after.push(window - 1 + (given ?? Math.max(window, s) - window));
    } else {
      const total = given === undefined ? s + window - 2 : window + (window % 2) - 2 + given;
      before.push(Math.min(Math.ceil(total / 2), window - 1));
      after.push(total - before[i]);
    }
    if (size === null) return null;
    if (size === 0) fail(op, `the inputs' spatial axes must not be empty, got ${shapes}`);
    const out = (size - 1) * s + before[i] + after[i] - window + 2;
    if (out <= 0) fail(op, `the output would have size ${out} on spatial axis ${i}: ${shapes}, strides ${s}, padding '${o.padding}', outputPadding ${given}`);
    return out;
  });
  const ones = S.map(() => 1);
  return { sizes, conv: { strides: ones, dilations: o.dilations, padsBefore: before, padsAfter: after, groups: 1 } };
}

/**
 * x [N, ...S, C] with stride - 1 zeros between neighbours along each spatial axis:
 * [N, ...(S - 1)·stride + 1, C]. Each axis gets a new one of size 1 padded to the stride,
 * merged into it, and the zeros after the last element cut.
 */
export function dilateSpatial(x: Tensor, strides: readonly number[]): Tensor {
  let t = x;
  strides.forEach((s, i) => {
    if (s === 1) return;
    const axis = i + 1;
    const n = t.shape[axis] as number;
    const split = [...t.shape.slice(0, axis + 1), 1, ...t.shape.slice(axis + 1)];
    const pads = split.map((_, k): [number, number] => (k === axis + 1 ? [0, s - 1] : [0, 0]));
    const spread = reshape(ENGINE.run(PAD, [reshape(t, split)], { pads, value: 0 }), [...t.shape.slice(0, axis), n * s, ...t.shape.slice(axis + 1)]);
    const size = spread.shape.map((_, k) => (k === axis ? (n - 1) * s + 1 : -1));
    t = ENGINE.run(SLICE, [spread], { begin: size.map(() => 0), size, step: size.map(() => 1) });
  });
  return t;
}
