import { fail, fmtShape } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { SymbolicTensor } from '../../src/symbolic.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type Shapes, type Symbolic, type Tensors } from '../layer.js';
import type { LayerMask } from '../mask.js';

/** What an attention layer's call takes besides [query, value] or [query, value, key]. */
export interface AttentionCallOptions extends CallOptions {
  /**
   * Which keys each query may attend to, true where it may: [batch, T, S] (broadcast; the
   * attention layers with heads add the heads axis). ANDed with the inputs' masks.
   */
  attentionMask?: Tensor | SymbolicTensor | null;
  /** Each query step attends only to key steps at or before it (a decoder's self-attention). */
  useCausalMask?: boolean;
  /** Return [output, scores]: the attention probabilities as well, [batch, heads, T, S] with heads. */
  returnAttentionScores?: boolean;
}

/**
 * The attention layers' common frame: a call on [query, value] or [query, value, key] (their
 * masks in `options.masks`, one per input), the options above, and outputs masked as the query
 * (the scores, when returned, carry no mask).
 */
export abstract class AttentionLayer extends Layer {
  /** A symbolic attentionMask becomes an input of the Functional node, as Keras records tensor arguments. */
  static override readonly tensorCallOptions: readonly string[] = ['attentionMask'];
  override readonly multiInput = true;
  override supportsMasking = true;

  override apply(inputs: Tensor[], options: AttentionCallOptions & { returnAttentionScores: true }): [Tensor, Tensor];
  override apply(inputs: SymbolicTensor[], options: AttentionCallOptions & { returnAttentionScores: true }): [SymbolicTensor, SymbolicTensor];
  override apply(inputs: Tensor[], options?: AttentionCallOptions): Tensor;
  override apply(inputs: SymbolicTensor[], options?: AttentionCallOptions): SymbolicTensor;
  override apply(inputs: SymbolicTensor, options?: CallOptions): SymbolicTensor;
  override apply(inputs: Tensor, options?: CallOptions): Tensor;
  override apply(inputs: Tensors | Symbolic, options?: AttentionCallOptions): Tensors;
  override apply(inputs: Tensors | Symbolic, options: AttentionCallOptions = {}): Tensors | Symbolic {
    return super.apply(inputs, options);
  }

  abstract override call(inputs: Tensor[], options: AttentionCallOptions): Tensor | Tensor[];

  /** The shapes of [query, value, key] the weights were built for: later calls must keep their ranks and features. */
  private builtFor: [Shape, Shape, Shape] | null = null;

  protected override maybeBuild(shapes: Shapes): void {
    const now = this.split(shapes as Shape[]);
    if (!this.built) {
      super.maybeBuild(shapes);
      this.builtFor = now;
      return;
    }
    const was = this.builtFor;
    const differs = (a: Shape, b: Shape): boolean => a.length !== b.length || (a.at(-1) !== null && b.at(-1) !== null && a.at(-1) !== b.at(-1));
    if (was && now.some((s, i) => differs(s, was[i]))) {
      const show = (list: readonly Shape[]): string => ['query', 'value', 'key'].map((n, i) => `${n} ${fmtShape(list[i])}`).join(', ');
      fail(this.toString(), `was built for ${show(was)}; got ${show(now)}`);
    }
  }

  /** [query, value, key] (tensors or shapes), the key being the value when not given. */
  protected split<T>(list: readonly T[]): [T, T, T] {
    if (list.length !== 2 && list.length !== 3) fail(this.toString(), `expects [query, value] or [query, value, key], got ${list.length} inputs`);
    return [list[0], list[1], list[2] ?? list[1]];
  }

  /** The query's mask, as Keras gives the output. */
  override computeMask(_inputs: Tensors, previousMask: LayerMask): LayerMask {
    return Array.isArray(previousMask) ? ((previousMask as readonly (Tensor | null)[])[0] ?? null) : null;
  }

  protected override outputMasks(inputs: Tensors, previous: LayerMask, count: number): (Tensor | null)[] {
    const mask = this.computeMask(inputs, previous) as Tensor | null;
    return [mask, ...new Array<Tensor | null>(count - 1).fill(null)];
  }
}
