import * as ops from '../../src/ops/index.js';
import { ENGINE } from '../../src/engine.js';
import { EPSILON } from '../../src/epsilon.js';
import { fail, fmtShape } from '../../src/errors.js';
import { asTensor, type NestedInput, type TensorLike } from '../../src/convert.js';
import type { Dim, Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export interface NormalizationOptions extends LayerArgs {
  /** The axis or axes that get their own mean and variance; null: one scalar for everything. */
  axis?: number | readonly number[] | null;
  /** A fixed mean (with `variance`), broadcast over the kept axes; else call adapt(). */
  mean?: number | NestedInput | null;
  variance?: number | NestedInput | null;
  /** Undo the normalization instead: x · sqrt(variance) + mean. */
  invert?: boolean;
}

/** The smallest standard deviation divided by: Keras's epsilon (the ONNX row floors its precomputed std at it too). */
export const MIN_STD = EPSILON;

const shapeOf = (v: number | NestedInput): number[] => (Array.isArray(v) ? [v.length, ...shapeOf(v[0] as NestedInput)] : []);

/**
 * Shifts and scales inputs to mean 0 and variance 1: `(x - mean) / max(sqrt(variance), 1e-7)`
 * (keras.layers.Normalization). The statistics are fixed at construction or learned by
 * `adapt(data)`, which stores them in the non-trainable weights 'mean', 'variance' (and 'count',
 * which Keras 3 keeps at 0 for its older saved models).
 * @example
 * const norm = new kiln.layers.Normalization();
 * await norm.adapt(trainX);   // per-feature statistics over the last axis
 */
export class Normalization extends Layer {
  static readonly className = 'Normalization';
  override supportsMasking = true;
  readonly axis: number[];
  readonly invert: boolean;
  private readonly fixed: { mean: number | NestedInput; variance: number | NestedInput } | null;
  private adapted: { mean: Variable; variance: Variable } | null = null;
  /** Sorted non-negative kept axes and the input rank, once built. */
  private keep: number[] = [];
  private rank = 0;

  constructor({ axis = -1, mean = null, variance = null, invert = false, ...args }: NormalizationOptions = {}) {
    super(args);
    this.axis = axis === null ? [] : typeof axis === 'number' ? [axis] : [...axis];
    this.invert = invert;
    if ((mean === null) !== (variance === null)) fail(this.toString(), `mean and variance must be given together, got mean=${JSON.stringify(mean)}, variance=${JSON.stringify(variance)}`);
    this.fixed = mean === null || variance === null ? null : { mean, variance };
    if (this.fixed) {
      const [ms, vs] = [shapeOf(this.fixed.mean), shapeOf(this.fixed.variance)];
      if (fmtShape(ms) !== fmtShape(vs)) fail(this.toString(), `mean and variance must have one shape, got ${fmtShape(ms)} and ${fmtShape(vs)}`);
      if (ms.length > this.axis.length) fail(this.toString(), `mean has rank ${ms.length}, more than the ${this.axis.length} kept axes ${JSON.stringify(this.axis)}`);
    }
  }

  override build(inputShape: Shape): void {
    const rank = inputShape.length;
    if (this.axis.some((a) => !Number.isInteger(a) || a < -rank || a >= rank)) {
      fail(this.toString(), `axis ${JSON.stringify(this.axis)} is out of range for inputs of shape ${fmtShape(inputShape)}`);
    }
    this.rank = rank;
    this.keep = [...new Set(this.axis.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
    const kept = this.keep.map((a) => inputShape[a]);
    if (kept.some((d) => d === null)) fail(this.toString(), `the kept axes ${JSON.stringify(this.axis)} must have known sizes, got shape ${fmtShape(inputShape)}`);
    if (this.fixed) {
      // Keras lines a fixed value's dims up with the kept axes from the right
      const ms = shapeOf(this.fixed.mean);
      const sizes = kept.slice(kept.length - ms.length);
      if (ms.some((d, i) => d !== 1 && d !== sizes[i])) {
        fail(this.toString(), `mean and variance of shape ${fmtShape(ms)} do not broadcast to the kept axes' sizes ${fmtShape(kept)} (input shape ${fmtShape(inputShape)})`);
      }
      return;
    }
    const options = { trainable: false } as const;
    this.adapted = {
      mean: this.addWeight('mean', kept as number[], { ...options, initializer: 'zeros' }),
      variance: this.addWeight('variance', kept as number[], { ...options, initializer: 'ones' }),
    };
    this.addWeight('count', [], { ...options, initializer: 'zeros', dtype: 'int32' });
  }

  call(x: Tensor): Tensor {
    if (x.rank !== this.rank) fail(this.toString(), `was built for inputs of rank ${this.rank}, got shape ${fmtShape(x.shape)}`);
    const t = x.dtype === this.dtype ? x : ops.cast(x, this.dtype);
    const [mean, variance] = this.statistics();
    const std = ops.maximum(ops.sqrt(variance), MIN_STD);
    return this.invert ? ops.add(mean, ops.multiply(t, std)) : ops.divide(ops.subtract(t, mean), std);
  }

  /** Mean and variance shaped to broadcast against the input: size 1 on the reduced axes. */
  private statistics(): [Tensor, Tensor] {
    const shaped = (v: Tensor): Tensor => {
      const target = new Array<Dim>(this.rank).fill(1);
      v.shape.forEach((d, i) => (target[this.keep[this.keep.length - v.rank + i]] = d));
      return ops.reshape(v, target);
    };
    if (this.adapted) return [shaped(this.adapted.mean.value), shaped(this.adapted.variance.value)];
    const { mean, variance } = this.fixed!;
    return [shaped(asTensor(mean, this.toString(), this.dtype)), shaped(asTensor(variance, this.toString(), this.dtype))];
  }

  /**
   * Computes the mean and variance of `data` over every axis but the kept ones and stores them.
   * @example
   * await norm.adapt(kiln.tensor([[0, 7], [2, 9]]));   // mean [1, 8], variance [1, 1]
   */
  async adapt(data: TensorLike): Promise<void> {
    if (this.fixed) fail(`${this.toString()}.adapt`, 'this layer was given a fixed mean and variance; adapt() only works without them');
    ENGINE.tidy(() => {
      const x = asTensor(data, `${this.toString()}.adapt`);
      if (!this.built) this.maybeBuild(x.shape);
      else this.checkAdaptShape(x.shape);
      const reduce = x.shape.map((_, i) => i).filter((i) => !this.keep.includes(i));
      // the mean of nothing is NaN, which would then normalize every input to NaN without a word
      if (reduce.some((i) => x.shape[i] === 0)) fail(`${this.toString()}.adapt`, `expected data with at least one sample on the reduced axes ${JSON.stringify(reduce)}, got shape ${fmtShape(x.shape)}`);
      const t = ops.cast(x, this.dtype);
      this.adapted!.mean.assign(ops.mean(t, reduce));
      this.adapted!.variance.assign(ops.variance(t, reduce));
    });
  }

  private checkAdaptShape(shape: Shape): void {
    const built = this.adapted!.mean.shape;
    if (shape.length !== this.rank || this.keep.some((a, i) => shape[a] !== built[i])) {
      fail(`${this.toString()}.adapt`, `the layer was built for sizes ${fmtShape(built)} on axes ${JSON.stringify(this.keep)}, got data of shape ${fmtShape(shape)}`);
    }
  }

  override getConfig(): LayerConfig {
    const axis = this.axis.length === 1 ? this.axis[0] : this.axis.length === 0 ? null : this.axis;
    return { ...super.getConfig(), axis, invert: this.invert, mean: this.fixed?.mean ?? null, variance: this.fixed?.variance ?? null };
  }

  static fromConfig(config: LayerConfig): Normalization {
    return new Normalization(optionsFromConfig(config));
  }
}
