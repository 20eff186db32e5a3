import * as ops from '../../src/ops/index.js';
import { spatialInts, type DataFormat, type SpatialInts } from '../../src/ops/conv-options.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { checkRank } from '../pooling/base-pooling.js';
import { dataFormatOf, spatialAxes } from './spatial-axes.js';

export interface UpSamplingOptions extends LayerArgs {
  /** 'channelsLast' ([batch, ...spatial, channels], the default) or 'channelsFirst'. */
  dataFormat?: DataFormat;
}

/**
 * Each spatial axis stretched by an integer factor, every element repeated (Keras's
 * UpSampling1D–3D; UpSampling2D can interpolate instead). A size known only at run time stays
 * null, as repeat infers it.
 */
export abstract class UpSampling extends Layer {
  /** The number of spatial axes: 1, 2 or 3. */
  readonly rank: number;
  /** The factor per spatial axis. */
  readonly size: number[];
  readonly dataFormat: DataFormat;

  protected constructor(rank: number, size: SpatialInts, { dataFormat, ...args }: UpSamplingOptions) {
    super(args);
    this.rank = rank;
    this.size = spatialInts(this.toString(), 'size', size, rank, 1);
    this.dataFormat = dataFormatOf(this.toString(), dataFormat, rank);
  }

  call(x: Tensor): Tensor {
    checkRank(this, x.shape, this.rank, this.dataFormat);
    return spatialAxes(this.rank, this.dataFormat).reduce((y, a, i) => this.stretch(y, a, this.size[i]), x);
  }

  /** `x` stretched `factor` times along `axis`: each element repeated (nearest neighbour). */
  protected stretch(x: Tensor, axis: number, factor: number): Tensor {
    return ops.repeat(x, factor, axis);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), size: this.size, dataFormat: this.dataFormat };
  }
}
