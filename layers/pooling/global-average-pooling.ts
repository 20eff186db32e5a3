import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import type { CallOptions, LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { GlobalPooling, type GlobalPoolingOptions } from './base-global-pooling.js';

/**
 * The mean over all steps, per channel (keras.layers.GlobalAveragePooling1D): [batch, steps,
 * channels] → [batch, channels]. Given a mask [batch, steps], the mean is over the steps it keeps
 * (a sample with none kept gives NaN, as in Keras).
 * @example
 * const x = kiln.tensor([[[1, 6], [4, 2], [7, 9]]]);
 * new kiln.layers.GlobalAveragePooling1D().apply(x);                                          // [[4, 5.666…]]
 * new kiln.layers.GlobalAveragePooling1D().apply(x, { mask: kiln.tensor([[true, true, false]]) });   // [[2.5, 4]]
 */
export class GlobalAveragePooling1D extends GlobalPooling {
  static readonly className = 'GlobalAveragePooling1D';

  constructor(options: GlobalPoolingOptions = {}) {
    super(ops.mean, 1, options);
  }

  override call(x: Tensor, { mask }: CallOptions = {}): Tensor {
    if (mask == null) return super.call(x);
    this.checkInput(x);
    const steps = this.spatialAxes[0];
    if (mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== x.shape[steps]) {
      fail(this.toString(), `expects a mask of shape [batch, steps] = [${x.shape[0]},${x.shape[steps]}] for inputs of shape ${fmtShape(x.shape)}, got ${fmtShape(mask.shape)}`);
    }
    const keep = ops.expandDims(ops.cast(mask, 'bool'), this.dataFormat === 'channelsLast' ? 2 : 1);
    const values = x.dtype === 'float64' ? x : ops.cast(x, 'float32');
    const total = ops.sum(ops.where(keep, values, 0), steps, this.keepdims);
    return ops.divide(total, ops.sum(ops.cast(keep, values.dtype), steps, this.keepdims));
  }

  static fromConfig(config: LayerConfig): GlobalAveragePooling1D {
    return new GlobalAveragePooling1D(optionsFromConfig(config));
  }
}

/**
 * The mean over height and width, per channel (keras.layers.GlobalAveragePooling2D).
 * @example
 * new kiln.layers.GlobalAveragePooling2D().apply(kiln.zeros([8, 7, 7, 64])).shape;   // [8, 64]
 */
export class GlobalAveragePooling2D extends GlobalPooling {
  static readonly className = 'GlobalAveragePooling2D';

  constructor(options: GlobalPoolingOptions = {}) {
    super(ops.mean, 2, options);
  }

  static fromConfig(config: LayerConfig): GlobalAveragePooling2D {
    return new GlobalAveragePooling2D(optionsFromConfig(config));
  }
}

/**
 * The mean over depth, height and width, per channel (keras.layers.GlobalAveragePooling3D).
 * @example
 * new kiln.layers.GlobalAveragePooling3D({ dataFormat: 'channelsFirst' }).apply(kiln.zeros([2, 3, 4, 4, 4])).shape;   // [2, 3]
 */
export class GlobalAveragePooling3D extends GlobalPooling {
  static readonly className = 'GlobalAveragePooling3D';

  constructor(options: GlobalPoolingOptions = {}) {
    super(ops.mean, 3, options);
  }

  static fromConfig(config: LayerConfig): GlobalAveragePooling3D {
    return new GlobalAveragePooling3D(optionsFromConfig(config));
  }
}
