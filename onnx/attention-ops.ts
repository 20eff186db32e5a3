/**
 * MultiHeadAttention and GroupedQueryAttention written as ONNX ops directly, for the rows of
 * layers/attention.ts: the projections as MatMul and Reshape with 0 (copy) for batch and steps, so
 * both stay dynamic, which the traced einsum cannot do; the masks (padding, attentionMask, causal,
 * sliding window) built at run time and ANDed; Keras's masked softmax, whose query with no visible
 * key gets zero probabilities.
 */
import type { Variable } from '../src/variable.js';
import type { HeadAttention } from '../layers/attention/head-attention.js';
import type { GraphBuilder, Value } from './builder.js';
import { elemType, int, ints } from './proto.js';

/** What the writer needs of the call: its inputs (query, value, key), their masks, and its options. */
export interface HeadCall {
  layer: HeadAttention;
  query: Value;
  value: Value;
  key: Value;
  /** Padding masks, [batch, steps] each: query, value, key. */
  masks: readonly (Value | null)[];
  attentionMask: Value | null;
  causal: boolean;
  returnScores: boolean;
}

/** The layer's weight `<layer>/<path>`, or null. */
function weightOf(layer: HeadAttention, path: string): Variable | null {
  return layer.weights.find((v) => v.name === `${layer.name}/${path}`) ?? null;
}

/** x [B, T, D] through `<name>/kernel` [D, H, C] (and its bias [H, C]) as [B, H, T, C]. */
function project(b: GraphBuilder, layer: HeadAttention, name: string, x: string): { heads: string; h: number; c: number } {
  const kernel = weightOf(layer, `${name}/kernel`)!;
  const [d, h, c] = kernel.shape;
  let y = b.op('MatMul', [x, b.weight(kernel, { suffix: 'onnx_2d', dims: [d, h * c] })]);
  const bias = weightOf(layer, `${name}/bias`);
  if (bias) y = b.op('Add', [y, b.weight(bias, { suffix: 'onnx_flat', dims: [h * c] })]);
  const split = b.reshape(y, [0, 0, h, c]);
  return { heads: b.op('Transpose', [split], { perm: ints([0, 2, 1, 3]) }), h, c };
}

/** Axis 1's size at run time, as a scalar. */
const steps = (b: GraphBuilder, x: string): string => b.op('Gather', [b.op('Shape', [x]), b.scalar('int64', 1, 'axis')], { axis: int(0) });

/** [0, n) as a column [n, 1] (axis 1) or a row [1, n] (axis 0). */
const positions = (b: GraphBuilder, n: string, axis: number): string =>
  b.unsqueeze(b.op('Range', [b.scalar('int64', 0, 'zero'), n, b.scalar('int64', 1, 'one')]), [axis]);

const asBool = (b: GraphBuilder, m: Value): string => (m.dtype === 'bool' ? m.name : b.op('Cast', [m.name], { to: int(elemType('bool')) }));

/**
 * The combined mask as Keras's _compute_attention_mask, [B or 1, T, S], or null: the query's mask
 * [B, T, 1], the value's and key's [B, 1, S], the causal mask and the window [1, T, S] (query step
 * i sees key step j when j <= i, and when |i − j| < window), the attentionMask.
 */
function combinedMask(b: GraphBuilder, c: HeadCall): string | null {
  const parts: string[] = [];
  const [queryMask, valueMask, keyMask] = c.masks;
  if (queryMask) parts.push(b.unsqueeze(asBool(b, queryMask), [2]));
  for (const m of [valueMask, keyMask]) if (m) parts.push(b.unsqueeze(asBool(b, m), [1]));
  const window = c.layer.slidingWindow;
  if (c.causal || window) {
    const i = positions(b, steps(b, c.query.name), 1);
    const j = positions(b, steps(b, c.value.name), 0);
    if (c.causal) parts.push(b.unsqueeze(b.op('GreaterOrEqual', [i, j]), [0]));
    if (window) parts.push(b.unsqueeze(b.op('Less', [b.op('Abs', [b.op('Sub', [i, j])]), b.scalar('int64', window, 'window')]), [0]));
  }
  if (c.attentionMask) parts.push(asBool(b, c.attentionMask));
  return parts.length ? parts.reduce((x, y) => b.op('And', [x, y])) : null;
}

/** Each key or value head repeated for the query heads it serves ([B, Hkv, S, C] → [B, H, S, C], head j for j·r … j·r + r − 1). */
function repeatHeads(b: GraphBuilder, x: string, kv: number, heads: number, c: number): string {
  if (kv === heads) return x;
  const spread = b.op('Expand', [b.unsqueeze(x, [2]), b.int64s([1, 1, heads / kv, 1, 1])]);
  return b.reshape(spread, [0, heads, -1, c]);
}

/** The layer's output [B, T, O], and with returnScores the probabilities [B, H, T, S]. */
export function headAttention(b: GraphBuilder, c: HeadCall): string[] {
  const { layer } = c;
  const q = project(b, layer, 'query', c.query.name);
  const k = project(b, layer, 'key', c.key.name);
  const v = project(b, layer, 'value', c.value.name);
  const keys = repeatHeads(b, k.heads, k.h, q.h, k.c);
  const values = repeatHeads(b, v.heads, v.h, q.h, v.c);
  const dtype = c.query.dtype;
  // as Keras: the query scaled before the product
  const scaled = b.op('Mul', [q.heads, b.scalar(dtype, 1 / Math.sqrt(q.c), 'scale')]);
  const scores = b.op('MatMul', [scaled, b.op('Transpose', [keys], { perm: ints([0, 1, 3, 2]) })]);
  const mask = combinedMask(b, c);
  let probs: string;
  if (mask) {
    const keep = b.unsqueeze(mask, [1]);
    const soft = b.op('Softmax', [b.op('Where', [keep, scores, b.scalar(dtype, -1e9, 'masked')])], { axis: int(-1) });
    probs = b.op('Where', [keep, soft, b.scalar(dtype, 0, 'zero')]);
  } else {
    probs = b.op('Softmax', [scores], { axis: int(-1) });
  }
  const heads = b.op('Transpose', [b.op('MatMul', [probs, values])], { perm: ints([0, 2, 1, 3]) });
  const out = weightOf(layer, 'attention_output/kernel')!;
  const [h, cv, o] = out.shape;
  let y = b.op('MatMul', [b.reshape(heads, [0, 0, h * cv]), b.weight(out, { suffix: 'onnx_2d', dims: [h * cv, o] })]);
  const bias = weightOf(layer, 'attention_output/bias');
  if (bias) y = b.op('Add', [y, b.weight(bias)]);
  return c.returnScores ? [y, probs] : [y];
}
