/**
 * The elementwise merge layers (keras.layers.Add, Subtract, Multiply, Average, Maximum, Minimum):
 * each takes a list of tensors of compatible shapes and combines them elementwise. Masks follow
 * Keras 3: the output's is the OR of the inputs' masks, none when any input has none; Multiply,
 * Maximum and Minimum also keep each input's masked steps out of the values.
 */
import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type LayerConfig, type Tensors } from '../layer.js';
import type { LayerMask } from '../mask.js';
import { optionsFromConfig } from '../config.js';

/**
 * The shared checks of elementwise merges, as Keras's: one batch size, and sample shapes that
 * broadcast (aligned from the right, 1 stretching). A lower-rank input gets size-1 axes after
 * its batch axis, so [batch, 3] merges with [batch, 4, 3].
 */
export abstract class Merge extends Layer {
  override readonly multiInput = true;
  /** How many inputs the layer takes: at least `min`, at most `max`. */
  protected readonly arity: { min: number; max: number } = { min: 1, max: Infinity };

  protected abstract merge(inputs: Tensor[]): Tensor;

  /**
   * The merge of inputs that carry masks ([batch, steps] for inputs [batch, steps, features]),
   * null where an input has none; a class that leaves masked steps out of its values defines it.
   */
  protected mergeMasked?(inputs: Tensor[], masks: readonly (Tensor | null)[]): Tensor;

  call(inputs: Tensor[], options: CallOptions = {}): Tensor {
    this.checkShapes(inputs.map((x) => x.shape));
    const rank = Math.max(...inputs.map((x) => x.rank));
    // Keras reads the masks only when no input is reshaped: a reshaped tensor has lost its mask
    if (inputs.every((x) => x.rank === rank)) {
      const masks = this.mergeMasked ? options.masks : null;
      return masks ? this.mergeMasked!(inputs, masks) : this.merge(inputs);
    }
    return this.merge(inputs.map((x) => (x.rank < rank ? ops.reshape(x, [x.shape[0], ...new Array<number>(rank - x.rank).fill(1), ...x.shape.slice(1)]) : x)));
  }

  override computeMask(_inputs: Tensors, previousMask: LayerMask): LayerMask {
    const masks = previousMask as readonly (Tensor | null)[] | null;
    if (masks === null || masks.some((m) => m === null)) return null;
    return (masks as Tensor[]).reduce((acc, m) => ops.logicalOr(acc, m));
  }

  private checkShapes(shapes: Shape[]): void {
    const { min, max } = this.arity;
    if (shapes.length < min || shapes.length > max) {
      const expected = min === max ? `exactly ${min}` : `at least ${min}`;
      fail(this.toString(), `expects ${expected} input${min === 1 ? '' : 's'}, got ${shapes.length}`);
    }
    if (shapes.some((s) => s.length === 0)) fail(this.toString(), `expects inputs with a batch dimension, got shapes ${shapes.map(fmtShape).join(', ')}`);
    const batches = new Set(shapes.map((s) => s[0]).filter((d) => d !== null));
    if (batches.size > 1) fail(this.toString(), `inputs have different batch sizes: ${shapes.map(fmtShape).join(', ')}`);
    // aligned from the right, each position may hold one size besides 1 and unknown
    const samples = shapes.map((s) => s.slice(1));
    for (let k = 1; k <= Math.max(...samples.map((s) => s.length)); k++) {
      const sizes = new Set(samples.map((s) => (k <= s.length ? s[s.length - k] : 1)).filter((d) => d !== null && d !== 1));
      if (sizes.size > 1) fail(this.toString(), `inputs have incompatible shapes: ${shapes.map(fmtShape).join(', ')}`);
    }
  }

  static fromConfig<T extends Merge>(this: new (args: object) => T, config: LayerConfig): T {
    return new this(optionsFromConfig(config));
  }
}

/**
 * The sum of the inputs.
 * @example
 * new kiln.layers.Add().apply([a, b]);
 */
export class Add extends Merge {
  static readonly className = 'Add';
  protected merge(xs: Tensor[]): Tensor {
    return xs.reduce((acc, x) => ops.add(acc, x));
  }
}

/**
 * The first input minus the second; exactly two inputs.
 * @example
 * new kiln.layers.Subtract().apply([a, b]);
 */
export class Subtract extends Merge {
  static readonly className = 'Subtract';
  protected override readonly arity = { min: 2, max: 2 };
  protected merge([a, b]: Tensor[]): Tensor {
    return ops.subtract(a, b);
  }
}

/** The elementwise product of the inputs. */
export class Multiply extends Merge {
  static readonly className = 'Multiply';
  protected merge(xs: Tensor[]): Tensor {
    return xs.reduce((acc, x) => ops.multiply(acc, x));
  }

  /** Masked entries count as 1; when every input has a mask, the steps none keeps become 0. */
  protected override mergeMasked(xs: Tensor[], masks: readonly (Tensor | null)[]): Tensor {
    const keeps = masks.map((m) => (m ? ops.expandDims(m, -1) : null));
    const out = this.merge(xs.map((x, i) => (keeps[i] ? ops.where(keeps[i]!, x, 1) : x)));
    if (keeps.some((k) => k === null)) return out;
    return ops.where((keeps as Tensor[]).reduce((acc, k) => ops.logicalOr(acc, k)), out, 0);
  }
}

/** The elementwise mean of the inputs. */
export class Average extends Merge {
  static readonly className = 'Average';
  protected merge(xs: Tensor[]): Tensor {
    return ops.divide(xs.reduce((acc, x) => ops.add(acc, x)), xs.length);
  }
}

/** The elementwise maximum of the inputs. */
export class Maximum extends Merge {
  static readonly className = 'Maximum';
  protected merge(xs: Tensor[]): Tensor {
    return xs.reduce((acc, x) => ops.maximum(acc, x));
  }

  protected override mergeMasked(xs: Tensor[], masks: readonly (Tensor | null)[]): Tensor {
    return mergeKept(ops.maximum, xs, masks);
  }
}

/** The elementwise minimum of the inputs. */
export class Minimum extends Merge {
  static readonly className = 'Minimum';
  protected merge(xs: Tensor[]): Tensor {
    return xs.reduce((acc, x) => ops.minimum(acc, x));
  }

  protected override mergeMasked(xs: Tensor[], masks: readonly (Tensor | null)[]): Tensor {
    return mergeKept(ops.minimum, xs, masks);
  }
}

/**
 * `op` over the inputs, each step taken from the inputs that keep it, as Keras's Maximum and
 * Minimum (they have no identity element to put in masked steps): a masked step of an input
 * takes the running result, and a masked step of the running result takes the input. Where no
 * input keeps a step, the first input's value stands. Once an input has no mask, every later
 * step counts as kept by the running result.
 */
function mergeKept(op: (a: Tensor, b: Tensor) => Tensor, xs: Tensor[], masks: readonly (Tensor | null)[]): Tensor {
  let out = xs[0];
  let kept = masks[0] ? ops.expandDims(masks[0], -1) : null;
  for (let i = 1; i < xs.length; i++) {
    const keep = masks[i] ? ops.expandDims(masks[i]!, -1) : null;
    const x = keep ? ops.where(keep, xs[i], out) : xs[i];
    if (kept) out = ops.where(kept, out, x);
    kept = kept && keep ? ops.logicalOr(kept, keep) : null;
    out = op(out, x);
  }
  return out;
}
