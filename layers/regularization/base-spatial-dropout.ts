import * as ops from '../../src/ops/index.js';
import { uniform } from '../../src/random.js';
import { fail } from '../../src/errors.js';
import type { DataFormat } from '../../src/ops/conv-options.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig } from '../layer.js';
import { checkRank } from '../pooling/base-pooling.js';
import { dataFormatOf } from '../reshaping/spatial-axes.js';
import { SeedStream } from '../seed-stream.js';

export interface SpatialDropoutOptions extends LayerArgs {
  /** 'channelsLast' ([batch, ...spatial, channels], the default) or 'channelsFirst'. */
  dataFormat?: DataFormat;
  seed?: number | null;
}

/**
 * Dropout of whole channels (Keras's SpatialDropout1D–3D): each sample keeps or drops each
 * feature map as one, its mask of shape [batch, 1, …, 1, channels], since neighbouring elements
 * of a map are too alike for dropping single ones to regularize. Kept maps are scaled by
 * 1 / (1 - rate), as Dropout's elements are.
 */
export abstract class SpatialDropout extends Layer {
  // a mask passes through unchanged, as Keras's Dropout family passes it
  override supportsMasking = true;
  /** The number of spatial axes: 1, 2 or 3. */
  readonly rank: number;
  readonly rate: number;
  readonly dataFormat: DataFormat;
  private readonly seeds: SeedStream;

  protected constructor(rank: number, rate: number, { dataFormat, seed, ...args }: SpatialDropoutOptions) {
    super(args);
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) fail(this.toString(), `rate must be a number in [0, 1], got ${String(rate)}`);
    this.rank = rank;
    this.rate = rate;
    this.dataFormat = dataFormatOf(this.toString(), dataFormat, rank);
    this.seeds = new SeedStream(this.toString(), seed);
  }

  call(x: Tensor, { training }: CallOptions = {}): Tensor {
    // at inference too, so that a wrong input fails where the model is built, not in training
    checkRank(this, x.shape, this.rank, this.dataFormat);
    if (!training || this.rate === 0) return x;
    const keep = 1 - this.rate;
    const u = uniform(this.maskShape(x), { dtype: x.dtype, seed: this.seeds.next() });
    // as Dropout: the scale is a constant of the mask, and 1 / keep is never selected at rate 1
    return ops.multiply(x, ops.where(ops.less(u, keep), 1 / keep, 0));
  }

  /** [batch, 1, …, 1, channels] in the layer's layout. */
  private maskShape(x: Tensor): number[] {
    const channels = this.dataFormat === 'channelsLast' ? x.rank - 1 : 1;
    return x.shape.map((d, i) => (i === 0 || i === channels ? d : 1));
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), rate: this.rate, seed: this.seeds.seed ?? null, dataFormat: this.dataFormat };
  }
}
