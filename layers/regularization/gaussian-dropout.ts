import * as ops from '../../src/ops/index.js';
import { normal } from '../../src/random.js';
import { fail } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { SeedStream } from '../seed-stream.js';

export interface GaussianDropoutOptions extends LayerArgs {
  seed?: number | null;
}

/**
 * In training, multiplies the input by normal noise of mean 1 and standard deviation
 * sqrt(rate / (1 - rate)), the variance Dropout(rate) gives; the identity at inference
 * (keras.layers.GaussianDropout).
 * @example
 * new kiln.layers.GaussianDropout(0.2).apply(x, { training: true });
 */
export class GaussianDropout extends Layer {
  static readonly className = 'GaussianDropout';
  override supportsMasking = true;
  readonly rate: number;
  private readonly seeds: SeedStream;

  constructor(rate: number, { seed, ...args }: GaussianDropoutOptions = {}) {
    super(args);
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) fail(this.toString(), `rate must be a number in [0, 1], got ${String(rate)}`);
    this.rate = rate;
    this.seeds = new SeedStream(this.toString(), seed);
  }

  call(x: Tensor, { training }: CallOptions = {}): Tensor {
    if (!training || this.rate === 0) return x;
    const stddev = Math.sqrt(this.rate / (1 - this.rate));
    return ops.multiply(x, normal(x.shape, { mean: 1, stddev, dtype: x.dtype, seed: this.seeds.next() }));
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), rate: this.rate, seed: this.seeds.seed ?? null };
  }

  static fromConfig(config: LayerConfig): GaussianDropout {
    return new GaussianDropout(config.rate as number, optionsFromConfig(config));
  }
}
