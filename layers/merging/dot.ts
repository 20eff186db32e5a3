import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Dim, Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { product } from '../../src/ops/movement.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export interface DotOptions extends LayerArgs {
  /** L2-normalize both inputs along the dot axes first: the output is then the cosine similarity. */
  normalize?: boolean;
}

/** Keras's backend.epsilon(): the smallest norm divided by. */
const EPSILON = 1e-7;

/**
 * The per-sample dot product of two tensors along `axes` (one axis for both, or one per input;
 * never the batch axis 0), as Keras's batch_dot (keras.layers.Dot). The output holds the first
 * input's other axes, then the second's; a [batch] result becomes [batch, 1].
 * @example
 * new kiln.layers.Dot(1).apply([kiln.zeros([4, 8]), kiln.zeros([4, 8])]).shape;   // [4, 1]
 * new kiln.layers.Dot([1, 2]).apply([kiln.zeros([2, 3, 5]), kiln.zeros([2, 10, 3])]).shape;   // [2, 5, 10]
 */
export class Dot extends Layer {
  static readonly className = 'Dot';
  override readonly multiInput = true;
  readonly axes: number | [number, number];
  readonly normalize: boolean;

  constructor(axes: number | readonly [number, number], { normalize = false, ...args }: DotOptions = {}) {
    super(args);
    const ok = Number.isInteger(axes) || (Array.isArray(axes) && axes.length === 2 && axes.every((a) => Number.isInteger(a)));
    if (!ok) fail(this.toString(), `axes must be an integer or two integers, got ${JSON.stringify(axes)}`);
    this.axes = typeof axes === 'number' ? axes : [axes[0], axes[1]];
    this.normalize = normalize;
  }

  call(inputs: Tensor[]): Tensor {
    if (inputs.length !== 2) fail(this.toString(), `expects exactly 2 inputs, got ${inputs.length}`);
    let [x, y] = inputs;
    const [ax, ay] = this.checkedAxes(x.shape, y.shape);
    if (this.normalize) [x, y] = [l2Normalize(x, ax), l2Normalize(y, ay)];
    // [batch, ...xRest, k] · [batch, k, ...yRest] as one batched matmul of flattened rests
    const xs = ops.moveaxis(x, ax, -1);
    const ys = ops.moveaxis(y, ay, 1);
    const xRest: Shape = xs.shape.slice(1, -1);
    const yRest: Shape = ys.shape.slice(2);
    const batch: Dim = x.shape[0] ?? y.shape[0];
    const k = xs.shape[xs.rank - 1];
    const out = ops.matmul(ops.reshape(xs, [batch, product(xRest) ?? -1, k]), ops.reshape(ys, [batch, k, product(yRest) ?? -1]));
    const shape = [batch, ...xRest, ...yRest];
    return ops.reshape(out, shape.length === 1 ? [batch, 1] : shape);
  }

  private checkedAxes(a: Shape, b: Shape): [number, number] {
    const shapes = `${fmtShape(a)} and ${fmtShape(b)}`;
    if (a.length < 2 || b.length < 2) fail(this.toString(), `expects inputs of rank >= 2, got shapes ${shapes}`);
    if (a[0] !== null && b[0] !== null && a[0] !== b[0]) fail(this.toString(), `inputs have different batch sizes: ${shapes}`);
    const [pa, pb] = typeof this.axes === 'number' ? [this.axes, this.axes] : this.axes;
    const ax = pa < 0 ? pa + a.length : pa;
    const ay = pb < 0 ? pb + b.length : pb;
    if (ax < 1 || ax >= a.length || ay < 1 || ay >= b.length) {
      fail(this.toString(), `axes ${JSON.stringify(this.axes)} must name non-batch axes of inputs of shapes ${shapes}`);
    }
    if (a[ax] !== null && b[ay] !== null && a[ax] !== b[ay]) {
      fail(this.toString(), `the dot axes differ in size: ${a[ax]} (axis ${ax} of ${fmtShape(a)}) vs ${b[ay]} (axis ${ay} of ${fmtShape(b)})`);
    }
    return [ax, ay];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), axes: this.axes, normalize: this.normalize };
  }

  static fromConfig(config: LayerConfig): Dot {
    return new Dot(config.axes as number | [number, number], optionsFromConfig(config));
  }
}

/** x / max(‖x‖₂, epsilon) along `axis` (keras.ops.normalize). */
function l2Normalize(x: Tensor, axis: number): Tensor {
  return ops.divide(x, ops.maximum(ops.sqrt(ops.sum(ops.square(x), axis, true)), EPSILON));
}
