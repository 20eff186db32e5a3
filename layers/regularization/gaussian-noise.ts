import * as ops from '../../src/ops/index.js';
import { normal } from '../../src/random.js';
import { fail } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { SeedStream } from '../seed-stream.js';

export interface GaussianNoiseOptions extends LayerArgs {
  seed?: number | null;
}

/**
 * In training, adds zero-mean normal noise of standard deviation `stddev`; the identity at
 * inference (keras.layers.GaussianNoise).
 * @example
 * new kiln.layers.GaussianNoise(0.1).apply(x, { training: true });
 */
export class GaussianNoise extends Layer {
  static readonly className = 'GaussianNoise';
  override supportsMasking = true;
  readonly stddev: number;
  private readonly seeds: SeedStream;

  constructor(stddev: number, { seed, ...args }: GaussianNoiseOptions = {}) {
    super(args);
    // Keras's bound: noise larger than the unit-scale signal it regularizes is a mistake
    if (typeof stddev !== 'number' || !(stddev >= 0 && stddev <= 1)) fail(this.toString(), `stddev must be a number in [0, 1], got ${String(stddev)}`);
    this.stddev = stddev;
    this.seeds = new SeedStream(this.toString(), seed);
  }

  call(x: Tensor, { training }: CallOptions = {}): Tensor {
    if (!training || this.stddev === 0) return x;
    return ops.add(x, normal(x.shape, { stddev: this.stddev, dtype: x.dtype, seed: this.seeds.next() }));
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), stddev: this.stddev, seed: this.seeds.seed ?? null };
  }

  static fromConfig(config: LayerConfig): GaussianNoise {
    return new GaussianNoise(config.stddev as number, optionsFromConfig(config));
  }
}
