import * as ops from '../../src/ops/index.js';
import type { DataFormat } from '../../src/ops/conv-options.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { checkRank } from '../pooling/base-pooling.js';
import { dataFormatOf, spatialAxes } from './spatial-axes.js';
import { edgePairs, edgesConfig, type EdgeWidths, type Edges } from './edge-widths.js';

export interface ZeroPaddingOptions extends LayerArgs {
  /** 'channelsLast' ([batch, ...spatial, channels], the default) or 'channelsFirst'. */
  dataFormat?: DataFormat;
}

/**
 * Zeros added at both ends of each spatial axis (Keras's ZeroPadding1D–3D); a size known only at
 * run time stays null, as pad infers it.
 */
export abstract class ZeroPadding extends Layer {
  /** The number of spatial axes: 1, 2 or 3. */
  readonly rank: number;
  /** [before, after] per spatial axis. */
  readonly padding: Edges[];
  readonly dataFormat: DataFormat;

  protected constructor(rank: number, padding: EdgeWidths, { dataFormat, ...args }: ZeroPaddingOptions) {
    super(args);
    this.rank = rank;
    this.padding = edgePairs(this.toString(), 'padding', padding, rank);
    this.dataFormat = dataFormatOf(this.toString(), dataFormat, rank);
  }

  call(x: Tensor): Tensor {
    checkRank(this, x.shape, this.rank, this.dataFormat);
    const pads = x.shape.map((): Edges => [0, 0]);
    spatialAxes(this.rank, this.dataFormat).forEach((a, i) => (pads[a] = this.padding[i]));
    return ops.pad(x, pads);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), padding: edgesConfig(this.padding), dataFormat: this.dataFormat };
  }
}
