import { fail, fmtShape } from '../../src/errors.js';
import { poolOutputShape, type PoolOptions, type PoolPadding } from '../../src/ops/pool.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { resolveOptions, spatialInts, type DataFormat, type SpatialInts } from '../../src/ops/conv-options.js';

export interface PoolingOptions extends LayerArgs {
  /** The step between windows, one integer or one per spatial axis; null (the default) is poolSize. */
  strides?: SpatialInts | null;
  /** 'valid' (the default) or 'same' (ceil(size / strides) outputs; the padding is never a max and is left out of an average). */
  padding?: PoolPadding;
  /** 'channelsLast' ([batch, ...spatial, channels], the default) or 'channelsFirst'. */
  dataFormat?: DataFormat;
}

/** kiln.ops.maxPool or kiln.ops.averagePool. */
type PoolFn = (x: Tensor, poolSize: SpatialInts, options: PoolOptions) => Tensor;

/** The spatial axes' names by their number, for errors. */
const SPATIAL_NAMES = ['steps', 'height, width', 'depth, height, width'];

/**
 * The max or the mean of each window of the spatial axes, per channel (Keras's BasePooling,
 * under MaxPooling1D–3D and AveragePooling1D–3D). The output shape comes from the pooling's own
 * arithmetic rather than a symbolic call, so spatial sizes known only at run time stay null.
 */
export abstract class Pooling extends Layer {
  /** The number of spatial axes: 1, 2 or 3. */
  readonly rank: number;
  readonly poolSize: number[];
  readonly strides: number[];
  readonly padding: PoolPadding;
  readonly dataFormat: DataFormat;

  protected constructor(private readonly pool: PoolFn, rank: number, poolSize: SpatialInts, options: PoolingOptions) {
    super(options);
    const where = this.toString();
    this.rank = rank;
    this.poolSize = spatialInts(where, 'poolSize', poolSize, rank, 1);
    const resolved = resolveOptions(where, { ...options, strides: options.strides ?? this.poolSize }, rank);
    this.strides = resolved.strides;
    this.padding = resolved.padding as PoolPadding;
    this.dataFormat = resolved.channelsFirst ? 'channelsFirst' : 'channelsLast';
  }

  private get options(): PoolOptions {
    return { strides: this.strides, padding: this.padding, dataFormat: this.dataFormat };
  }

  call(x: Tensor): Tensor {
    // checked under the layer's name before the op checks it under its own
    checkRank(this, x.shape, this.rank, this.dataFormat);
    poolOutputShape(this.toString(), x.shape, this.poolSize, this.options);
    return this.pool(x, this.poolSize, this.options);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), poolSize: this.poolSize, padding: this.padding, strides: this.strides, dataFormat: this.dataFormat };
  }
}

/** Fails unless inputs of `shape` have the layer's rank: batch, `rank` spatial axes, channels. */
export function checkRank(layer: Layer, shape: Shape, rank: number, dataFormat: DataFormat): void {
  if (shape.length === rank + 2) return;
  const spatial = SPATIAL_NAMES[rank - 1];
  const layout = dataFormat === 'channelsLast' ? `[batch, ${spatial}, channels]` : `[batch, channels, ${spatial}]`;
  fail(layer.toString(), `expects inputs of rank ${rank + 2} (${layout}), got shape ${fmtShape(shape)}`);
}
