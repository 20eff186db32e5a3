import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { HeadAttention, type HeadAttentionOptions } from './head-attention.js';

const positive = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;

/**
 * Grouped-query attention (keras.layers.GroupedQueryAttention): `numQueryHeads` query heads share
 * `numKeyValueHeads` key and value heads, each serving numQueryHeads / numKeyValueHeads query
 * heads in turn. Called on [query, value] or [query, value, key] of shapes [batch, T, dim] and
 * [batch, S, dim]. Weights, in Keras's order: query/kernel [dim, numQueryHeads, headDim],
 * query/bias, key/kernel [dim, numKeyValueHeads, headDim], key/bias, (gate/… with useGate),
 * value/kernel, value/bias, attention_output/kernel [numQueryHeads, headDim, dim] and its bias.
 * @example
 * const gqa = new kiln.layers.GroupedQueryAttention(8, 4, 2);
 * const x = kiln.random.normal([2, 6, 16]);
 * gqa.apply([x, x], { useCausalMask: true }).shape;   // [2, 6, 16]
 */
export class GroupedQueryAttention extends HeadAttention {
  static readonly className = 'GroupedQueryAttention';
  readonly headDim: number;
  readonly numQueryHeads: number;
  readonly numKeyValueHeads: number;

  constructor(headDim: number, numQueryHeads: number, numKeyValueHeads: number, options: HeadAttentionOptions = {}) {
    super(options);
    for (const [k, v] of [['headDim', headDim], ['numQueryHeads', numQueryHeads], ['numKeyValueHeads', numKeyValueHeads]] as const) {
      if (!positive(v)) fail(this.toString(), `${k} must be a positive integer, got ${String(v)}`);
    }
    if (numQueryHeads % numKeyValueHeads !== 0) {
      fail(this.toString(), `numQueryHeads must be a multiple of numKeyValueHeads: got numQueryHeads ${numQueryHeads}, numKeyValueHeads ${numKeyValueHeads}`);
    }
    [this.headDim, this.numQueryHeads, this.numKeyValueHeads] = [headDim, numQueryHeads, numKeyValueHeads];
  }

  protected get scoreChannels(): number {
    return this.headDim;
  }

  override build(shapes: Shape[]): void {
    const [query, value, key] = this.split(shapes);
    const all = `query ${fmtShape(query)}, value ${fmtShape(value)}, key ${fmtShape(key)}`;
    if ([query, value, key].some((s) => s.length !== 3)) fail(this.toString(), `expects query, value and key of rank 3 [batch, steps, features], got ${all}`);
    if (value[1] !== key[1]) fail(this.toString(), `value and key must have the same steps, got ${all}`);
    if (query[2] === null || query[2] !== value[2]) fail(this.toString(), `query and value must have the same known last dimension, got ${all}`);
    const [n, kv, h] = [this.numQueryHeads, this.numKeyValueHeads, this.headDim];
    this.proj = {
      query: this.projection('query', 'bqm,muh->bquh', [null, n, h], 'uh', query),
      key: this.projection('key', 'bkm,mvh->bkvh', [null, kv, h], 'vh', key),
      gate: this.useGate ? this.projection('gate', 'bqm,muh->bquh', [null, n, h], 'uh', query, 'sigmoid') : null,
      value: this.projection('value', 'bkm,mvh->bkvh', [null, kv, h], 'vh', value),
      output: this.projection('attention_output', 'bquh,uhm->bqm', [null, query[2]], 'm', [null, null, n, h]),
    };
  }

  /** Each key and value head repeated for the query heads it serves: head j serves query heads j·r … j·r + r - 1. */
  protected override heads(k: Tensor, v: Tensor): [Tensor, Tensor] {
    const r = this.numQueryHeads / this.numKeyValueHeads;
    return r === 1 ? [k, v] : [ops.repeat(k, r, 2), ops.repeat(v, r, 2)];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), headDim: this.headDim, numQueryHeads: this.numQueryHeads, numKeyValueHeads: this.numKeyValueHeads };
  }

  static fromConfig(config: LayerConfig): GroupedQueryAttention {
    const { headDim, numQueryHeads, numKeyValueHeads, ...rest } = config;
    return new GroupedQueryAttention(headDim as number, numQueryHeads as number, numKeyValueHeads as number, optionsFromConfig<HeadAttentionOptions>(rest as LayerConfig));
  }
}
