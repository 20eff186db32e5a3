/**
 * Rows of layers/attention/. EinsumDense is ONNX's Einsum. MultiHeadAttention and
 * GroupedQueryAttention of sequences are written as ONNX ops (../attention-ops.ts), batch and
 * steps dynamic; in other forms (attentionAxes, outputShape, useGate) their call is traced, which
 * needs fixed steps: kiln's einsum folds [batch, steps] into one axis and unfolds it later, a
 * Reshape with two sizes known only at run time. Attention and AdditiveAttention are traced, with
 * dynamic steps, but not with a causal mask over them, which kiln builds from known steps. Every
 * row takes its inputs' masks. ONNX's own Attention op (opset 23), which onnxruntime-node 1.30
 * runs, is not written: MatMul and Softmax keep Keras's masked softmax at every opset, whose query
 * with no visible key gets zero probabilities.
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
import { headAttention } from '../attention-ops.js';
import { MultiHeadAttention } from '../../layers/attention/multi-head-attention.js';
import type { Value } from '../builder.js';
import { elemType, int, str } from '../proto.js';
import { activate, row, type LayerArgs, type RowEntry } from './row.js';

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

/**
 * Whether the layer is what ../attention-ops.ts writes: sequences [batch, steps, features], the
 * default attention axis and output, no gate, inputs in the layer's dtype.
 */
function writable(layer: HeadAttention, own: readonly Value[]): boolean {
  const mha = layer instanceof MultiHeadAttention ? layer : null;
  const defaults = !mha || ((mha.attentionAxes === null || (mha.attentionAxes.length === 1 && [1, -2].includes(mha.attentionAxes[0]))) && mha.outputShape === null);
  return defaults && !layer.useGate && own.every((v) => v.shape.length === 3 && v.dtype === layer.dtype);
}

/**
 * MultiHeadAttention and GroupedQueryAttention: written as ONNX ops with dynamic steps
 * (../attention-ops.ts); in other forms traced, which needs fixed steps (a clear error otherwise).
 */
function emitHeadAttention(args: LayerArgs<HeadAttention>): string[] {
  const { b, layer, inputs, layout, masks, callArgs } = args;
  const { inputs: own, options } = joinTensorOptions(layout, inputs, callArgs as AttentionCallOptions);
  if (writable(layer, own)) {
    const [query, value, key = value] = own;
    return headAttention(b, {
      layer, query, value, key, masks: masks ?? [], attentionMask: (options.attentionMask as unknown as Value | undefined) ?? null,
      causal: options.useCausalMask ?? false, returnScores: options.returnAttentionScores ?? false,
    });
  }
  if (own.some((v) => v.shape.slice(1, -1).includes(null))) {
    fail('onnx export', `layer '${layer.name}' (${layer.className}) with attentionAxes, outputShape or useGate exports with a dynamic batch but fixed steps: kiln's einsum folds [batch, steps] into one axis and unfolds it, which ONNX's Reshape can do for one size known only at run time, not two. Give the Inputs fixed steps (kiln.Input({ shape: [steps, features] })); got ${own.map((v) => `[${v.shape.map((d) => d ?? 'null').join(', ')}]`).join(' and ')}`);
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
  // ONNX's Einsum keeps every axis the equation names, dynamic ones too; kiln's einsum, traced, reshapes them together
  row(EinsumDense, 'Einsum, Add; then the activation', (args) => {
    const { b, layer, inputs: [x] } = args;
    const input = x.dtype === layer.dtype ? x.name : b.op('Cast', [x.name], { to: int(elemType(layer.dtype)) });
    let y = b.op('Einsum', [input, b.weight(layer.kernel!)], { equation: str(layer.equation) });
    if (layer.bias) y = b.op('Add', [y, b.weight(layer.bias)]);
    return [activate(args, y, layer.activation, layer.dtype)];
  }),
  row(MultiHeadAttention, 'MatMul, Add, Reshape, Transpose, Mul, Softmax, Where; Range, GreaterOrEqual, And for masks (traced with attentionAxes, outputShape or useGate: fixed steps)', emitHeadAttention, takesMasks),
  row(GroupedQueryAttention, 'as MultiHeadAttention, with Expand and Reshape repeating the key and value heads', emitHeadAttention, takesMasks),
  row(Attention, 'MatMul, Mul, Where, Softmax (traced)', emitDotAttention, takesMasks),
  row(AdditiveAttention, 'Unsqueeze, Add, Tanh, ReduceSum, Where, Softmax, MatMul (traced)', emitDotAttention, takesMasks),
];
