import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import { unknownSpatial, type DataFormat } from '../../src/ops/conv-options.js';
import type { Dim } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { checkRank } from '../pooling/base-pooling.js';
import { dataFormatOf, spatialAxes } from './spatial-axes.js';
import { edgePairs, edgesConfig, type EdgeWidths, type Edges } from './edge-widths.js';

export interface CroppingOptions extends LayerArgs {
  /** 'channelsLast' ([batch, ...spatial, channels], the default) or 'channelsFirst'. */
  dataFormat?: DataFormat;
}

/** Elements cut from both ends of each spatial axis (Keras's Cropping1D–3D). */
export abstract class Cropping extends Layer {
  /** The number of spatial axes: 1, 2 or 3. */
  readonly rank: number;
  /** [before, after] per spatial axis. */
  readonly cropping: Edges[];
  readonly dataFormat: DataFormat;

  protected constructor(rank: number, cropping: EdgeWidths, { dataFormat, ...args }: CroppingOptions) {
    super(args);
    this.rank = rank;
    this.cropping = edgePairs(this.toString(), 'cropping', cropping, rank);
    this.dataFormat = dataFormatOf(this.toString(), dataFormat, rank);
  }

  call(x: Tensor): Tensor {
    checkRank(this, x.shape, this.rank, this.dataFormat);
    const axes = spatialAxes(this.rank, this.dataFormat);
    const begin = x.shape.map(() => 0);
    const shape: Dim[] = [...x.shape];
    axes.forEach((a, i) => {
      const [before, after] = this.cropping[i];
      const d: Dim = x.shape[a];
      if (d !== null && before + after >= d) {
        fail(this.toString(), `cropping ${JSON.stringify(edgesConfig(this.cropping))} removes ${before + after} of the ${d} elements of axis ${a} of input shape ${fmtShape(x.shape)}; at least one must remain`);
      }
      begin[a] = before;
      shape[a] = d === null ? null : d - before - after;
    });
    // a size known only at run time has no end to slice to yet: a Functional model records the
    // shape, and crops the real tensors when it runs
    if (axes.some((a) => shape[a] === null)) return unknownSpatial(this.className, [x], shape, x.dtype);
    // -1 keeps the batch (unknown in a symbolic call) and the channels whole
    return ops.slice(x, begin, shape.map((d, k) => (axes.includes(k) ? d! : -1)));
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), cropping: edgesConfig(this.cropping), dataFormat: this.dataFormat };
  }
}
