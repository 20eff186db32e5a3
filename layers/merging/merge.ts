/**
 * The elementwise merge layers (keras.layers.Add, Subtract, Multiply, Average, Maximum, Minimum):
 * each takes a list of tensors of compatible shapes and combines them elementwise.
 */
import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerConfig } from '../layer.js';
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

  call(inputs: Tensor[]): Tensor {
    this.checkShapes(inputs.map((x) => x.shape));
    const rank = Math.max(...inputs.map((x) => x.rank));
    return this.merge(inputs.map((x) => (x.rank < rank ? ops.reshape(x, [x.shape[0], ...new Array<number>(rank - x.rank).fill(1), ...x.shape.slice(1)]) : x)));
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
}

/** The elementwise minimum of the inputs. */
export class Minimum extends Merge {
  static readonly className = 'Minimum';
  protected merge(xs: Tensor[]): Tensor {
    return xs.reduce((acc, x) => ops.minimum(acc, x));
  }
}
