import * as ops from '../../src/ops/index.js';
import { uniform } from '../../src/random.js';
import { fail } from '../../src/errors.js';
import type { Dim } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { SeedStream } from '../seed-stream.js';
import { noiseShapeFor } from './noise-shape.js';

export interface DropoutOptions extends LayerArgs {
  /**
   * The shape of the keep/drop mask, broadcast over the input; null takes the input's size.
   * [null, 1, null] drops whole features of a [batch, steps, features] input at every step.
   */
  noiseShape?: readonly Dim[] | null;
  seed?: number | null;
}

/**
 * In training, zeroes each input with probability `rate` and scales the rest by 1 / (1 - rate),
 * so the expected sum is unchanged and inference is the identity (keras.layers.Dropout).
 * @example
 * const drop = new kiln.layers.Dropout(0.5, { seed: 1 });
 * drop.apply(kiln.ones([2, 4]), { training: true });   // each element 0 or 2
 */
export class Dropout extends Layer {
  static readonly className = 'Dropout';
  override supportsMasking = true;
  readonly rate: number;
  readonly noiseShape: Dim[] | null;
  private readonly seeds: SeedStream;

  constructor(rate: number, { noiseShape = null, seed, ...args }: DropoutOptions = {}) {
    super(args);
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) fail(this.toString(), `rate must be a number in [0, 1], got ${String(rate)}`);
    this.rate = rate;
    const sizes = (s: unknown) => Array.isArray(s) && s.every((d) => d === null || (Number.isSafeInteger(d) && d > 0));
    if (noiseShape !== null && !sizes(noiseShape)) fail(this.toString(), `noiseShape must be a list of positive integers or nulls, got ${JSON.stringify(noiseShape)?.slice(0, 80)}`);
    this.noiseShape = noiseShape && [...noiseShape];
    this.seeds = new SeedStream(this.toString(), seed);
  }

  call(x: Tensor, { training }: CallOptions = {}): Tensor {
    if (!training || this.rate === 0) return x;
    const keep = 1 - this.rate;
    const u = uniform(noiseShapeFor(this.toString(), this.noiseShape, x), { dtype: x.dtype, seed: this.seeds.next() });
    // the scale is a constant of the mask: gradients flow through x alone. With rate 1 nothing
    // is kept, and 1 / keep = Infinity is never selected
    return ops.multiply(x, ops.where(ops.less(u, keep), 1 / keep, 0));
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), rate: this.rate, noiseShape: this.noiseShape, seed: this.seeds.seed ?? null };
  }

  static fromConfig(config: LayerConfig): Dropout {
    return new Dropout(config.rate as number, optionsFromConfig(config));
  }
}
