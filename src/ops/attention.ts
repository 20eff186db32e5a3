/**
 * keras.ops.dot_product_attention: the operands are checked here, before anything runs, for
 * eager and symbolic tensors alike; the computation is src/fused/attention.ts's.
 */
import { fail, fmtShape } from '../errors.js';
import { isFloat } from '../dtype.js';
import type { Dim, Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { cast, resultType } from './select.js';
import { attention } from '../fused/attention.js';

const OP = 'dotProductAttention';

export interface DotProductAttentionOptions {
  /** Added to the logits before the softmax; broadcastable to [B, N, T, S]. */
  bias?: TensorLike | null;
  /**
   * Which logits take part (true) and which do not (false), broadcastable to [B, N, T, S]; a
   * non-bool mask means `!= 0`. For an additive mask use `bias`.
   */
  mask?: TensorLike | null;
  /** Multiplies the logits q·k (default 1 / sqrt(H)). */
  scale?: number | null;
  /** Query i attends to keys j <= i only (numpy's tril over [T, S], also when T ≠ S). */
  isCausal?: boolean;
}

/** Whether `shape` broadcasts to `target` (dims right-aligned, unknown dims allowed). */
function broadcastsTo(shape: Shape, target: readonly Dim[]): boolean {
  const lead = target.length - shape.length;
  return lead >= 0 && shape.every((d, i) => d === 1 || d === null || target[lead + i] === null || d === target[lead + i]);
}

function operand4d(name: string, x: TensorLike): Tensor {
  const t = asTensor(x, OP);
  if (t.rank !== 4) fail(OP, `${name} must have rank 4 ([B, ${name === 'query' ? 'T, N' : 'S, K'}, H]), got shape ${fmtShape(t.shape)}`);
  return t;
}

function checkShapes(q: Tensor, k: Tensor, v: Tensor): void {
  const differ = (a: Dim, b: Dim) => a !== null && b !== null && a !== b;
  const shapes = `query ${fmtShape(q.shape)}, key ${fmtShape(k.shape)}, value ${fmtShape(v.shape)}`;
  if (k.shape.some((d, i) => differ(d, v.shape[i]))) fail(OP, `key and value must have the same shape [B, S, K, H], got ${shapes}`);
  if (differ(q.shape[0], k.shape[0])) fail(OP, `query and key must have the same batch size B, got ${shapes}`);
  if (differ(q.shape[3], k.shape[3])) fail(OP, `query and key must have the same head size H, got ${shapes}`);
  const [N, K] = [q.shape[2], k.shape[2]];
  if (N !== null && K !== null && (K === 0 || N % K !== 0)) {
    fail(OP, `query's heads N must be a multiple of key's heads K (grouped-query attention), got N = ${N} and K = ${K}: ${shapes}`);
  }
}

/**
 * Scaled dot-product attention (keras.ops.dot_product_attention): `softmax(q·kᵀ · scale + bias)
 * · v` per batch and head, query [B, T, N, H], key and value [B, S, K, H], result [B, T, N, H].
 * With K < N heads in key and value, query head n uses key head floor(n / (N / K)) (grouped-query
 * attention; K = 1 is multi-query). Masked logits (mask false, or j > i when causal) are set
 * to -0.7 · 3.38953e38 as Keras does, so a query whose keys are all masked gets the plain
 * average of all S values (not NaN), in value and gradient alike. Integer operands compute in
 * float32. Keras's flashAttention and attnLogitsSoftCap (JAX on TPU only) are not offered.
 * @example
 * const q = kiln.random.normal([2, 4, 8, 16]);
 * const kv = kiln.random.normal([2, 6, 8, 16]);
 * kiln.ops.dotProductAttention(q, kv, kv).shape;   // [2, 4, 8, 16]
 */
export function dotProductAttention(query: TensorLike, key: TensorLike, value: TensorLike, options: DotProductAttentionOptions = {}): Tensor {
  if (options === null || typeof options !== 'object') fail(OP, `options must be an object, got ${JSON.stringify(options)}`);
  const { bias = null, mask = null, scale = null, isCausal = false } = options;
  let [q, k, v] = [operand4d('query', query), operand4d('key', key), operand4d('value', value)];
  checkShapes(q, k, v);
  let dtype = resultType(q.dtype, k.dtype, v.dtype);
  if (!isFloat(dtype)) dtype = 'float32';
  [q, k, v] = [q, k, v].map((t) => (t.dtype === dtype ? t : cast(t, dtype)));
  if (typeof isCausal !== 'boolean') fail(OP, `isCausal must be a boolean, got ${JSON.stringify(isCausal)}`);
  const H = k.shape[3];
  if (scale !== null && (typeof scale !== 'number' || !Number.isFinite(scale))) fail(OP, `scale must be a finite number or null, got ${typeof scale === 'number' ? scale : JSON.stringify(scale)}`);
  if (scale === null && H === null) fail(OP, `scale must be given when the head size H is unknown, got key ${fmtShape(k.shape)}`);
  const [B, T, N] = q.shape;
  const S = k.shape[1];
  if (isCausal && (T === null || S === null)) fail(OP, `isCausal needs known lengths T and S, got query ${fmtShape(q.shape)} and key ${fmtShape(k.shape)}`);
  const logits = [B, N, T, S];
  const broadcastOperand = (name: string, x: TensorLike, as: Tensor['dtype']): Tensor => {
    const t = asTensor(x, OP, as);
    if (!broadcastsTo(t.shape, logits)) fail(OP, `${name} must broadcast to the logits' shape [B, N, T, S] = ${fmtShape(logits)}, got shape ${fmtShape(t.shape)}`);
    return t.dtype === as ? t : cast(t, as);
  };
  const inputs = [q, k, v];
  if (bias !== null) inputs.push(broadcastOperand('bias', bias, dtype));
  if (mask !== null) inputs.push(broadcastOperand('mask', mask, 'bool'));
  return attention(inputs, { scale: scale ?? 1 / Math.sqrt(H as number), causal: isCausal, bias: bias !== null, mask: mask !== null });
}
