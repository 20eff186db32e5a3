/**
 * Rows of layers/attention/. Every layer's call is already the right graph of kiln primitives
 * (einsum as Transpose, Reshape and MatMul, softmax, where), so the rows trace it, with the masks
 * of its inputs. The batch stays dynamic; the steps must be fixed for the layers built on einsum
 * (MultiHeadAttention, GroupedQueryAttention) and on expandDims (Attention's concat scores,
 * AdditiveAttention): kiln's einsum folds [batch, steps] into one axis and unfolds it later, a
 * Reshape with two sizes known only at run time, which a trace cannot write. Attention's dot
 * scores take dynamic steps, but not a causal mask over them, which kiln builds from known steps.
 * ONNX's own Attention op (opset 23), which onnxruntime-node 1.30 runs, is not written: the traced
 * form keeps Keras's masked softmax, whose query with no visible key gets zero probabilities.
 */
import { fail } from '../../src/errors.js';
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
import type { Value } from '../builder.js';
import { row, traced, type LayerArgs, type RowEntry } from './row.js';

/**
 * The call traced with its inputs' masks: rows of this family take them, so that a causal mask
 * the call builds and the padding masks end up in one trace.
 */
function traceCall({ layer, inputs, masks, callArgs, layout, trace }: LayerArgs): string[] {
  const given = (masks ?? []).filter((m): m is Value => m !== null);
  const call = (xs: SymbolicTensor[]) => {
    const ts = xs as unknown as Tensor[];
    let k = inputs.length;
    const each = (masks ?? []).map((m) => (m === null ? null : ts[k++]));
    const base = withMask<AttentionCallOptions>({ ...(callArgs as AttentionCallOptions), training: false }, true, each.some((m) => m) ? each : null);
    const joined = joinTensorOptions(layout, ts.slice(0, inputs.length), base);
    return layer.call(joined.inputs, joined.options);
  };
  return trace(call, [...inputs, ...given]);
}

/** MultiHeadAttention and GroupedQueryAttention: fixed steps, or a clear error naming the layer. */
function emitHeadAttention(args: LayerArgs<HeadAttention>): string[] {
  const { layer, inputs, layout } = args;
  const own = joinTensorOptions(layout, inputs, {}).inputs;
  if (own.some((v) => v.shape.slice(1, -1).includes(null))) {
    fail('onnx export', `layer '${layer.name}' (${layer.className}) exports with a dynamic batch but fixed steps: kiln's einsum folds [batch, steps] into one axis and unfolds it, which ONNX's Reshape can do for one size known only at run time, not two. Give the Inputs fixed steps (kiln.Input({ shape: [steps, features] })); got ${own.map((v) => `[${v.shape.map((d) => d ?? 'null').join(', ')}]`).join(' and ')}`);
  }
  return traceCall(args);
}

/** Attention and AdditiveAttention build their causal mask inside the scores: it needs known steps. */
function emitDotAttention(args: LayerArgs<Attention>): string[] {
  const { layer, inputs, callArgs } = args;
  const [query, value] = inputs;
  if ((callArgs as AttentionCallOptions).useCausalMask && (query.shape.at(-2) === null || value.shape.at(-2) === null)) {
    fail('onnx export', `layer '${layer.name}' (${layer.className}) is called with useCausalMask, whose mask kiln builds from the steps of the query and value, and these are dynamic here: give the Inputs fixed steps (kiln.Input({ shape: [steps, features] }))`);
  }
  return traceCall(args);
}

/** Every layer of the family traces itself with its masks (traceCall). */
const takesMasks = (): boolean => true;

export const ATTENTION_ROWS: readonly RowEntry[] = [
  traced(EinsumDense, 'Transpose, Reshape, MatMul, Add; then the activation (traced)'),
  row(MultiHeadAttention, 'EinsumDense\'s ops, Mul, MatMul, Softmax, Where (traced; fixed steps)', emitHeadAttention, takesMasks),
  row(GroupedQueryAttention, 'as MultiHeadAttention, with Expand and Reshape repeating the key and value heads (traced; fixed steps)', emitHeadAttention, takesMasks),
  row(Attention, 'MatMul, Mul, Where, Softmax (traced)', emitDotAttention, takesMasks),
  row(AdditiveAttention, 'Unsqueeze, Add, Tanh, ReduceSum, Where, Softmax, MatMul (traced)', emitDotAttention, takesMasks),
];
