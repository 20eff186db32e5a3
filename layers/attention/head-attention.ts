import * as ops from '../../src/ops/index.js';
import { fail } from '../../src/errors.js';
import type { Dim, Shape } from '../../src/shape.js';
import { Tensor } from '../../src/tensor.js';
import { getInitializer, type InitializerId } from '../../src/initializers/index.js';
import { getRegularizer, type RegularizerId } from '../../src/regularizers.js';
import { getConstraint, type ConstraintId } from '../../src/constraints.js';
import type { ActivationId } from '../../src/activations.js';
import type { LayerArgs, LayerConfig } from '../layer.js';
import { kernelBiasConfig } from '../config.js';
import { SeedStream } from '../seed-stream.js';
import { AttentionLayer, type AttentionCallOptions } from './attention-layer.js';
import { EinsumDense } from './einsum-dense.js';
import { attentionMaskFor, expandToScores } from './masks.js';
import { dropProbabilities, maskedSoftmax } from './probabilities.js';

/** The options MultiHeadAttention and GroupedQueryAttention share, with Keras's defaults. */
export interface HeadAttentionOptions extends LayerArgs {
  /** The rate at which attention probabilities are dropped in training. */
  dropout?: number;
  useBias?: boolean;
  /** Multiply the attention output by a sigmoid gate projected from the query, before the output projection. */
  useGate?: boolean;
  /** Each query step attends only to key steps fewer than this many steps away. */
  slidingWindow?: number | null;
  kernelInitializer?: InitializerId;
  biasInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId | null;
  biasRegularizer?: RegularizerId | null;
  activityRegularizer?: RegularizerId | null;
  kernelConstraint?: ConstraintId | null;
  biasConstraint?: ConstraintId | null;
  seed?: number | null;
}

/** Projections that the attention layers apply: a query, key, value, gate and output EinsumDense. */
export interface Projections {
  query: EinsumDense;
  key: EinsumDense;
  gate: EinsumDense | null;
  value: EinsumDense;
  output: EinsumDense;
}

/**
 * Attention with heads, as Keras's MultiHeadAttention computes it: project query, key and value
 * to [.., heads, channels], scores = key · (query / √channels) over the attention axes, a softmax
 * where the combined mask allows, dropout of the probabilities in training, a weighted sum of the
 * values, and the output projection. Subclasses build the projections.
 */
export abstract class HeadAttention extends AttentionLayer {
  readonly dropout: number;
  readonly useBias: boolean;
  readonly useGate: boolean;
  readonly slidingWindow: number | null;
  protected proj: Projections | null = null;
  /** The attention axes of the projected tensors, and the einsum equations over them. */
  protected axes: number[] = [1];
  protected equations = { scores: 'aecd,abcd->acbe', combine: 'acbe,aecd->abcd' };
  private readonly seeds: SeedStream;

  constructor(protected readonly options: HeadAttentionOptions) {
    super(options);
    const { dropout = 0, useBias = true, useGate = false, slidingWindow = null } = options;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 1)) fail(this.toString(), `dropout must be a number in [0, 1], got ${String(dropout)}`);
    if (slidingWindow !== null && !(Number.isSafeInteger(slidingWindow) && slidingWindow > 0)) fail(this.toString(), `slidingWindow must be a positive integer or null, got ${String(slidingWindow)}`);
    for (const [k, v] of [['useBias', useBias], ['useGate', useGate]] as const) if (typeof v !== 'boolean') fail(this.toString(), `${k} must be a boolean, got ${String(v)}`);
    [this.dropout, this.useBias, this.useGate, this.slidingWindow] = [dropout, useBias, useGate, slidingWindow];
    this.seeds = new SeedStream(this.toString(), options.seed);
    for (const id of [options.kernelInitializer, options.biasInitializer]) if (id !== undefined) getInitializer(id);
    for (const id of [options.kernelRegularizer, options.biasRegularizer, options.activityRegularizer]) if (id) getRegularizer(id);
    for (const id of [options.kernelConstraint, options.biasConstraint]) if (id) getConstraint(id);
  }

  /** The channels of the query and key heads: their dot products are scaled by 1/√ of it. */
  protected abstract get scoreChannels(): number;

  /** A projection sublayer with the layer's initializers, regularizers and constraints, named as Keras names it. */
  protected projection(name: string, equation: string, outputShape: Dim[], biasAxes: string, inputShape: Shape, activation?: ActivationId): EinsumDense {
    const o = this.options;
    const dense = this.track(new EinsumDense(equation, outputShape, {
      name, dtype: this.dtype, activation, biasAxes: this.useBias ? biasAxes : null,
      kernelInitializer: o.kernelInitializer ?? 'glorot_uniform', biasInitializer: o.biasInitializer ?? 'zeros',
      kernelRegularizer: o.kernelRegularizer, biasRegularizer: o.biasRegularizer, activityRegularizer: o.activityRegularizer,
      kernelConstraint: o.kernelConstraint, biasConstraint: o.biasConstraint,
    }));
    dense.build(inputShape);
    return dense;
  }

  call(inputs: Tensor[], options: AttentionCallOptions = {}): Tensor | Tensor[] {
    const [query, value, key] = this.split(inputs);
    const p = this.proj!;
    const masks = [options.masks?.[0], options.masks?.[1], inputs.length > 2 ? options.masks?.[2] : null];
    const sources = { query, value, masks, attentionMask: options.attentionMask as Tensor | null | undefined, useCausalMask: options.useCausalMask, slidingWindow: this.slidingWindow };
    const causalOnly = Boolean(options.useCausalMask) && !masks.some(Boolean) && !options.attentionMask && !this.slidingWindow;
    const mask = attentionMaskFor(this.toString(), sources);
    // the projections' activity penalties are this call's: apply would reset them, call does not
    if (query instanceof Tensor) for (const d of Object.values(p)) if (d) d.callLosses = [];
    const gate = p.gate ? p.gate.call(query) : null;
    const [q, k, v] = [p.query.call(query), p.key.call(key), p.value.call(value)];
    const [out, scores] = this.byOp(q, k, v, options)
      ? [this.attendByOp(q, k, v, causalOnly ? null : mask, causalOnly), null]
      : this.attend(q, k, v, mask, options.training ?? false);
    const y = p.output.call(gate ? ops.multiply(out, gate) : out);
    return options.returnAttentionScores ? [y, scores!] : y;
  }

  /**
   * Whether ops.dotProductAttention can compute the call, as Keras routes it: neither dropout in
   * training nor the probabilities wanted, one attention axis ([batch, T, heads, channels]), the
   * value heads as wide as the key's, and at least one key.
   */
  private byOp(q: Tensor, k: Tensor, v: Tensor, options: AttentionCallOptions): boolean {
    const dropping = options.training && this.dropout > 0;
    return !options.returnAttentionScores && !dropping && q.rank === 4 && this.axes.length === 1 && k.shape[3] === v.shape[3] && k.shape[1] !== 0;
  }

  /** The projected key and value with as many heads as the query (GroupedQueryAttention repeats theirs). */
  protected heads(k: Tensor, v: Tensor): [Tensor, Tensor] {
    return [k, v];
  }

  /**
   * Keras's `_compute_attention`: the output in the query's layout, and the probabilities, which
   * dropout thins in training.
   */
  protected attend(q: Tensor, key: Tensor, value: Tensor, mask: Tensor | null, training: boolean): [Tensor, Tensor] {
    const [k, v] = this.heads(key, value);
    const scores = ops.einsum(this.equations.scores, k, ops.multiply(q, 1 / Math.sqrt(this.scoreChannels)));
    const m = mask ? expandToScores(this.toString(), mask, scores.shape, this.axes.length) : null;
    const probs = maskedSoftmax(scores, m, this.axes.length);
    return [ops.einsum(this.equations.combine, training ? dropProbabilities(probs, this.dropout, this.seeds) : probs, v), probs];
  }

  /**
   * attend's output through ops.dotProductAttention, the key and value heads shared by groups
   * of query heads as they are. The op gives a query whose keys are all masked the average of
   * the values, where Keras's masked softmax gives it zero probabilities: such rows are zeroed.
   */
  private attendByOp(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, causal: boolean): Tensor {
    const scale = 1 / Math.sqrt(this.scoreChannels);
    // a symbolic call only infers shapes: steps decided at run time have no causal mask yet
    if (!mask) return ops.dotProductAttention(q, k, v, { scale, isCausal: causal && q.shape[1] !== null && k.shape[1] !== null });
    const m = expandToScores(this.toString(), mask, [q.shape[0], q.shape[2], q.shape[1], k.shape[1]], 1);
    const out = ops.dotProductAttention(q, k, v, { scale, mask: m });
    // [b, 1, t, 1] → [b, t, 1, 1]: whether each query step may attend to anything
    return ops.where(ops.transpose(ops.any(m, -1, true), [0, 2, 1, 3]), out, 0);
  }

  override getConfig(): LayerConfig {
    const o = this.options;
    return {
      ...super.getConfig(),
      dropout: this.dropout,
      useBias: this.useBias,
      useGate: this.useGate,
      slidingWindow: this.slidingWindow,
      ...kernelBiasConfig(o),
      seed: this.seeds.seed ?? null,
    };
  }
}
