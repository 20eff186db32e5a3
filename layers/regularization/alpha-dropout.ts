import * as ops from '../../src/ops/index.js';
import { uniform } from '../../src/random.js';
import { fail } from '../../src/errors.js';
import type { Dim } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { SeedStream } from '../seed-stream.js';
import { noiseShapeFor } from './noise-shape.js';

export interface AlphaDropoutOptions extends LayerArgs {
  /** The shape of the keep/drop mask, broadcast over the input; null takes the input's size. */
  noiseShape?: readonly Dim[] | null;
  seed?: number | null;
}

// SELU's constants: a dropped unit takes SELU's negative saturation value, -scale · alpha
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;
const ALPHA_P = -SELU_ALPHA * SELU_SCALE;

/**
 * Dropout for self-normalizing (SELU) networks (keras.layers.AlphaDropout): in training each
 * input is kept with probability 1 - rate or set to alpha' = -scale · alpha, then the affine
 * map a·x + b restores the mean 0 and variance 1 that SELU keeps, with
 * a = ((1 - rate)(1 + rate · alpha'²))^-1/2 and b = -a · alpha' · rate. The identity at inference.
 * @example
 * new kiln.layers.AlphaDropout(0.1, { seed: 3 }).apply(x, { training: true });
 */
export class AlphaDropout extends Layer {
  static readonly className = 'AlphaDropout';
  override supportsMasking = true;
  readonly rate: number;
  readonly noiseShape: Dim[] | null;
  private readonly seeds: SeedStream;

  constructor(rate: number, { noiseShape = null, seed, ...args }: AlphaDropoutOptions = {}) {
    super(args);
    // at rate 1 every unit is alpha' and no affine map gives back unit variance (a is infinite)
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) fail(this.toString(), `rate must be a number in [0, 1), got ${String(rate)}`);
    this.rate = rate;
    this.noiseShape = noiseShape && [...noiseShape];
    this.seeds = new SeedStream(this.toString(), seed);
  }

  call(x: Tensor, { training }: CallOptions = {}): Tensor {
    if (!training || this.rate === 0) return x;
    const p = this.rate;
    const a = ((1 - p) * (1 + p * ALPHA_P ** 2)) ** -0.5;
    const b = -a * ALPHA_P * p;
    const dropped = a * ALPHA_P + b;
    const kept = ops.cast(ops.greaterEqual(uniform(noiseShapeFor(this.toString(), this.noiseShape, x), { dtype: x.dtype, seed: this.seeds.next() }), p), x.dtype);
    // a·(x·kept + alpha'·(1 - kept)) + b, written so that x meets one multiply and one add
    return ops.add(ops.multiply(x, ops.multiply(kept, a)), ops.add(ops.multiply(kept, b - dropped), dropped));
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), rate: this.rate, noiseShape: this.noiseShape, seed: this.seeds.seed ?? null };
  }

  static fromConfig(config: LayerConfig): AlphaDropout {
    return new AlphaDropout(config.rate as number, optionsFromConfig(config));
  }
}
