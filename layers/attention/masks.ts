/**
 * The masks of attention, as Keras 3 combines them: which keys each query may attend to, from the
 * inputs' padding masks, the caller's attentionMask, a causal mask and a sliding window, all
 * ANDed into one boolean mask broadcast over the scores.
 */
import * as ops from '../../src/ops/index.js';
import { range } from '../../src/creation.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Dim, Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';

/** What masks an attention call has: one padding mask per input (null where none), and the call's options. */
export interface MaskSources {
  query: Tensor;
  value: Tensor;
  /** The inputs' masks, [batch, steps] each: query, value, key. */
  masks: readonly (Tensor | null | undefined)[];
  attentionMask?: Tensor | null;
  useCausalMask?: boolean;
  slidingWindow?: number | null;
}

/**
 * The combined mask, [batch or 1, T, S] where T and S are the query's and value's steps (or the
 * caller's attentionMask's shape when that is all there is), or null when nothing is masked.
 * Keras's `_compute_attention_mask`: query mask as [B, T, 1], value and key masks as [B, 1, S],
 * the causal mask and the window as [1, T, S], ANDed, then ANDed with the attentionMask.
 */
export function attentionMaskFor(who: string, s: MaskSources): Tensor | null {
  const [queryMask, valueMask, keyMask] = s.masks;
  const parts: Tensor[] = [];
  const derived = Boolean(queryMask || valueMask || keyMask || s.useCausalMask || s.slidingWindow);
  // Keras writes these masks for sequences: [batch, steps, features] inputs
  if (derived && (s.query.rank !== 3 || s.value.rank !== 3)) {
    fail(who, `input masks, useCausalMask and slidingWindow need query and value of rank 3 [batch, steps, features], got ${fmtShape(s.query.shape)} and ${fmtShape(s.value.shape)}; pass an attentionMask instead`);
  }
  if (queryMask) parts.push(ops.expandDims(asBool(who, 'the query', queryMask, s.query.shape), -1));
  if (valueMask) parts.push(ops.expandDims(asBool(who, 'the value', valueMask, s.value.shape), -2));
  if (keyMask) parts.push(ops.expandDims(asBool(who, 'the key', keyMask, s.value.shape), -2));
  const [t, src] = [s.query.shape[1], s.value.shape[1]];
  // a symbolic call only infers shapes, and steps decided at run time have no mask to build yet
  if (s.useCausalMask && t !== null && src !== null) parts.push(causalMask(t, src));
  if (s.slidingWindow && t !== null && src !== null) parts.push(windowMask(t, src, s.slidingWindow));
  const auto = parts.length ? parts.reduce((a, b) => ops.logicalAnd(a, b)) : null;
  const given = s.attentionMask ? (s.attentionMask.dtype === 'bool' ? s.attentionMask : ops.cast(s.attentionMask, 'bool')) : null;
  if (given && auto) return ops.logicalAnd(given, auto);
  return given ?? auto;
}

/** A padding mask as bool, checked to be [batch, steps] of its input. */
function asBool(who: string, input: string, mask: Tensor, shape: Shape): Tensor {
  const fits = mask.rank === 2 && [0, 1].every((i) => mask.shape[i] === null || shape[i] === null || mask.shape[i] === shape[i]);
  if (!fits) fail(who, `the mask of ${input} must be [batch, steps] of its input ${fmtShape(shape)}, got ${fmtShape(mask.shape)}`);
  return mask.dtype === 'bool' ? mask : ops.cast(mask, 'bool');
}

/** [1, T, S]: query step i attends to key steps j <= i (Keras counts both from the start). */
export function causalMask(t: number, s: number): Tensor {
  return ops.greaterEqual(ops.reshape(range(t, undefined, 1, 'int32'), [1, t, 1]), ops.reshape(range(s, undefined, 1, 'int32'), [1, 1, s]));
}

/** [1, T, S]: |i - j| < window, the band Keras's slidingWindow keeps on either side. */
function windowMask(t: number, s: number, window: number): Tensor {
  const gap = ops.subtract(ops.reshape(range(t, undefined, 1, 'int32'), [1, t, 1]), ops.reshape(range(s, undefined, 1, 'int32'), [1, 1, s]));
  return ops.less(ops.abs(gap), window);
}

/**
 * `mask` with size-1 axes inserted before its last `2·attentionAxes` axes (where the heads and
 * the batch-like axes of the scores sit) until it has the scores' rank, checked to broadcast.
 */
export function expandToScores(who: string, mask: Tensor, scores: Shape, attentionAxes: number): Tensor {
  let m = mask;
  if (m.rank > scores.length) fail(who, `attentionMask has rank ${m.rank}, above the scores' ${scores.length} (scores ${fmtShape(scores)}, mask ${fmtShape(mask.shape)})`);
  while (m.rank < scores.length) m = ops.expandDims(m, -2 * attentionAxes - 1);
  const fits = m.shape.every((d, i) => d === 1 || d === null || scores[i] === null || d === scores[i]);
  if (!fits) fail(who, `attentionMask ${fmtShape(mask.shape)} does not broadcast to the attention scores ${fmtShape(scores)}: expected ${fmtShape(expectedMask(scores, attentionAxes))}`);
  return m;
}

/** The mask shape a caller would pass: the scores' shape without the heads axis. */
function expectedMask(scores: Shape, attentionAxes: number): Dim[] {
  const heads = scores.length - 2 * attentionAxes - 1;
  return scores.filter((_, i) => i !== heads);
}
