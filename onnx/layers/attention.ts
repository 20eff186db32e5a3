/**
 * Rows of layers/attention/. Every layer's call is already the right graph of kiln primitives
 * (einsum as Transpose, Reshape and MatMul, softmax, where), so the rows trace it; the steps of the
 * query and value stay dynamic. What a trace cannot write is a mask of the steps that exist only at
 * run time: kiln builds the causal mask and the sliding window from known step counts, so where
 * the steps are dynamic the row writes them in ONNX (Range, GreaterOrEqual) and hands them to the
 * call as its attentionMask, ANDed with the caller's. ONNX's own Attention op (opset 23) is not
 * used: onnxruntime-node 1.30 has no CPU kernel for it (docs/onnx.md).
 */
import { fail } from '../../src/errors.js';
import * as ops from '../../src/ops/index.js';
import type { SymbolicTensor } from '../../src/symbolic.js';
import type { Tensor } from '../../src/tensor.js';
import { joinTensorOptions } from '../../layers/call-options.js';
import { withMask } from '../../layers/mask.js';
import { AdditiveAttention } from '../../layers/attention/additive-attention.js';
import { Attention } from '../../layers/attention/attention.js';
import type { AttentionCallOptions } from '../../layers/attention/attention-layer.js';
import { EinsumDense } from '../../layers/attention/einsum-dense.js';
import { GroupedQueryAttention } from '../../layers/attention/grouped-query-attention.js';
import type { HeadAttention } from '../../layers/attention/head-attention.js';
import { MultiHeadAttention } from '../../layers/attention/multi-head-attention.js';
import type { GraphBuilder, Value } from '../builder.js';
import { int } from '../proto.js';
import { row, traced, type LayerArgs, type RowEntry } from './row.js';

/** Axis 1's size of `x` at run time, as a scalar. */
const steps = (b: GraphBuilder, x: string): string => b.op('Gather', [b.op('Shape', [x]), b.scalar('int64', 1, 'axis')], { axis: int(0) });

/** [0, n) as a column [n, 1] or a row [1, n]. */
const positions = (b: GraphBuilder, n: string, axis: number): string =>
  b.unsqueeze(b.op('Range', [b.scalar('int64', 0, 'zero'), n, b.scalar('int64', 1, 'one')]), [axis]);

/**
 * Bool [1, T, S] from the query's and value's steps: query step i sees key step j when j <= i
 * (causal, counted from the start as Keras does) and |i − j| < window.
 */
function bandMask(b: GraphBuilder, query: Value, value: Value, causal: boolean, window: number | null): Value {
  const i = positions(b, steps(b, query.name), 1);
  const j = positions(b, steps(b, value.name), 0);
  const parts: string[] = [];
  if (causal) parts.push(b.op('GreaterOrEqual', [i, j]));
  if (window) parts.push(b.op('Less', [b.op('Abs', [b.op('Sub', [i, j])]), b.scalar('int64', window, 'window')]));
  const band = parts.reduce((x, y) => b.op('And', [x, y]));
  return { name: b.unsqueeze(band, [0]), dtype: 'bool', shape: [1, null, null] };
}

/**
 * The call traced with its inputs' masks (rows of this family take them, so that nothing builds a
 * mask the trace would drop) and with `band`, when given, ANDed into its attentionMask in place of
 * the causal mask and window the call would build.
 */
function traceCall({ layer, inputs, masks, callArgs, layout, trace }: LayerArgs, band: Value | null): string[] {
  const given = (masks ?? []).filter((m): m is Value => m !== null);
  const call = (xs: SymbolicTensor[]) => {
    const ts = xs as unknown as Tensor[];
    let k = inputs.length + (band ? 1 : 0);
    const each = (masks ?? []).map((m) => (m === null ? null : ts[k++]));
    const base = withMask<AttentionCallOptions>({ ...(callArgs as AttentionCallOptions), training: false }, true, each.some((m) => m) ? each : null);
    const joined = joinTensorOptions(layout, ts.slice(0, inputs.length), base);
    let o = joined.options;
    if (band) {
      const user = o.attentionMask as Tensor | null | undefined;
      const b = ts[inputs.length];
      o = { ...o, attentionMask: user ? ops.logicalAnd(user.dtype === 'bool' ? user : ops.cast(user, 'bool'), b) : b, useCausalMask: false };
    }
    return layer.call(joined.inputs, o);
  };
  return trace(call, [...inputs, ...(band ? [band] : []), ...given]);
}

/** MultiHeadAttention and GroupedQueryAttention: the band mask written in ONNX where the steps are dynamic. */
function emitHeadAttention(args: LayerArgs<HeadAttention>): string[] {
  const { b, layer, inputs, callArgs, layout } = args;
  const options = callArgs as AttentionCallOptions;
  const [query, value] = joinTensorOptions(layout, inputs, {}).inputs;
  const dynamic = query.shape[1] === null || value.shape[1] === null;
  const wantsBand = Boolean(options.useCausalMask || layer.slidingWindow);
  // other ranks: the layer's own call refuses a causal mask or a window
  const band = dynamic && wantsBand && query.shape.length === 3 && value.shape.length === 3 ? bandMask(b, query, value, options.useCausalMask ?? false, layer.slidingWindow) : null;
  return traceCall(args, band);
}

/** Attention and AdditiveAttention build their causal mask inside the scores: it needs known steps. */
function emitDotAttention(args: LayerArgs<Attention>): string[] {
  const { layer, inputs, callArgs } = args;
  const [query, value] = inputs;
  if ((callArgs as AttentionCallOptions).useCausalMask && (query.shape.at(-2) === null || value.shape.at(-2) === null)) {
    fail('onnx export', `layer '${layer.name}' (${layer.className}) is called with useCausalMask, whose mask kiln builds from the steps of the query and value, and these are dynamic here: give the Inputs fixed steps (kiln.Input({ shape: [steps, features] })), or use MultiHeadAttention, whose causal mask exports with dynamic steps`);
  }
  return traceCall(args, null);
}

/** Every layer of the family traces itself with its masks (traceCall). */
const takesMasks = (): boolean => true;

export const ATTENTION_ROWS: readonly RowEntry[] = [
  traced(EinsumDense, 'Transpose, Reshape, MatMul, Add; then the activation (traced)'),
  row(MultiHeadAttention, 'EinsumDense\'s ops, Mul, MatMul, Softmax, Where (traced); Range, GreaterOrEqual for a causal mask over dynamic steps', emitHeadAttention, takesMasks),
  row(GroupedQueryAttention, 'as MultiHeadAttention, with Expand and Reshape repeating the key and value heads (traced)', emitHeadAttention, takesMasks),
  row(Attention, 'MatMul, Mul, Where, Softmax (traced)', emitDotAttention, takesMasks),
  row(AdditiveAttention, 'Unsqueeze, Add, Tanh, ReduceSum, Where, Softmax, MatMul (traced)', emitDotAttention, takesMasks),
];
