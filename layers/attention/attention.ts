import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import type { LayerArgs, LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { SeedStream } from '../seed-stream.js';
import { AttentionLayer, type AttentionCallOptions } from './attention-layer.js';
import { causalMask } from './masks.js';
import { dropProbabilities } from './probabilities.js';

export interface AttentionOptions extends LayerArgs {
  /** Learn a scalar that multiplies the scores ('scale', initially 1). */
  useScale?: boolean;
  /** 'dot': query · key; 'concat': sum(tanh(query + key)) times a learned scalar. */
  scoreMode?: 'dot' | 'concat';
  /** The rate at which attention probabilities are dropped in training. */
  dropout?: number;
  seed?: number | null;
}

/** What Keras subtracts from the scores of masked keys (a float16 model would need 65504). */
const MASKED = 1e9;

/**
 * Dot-product attention (keras.layers.Attention, Luong-style), called on [query, value] or
 * [query, value, key] of shapes [batch, Tq, dim], [batch, Tv, dim]: scores query · keyᵀ (or
 * the 'concat' form), a softmax over the keys the value's mask keeps (and the causal mask),
 * probabilities times value; steps the query's mask drops give 0. Weights: 'scale' (a scalar)
 * with useScale, then 'concat_score_weight' (a scalar) with scoreMode 'concat'.
 * @example
 * const att = new kiln.layers.Attention();
 * att.apply([kiln.random.normal([2, 3, 4]), kiln.random.normal([2, 5, 4])]).shape;   // [2, 3, 4]
 */
export class Attention extends AttentionLayer {
  static readonly className: string = 'Attention';
  readonly useScale: boolean;
  readonly scoreMode: 'dot' | 'concat';
  readonly dropout: number;
  scale: Variable | null = null;
  concatScoreWeight: Variable | null = null;
  protected readonly seeds: SeedStream;

  constructor({ useScale = false, scoreMode = 'dot', dropout = 0, seed, ...args }: AttentionOptions = {}) {
    super(args);
    if (typeof useScale !== 'boolean') fail(this.toString(), `useScale must be a boolean, got ${String(useScale)}`);
    if (scoreMode !== 'dot' && scoreMode !== 'concat') fail(this.toString(), `scoreMode must be 'dot' or 'concat', got ${JSON.stringify(scoreMode)}`);
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 1)) fail(this.toString(), `dropout must be a number in [0, 1], got ${String(dropout)}`);
    [this.useScale, this.scoreMode, this.dropout] = [useScale, scoreMode, dropout];
    this.seeds = new SeedStream(this.toString(), seed);
  }

  override build(shapes: Shape[]): void {
    this.checkShapes(this.split(shapes));
    if (this.useScale) this.scale = this.addWeight('scale', [], { initializer: 'ones' });
    if (this.scoreMode === 'concat') this.concatScoreWeight = this.addWeight('concat_score_weight', [], { initializer: 'ones' });
  }

  /** Query and key share their feature size (for the scores), value and key their steps. */
  protected checkShapes([query, value, key]: [Shape, Shape, Shape]): void {
    const all = `query ${fmtShape(query)}, value ${fmtShape(value)}, key ${fmtShape(key)}`;
    if ([query, value, key].some((s) => s.length < 2) || value.length !== key.length || query.length !== key.length) {
      fail(this.toString(), `expects query, value and key of one rank of at least 2, got ${all}`);
    }
    const known = (a: number | null, b: number | null): boolean => a === null || b === null || a === b;
    if (!known(query.at(-1)!, key.at(-1)!)) fail(this.toString(), `query and key must have the same last dimension, got ${all}`);
    if (!known(value.at(-2)!, key.at(-2)!)) fail(this.toString(), `value and key must have the same steps, got ${all}`);
  }

  /** [batch, Tq, Tv] scores of each query step against each key step. */
  protected scores(query: Tensor, key: Tensor): Tensor {
    if (this.scoreMode === 'dot') {
      const s = ops.matmul(query, ops.swapaxes(key, -2, -1));
      return this.scale ? ops.multiply(s, this.scale.value) : s;
    }
    const sum = ops.add(ops.expandDims(query, -2), ops.expandDims(key, -3));
    const t = ops.tanh(this.scale ? ops.multiply(sum, this.scale.value) : sum);
    return ops.multiply(ops.sum(t, -1), this.concatScoreWeight!.value);
  }

  call(inputs: Tensor[], options: AttentionCallOptions = {}): Tensor | Tensor[] {
    const [query, value, key] = this.split(inputs);
    this.checkShapes([query.shape, value.shape, key.shape] as [Shape, Shape, Shape]);
    const [queryMask, valueMask] = options.masks ?? [];
    let scores = this.scores(query, key);
    const keep = this.scoresMask(scores, valueMask ?? null, options.useCausalMask ?? false);
    // Keras subtracts rather than replaces: a query that may attend to nothing keeps its scores' order
    if (keep) scores = ops.where(keep, scores, ops.subtract(scores, MASKED));
    // no keys at all: the weights are empty, and the weighted sum over none is 0
    const weights = scores.shape.at(-1) === 0 ? scores : ops.softmax(scores, -1);
    let out = ops.matmul(options.training ? dropProbabilities(weights, this.dropout, this.seeds) : weights, value);
    if (queryMask) out = ops.where(ops.expandDims(this.checkedMask(queryMask, query, 'query'), -1), out, 0);
    return options.returnAttentionScores ? [out, weights] : out;
  }

  /** The value's mask as [batch, 1, Tv], ANDed with the causal mask [1, Tq, Tv]. */
  private scoresMask(scores: Tensor, valueMask: Tensor | null, causal: boolean): Tensor | null {
    const v = valueMask ? ops.expandDims(this.checkedMask(valueMask, null, 'value', scores.shape.at(-1)!), -2) : null;
    const [tq, tv] = [scores.shape.at(-2)!, scores.shape.at(-1)!];
    // a symbolic call only infers shapes: steps decided at run time have no causal mask to build yet
    const c = causal && tq !== null && tv !== null ? causalMask(tq, tv) : null;
    return v && c ? ops.logicalAnd(v, c) : v ?? c;
  }

  /** A padding mask as bool, [batch, steps] of its input. */
  private checkedMask(mask: Tensor, input: Tensor | null, name: string, steps?: number | null): Tensor {
    const want = input ? input.shape.at(-2)! : steps!;
    if (mask.rank !== 2 || (mask.shape[1] !== null && want !== null && mask.shape[1] !== want)) {
      fail(this.toString(), `the ${name} mask must be [batch, steps] with ${want} steps, got ${fmtShape(mask.shape)}`);
    }
    return mask.dtype === 'bool' ? mask : ops.cast(mask, 'bool');
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), useScale: this.useScale, scoreMode: this.scoreMode, dropout: this.dropout, seed: this.seeds.seed ?? null };
  }

  static fromConfig(config: LayerConfig): Attention {
    return new Attention(optionsFromConfig<AttentionOptions>(config));
  }
}
