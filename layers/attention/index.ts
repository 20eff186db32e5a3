/** Attention layers: dense attention over sequences, with heads or without, and EinsumDense, their projection. */
import { registerLayer } from '../registry.js';
import { EinsumDense } from './einsum-dense.js';
import { MultiHeadAttention } from './multi-head-attention.js';
import { GroupedQueryAttention } from './grouped-query-attention.js';
import { Attention } from './attention.js';
import { AdditiveAttention } from './additive-attention.js';

export { EinsumDense, type EinsumDenseOptions } from './einsum-dense.js';
export { AttentionLayer, type AttentionCallOptions } from './attention-layer.js';
export { HeadAttention, type HeadAttentionOptions } from './head-attention.js';
export { MultiHeadAttention, type MultiHeadAttentionOptions } from './multi-head-attention.js';
export { GroupedQueryAttention } from './grouped-query-attention.js';
export { Attention, type AttentionOptions } from './attention.js';
export { AdditiveAttention, type AdditiveAttentionOptions } from './additive-attention.js';

for (const cls of [EinsumDense, MultiHeadAttention, GroupedQueryAttention, Attention, AdditiveAttention]) registerLayer(cls);
