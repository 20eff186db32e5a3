import { fail } from '../../src/errors.js';
import type { Axis } from '../../src/ops/reduce.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { resolveOptions, type DataFormat } from '../../src/ops/conv-options.js';
import { checkRank } from './base-pooling.js';

export interface GlobalPoolingOptions extends LayerArgs {
  /** 'channelsLast' ([batch, ...spatial, channels], the default) or 'channelsFirst'. */
  dataFormat?: DataFormat;
  /** Keep the spatial axes with size 1 (default false: the output is [batch, channels]). */
  keepdims?: boolean;
}

/** kiln.ops.max or kiln.ops.mean. */
type ReduceFn = (x: Tensor, axis: Axis, keepdims: boolean) => Tensor;

/**
 * The max or the mean over all the spatial axes, per channel (Keras's BaseGlobalPooling, under
 * GlobalMaxPooling1D–3D and GlobalAveragePooling1D–3D).
 */
export abstract class GlobalPooling extends Layer {
  /** The number of spatial axes: 1, 2 or 3. */
  readonly rank: number;
  readonly dataFormat: DataFormat;
  readonly keepdims: boolean;

  protected constructor(private readonly reduce: ReduceFn, rank: number, options: GlobalPoolingOptions) {
    super(options);
    const { keepdims = false } = options;
    this.rank = rank;
    this.dataFormat = resolveOptions(this.toString(), { dataFormat: options.dataFormat }, rank).channelsFirst ? 'channelsFirst' : 'channelsLast';
    if (typeof keepdims !== 'boolean') fail(this.toString(), `keepdims must be a boolean, got ${JSON.stringify(keepdims)}`);
    this.keepdims = keepdims;
  }

  /** The spatial axes in the layer's layout. */
  protected get spatialAxes(): number[] {
    const first = this.dataFormat === 'channelsLast' ? 1 : 2;
    return Array.from({ length: this.rank }, (_, i) => first + i);
  }

  /** Fails unless `x` has the layer's rank. */
  protected checkInput(x: Tensor): void {
    checkRank(this, x.shape, this.rank, this.dataFormat);
  }

  call(x: Tensor): Tensor {
    this.checkInput(x);
    return this.reduce(x, this.spatialAxes, this.keepdims);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), dataFormat: this.dataFormat, keepdims: this.keepdims };
  }
}
