import { fail, fmtShape } from '../../src/errors.js';
import type { Dim, Shape } from '../../src/shape.js';
import type { LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { HeadAttention, type HeadAttentionOptions } from './head-attention.js';
import { attentionEquations, projection } from './equations.js';

export interface MultiHeadAttentionOptions extends HeadAttentionOptions {
  /** The channels of each value head; keyDim when absent. */
  valueDim?: number | null;
  /** The output's trailing axes; the query's last dimension when absent. */
  outputShape?: number | readonly number[] | null;
  /**
   * The input axes attention runs over (not the batch axis 0 or the feature axis, negatives
   * counted from the input's end); every axis in between when absent.
   */
  attentionAxes?: number | readonly number[] | null;
}

const positive = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;

/**
 * Multi-head attention (keras.layers.MultiHeadAttention), called on [query, value] or
 * [query, value, key] of shapes [batch, T, dim], [batch, S, dim] (or more axes between batch
 * and features, with `attentionAxes`). Weights, in Keras's order and names: query/kernel
 * [dim, numHeads, keyDim], query/bias [numHeads, keyDim], the same for key, gate/… with
 * `useGate`, value/kernel [dim, numHeads, valueDim], value/bias, attention_output/kernel
 * [numHeads, valueDim, dim] and attention_output/bias [dim].
 * @example
 * const mha = new kiln.layers.MultiHeadAttention(2, 8);
 * const x = kiln.random.normal([4, 10, 16]);
 * mha.apply([x, x], { useCausalMask: true }).shape;   // [4, 10, 16]
 * const [y, scores] = mha.apply([x, x], { returnAttentionScores: true });   // scores [4, 2, 10, 10]
 */
export class MultiHeadAttention extends HeadAttention {
  static readonly className = 'MultiHeadAttention';
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly outputShape: number[] | null;
  readonly attentionAxes: number[] | null;

  constructor(numHeads: number, keyDim: number, options: MultiHeadAttentionOptions = {}) {
    super(options);
    if (!positive(numHeads)) fail(this.toString(), `numHeads must be a positive integer, got ${String(numHeads)}`);
    if (!positive(keyDim)) fail(this.toString(), `keyDim must be a positive integer, got ${String(keyDim)}`);
    const { valueDim = null, outputShape = null, attentionAxes = null } = options;
    if (valueDim !== null && !positive(valueDim)) fail(this.toString(), `valueDim must be a positive integer or null, got ${String(valueDim)}`);
    const list = (x: number | readonly number[]): number[] => (typeof x === 'number' ? [x] : Array.isArray(x) ? [...x] : []);
    const shape = outputShape === null ? null : list(outputShape);
    if (shape !== null && (shape.length === 0 || !shape.every(positive))) fail(this.toString(), `outputShape must be a positive integer or a list of them, got ${JSON.stringify(outputShape)}`);
    const axes = attentionAxes === null ? null : list(attentionAxes);
    if (axes !== null && (axes.length === 0 || !axes.every(Number.isInteger))) fail(this.toString(), `attentionAxes must be an integer or a list of integers, got ${JSON.stringify(attentionAxes)}`);
    [this.numHeads, this.keyDim, this.valueDim, this.outputShape, this.attentionAxes] = [numHeads, keyDim, valueDim ?? keyDim, shape, axes];
  }

  protected get scoreChannels(): number {
    return this.keyDim;
  }

  override build(shapes: Shape[]): void {
    const [query, value, key] = this.split(shapes);
    const all = `query ${fmtShape(query)}, value ${fmtShape(value)}, key ${fmtShape(key)}`;
    if (value.length !== key.length || value.slice(1, -1).some((d, i) => d !== key[i + 1])) {
      fail(this.toString(), `value and key must agree on every axis but the last: got ${all}`);
    }
    const rank = query.length;
    if (rank < 3 || value.length !== rank) fail(this.toString(), `query, value and key must have one rank of at least 3 ([batch, …steps, features]): got ${all}`);
    this.axes = this.normalizedAxes(rank, all);
    // the axes attention does not run over act as batch axes of the score einsums: they must agree
    for (let i = 1; i < rank - 1; i++) {
      if (!this.axes.includes(i) && query[i] !== null && value[i] !== null && query[i] !== value[i]) {
        fail(this.toString(), `query and value must agree on axis ${i}, which attention (axes ${JSON.stringify(this.axes)}) does not run over: got ${all}`);
      }
    }
    const { scores, combine } = attentionEquations(rank + 1, this.axes);
    this.equations = { scores, combine };
    const free = (n: number): Dim[] => new Array<Dim>(n).fill(null);
    const heads = (dims: number): [string, Dim[], string] => {
      const p = projection(rank - 1, 1, 2);
      return [p.equation, [...free(rank - 2), this.numHeads, dims], p.biasAxes];
    };
    const [qEq, qOut, qBias] = heads(this.keyDim);
    const [vEq, vOut, vBias] = heads(this.valueDim);
    const outShape = this.outputShape ?? [query[rank - 1] ?? fail(this.toString(), `the query's last dimension must be known, got ${fmtShape(query)}`)];
    const o = projection(rank - 1, 2, outShape.length);
    this.proj = {
      query: this.projection('query', qEq, qOut, qBias, query),
      key: this.projection('key', qEq, qOut, qBias, key),
      gate: this.useGate ? this.projection('gate', vEq, vOut, vBias, query, 'sigmoid') : null,
      value: this.projection('value', vEq, vOut, vBias, value),
      output: this.projection('attention_output', o.equation, [...free(rank - 2), ...outShape], o.biasAxes, [...query.slice(0, -1), this.numHeads, this.valueDim]),
    };
  }

  /** attentionAxes as axes of the projected tensors (which keep the input's axes before the features). */
  private normalizedAxes(rank: number, all: string): number[] {
    const axes = (this.attentionAxes ?? Array.from({ length: rank - 2 }, (_, i) => i + 1)).map((a) => (a < 0 ? rank + a : a));
    if (axes.some((a) => a < 1 || a > rank - 2) || new Set(axes).size !== axes.length) {
      fail(this.toString(), `attentionAxes ${JSON.stringify(this.attentionAxes)} must be distinct axes between the batch axis and the feature axis of inputs of rank ${rank}: got ${all}`);
    }
    return axes;
  }

  override getConfig(): LayerConfig {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      outputShape: this.outputShape,
      attentionAxes: this.attentionAxes,
    };
  }

  static fromConfig(config: LayerConfig): MultiHeadAttention {
    const { numHeads, keyDim, ...rest } = config;
    return new MultiHeadAttention(numHeads as number, keyDim as number, optionsFromConfig<MultiHeadAttentionOptions>(rest as LayerConfig));
  }
}
