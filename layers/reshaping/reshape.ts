import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Dim, Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import { product } from '../../src/ops/movement.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

/**
 * Reshapes each sample to `targetShape` (the batch dimension is kept), one entry of which may
 * be -1, inferred from the sample's size (keras.layers.Reshape).
 * @example
 * new kiln.layers.Reshape([4, -1]).apply(kiln.zeros([2, 12])).shape;   // [2, 4, 3]
 */
export class Reshape extends Layer {
  static readonly className = 'Reshape';
  readonly targetShape: number[];

  constructor(targetShape: readonly number[], args: LayerArgs = {}) {
    super(args);
    const ok = Array.isArray(targetShape) && targetShape.every((d) => Number.isInteger(d) && (d >= 1 || d === -1));
    if (!ok || targetShape.filter((d) => d === -1).length > 1) {
      fail(this.toString(), `targetShape must be positive integers with at most one -1, got ${JSON.stringify(targetShape)}`);
    }
    this.targetShape = [...targetShape];
  }

  call(x: Tensor): Tensor {
    const shape: Shape = x.shape;
    return ops.reshape(x, [shape[0], ...this.resolve(shape)]);
  }

  /** The target with -1 filled in where the sample's size is known, checked against it. */
  private resolve(inputShape: Shape): Dim[] {
    const size = product(inputShape.slice(1));
    if (size === null) return this.targetShape;
    const known = this.targetShape.reduce((n, d) => (d === -1 ? n : n * d), 1);
    const inferred = this.targetShape.includes(-1);
    if (inferred ? size % known !== 0 : size !== known) {
      fail(this.toString(), `cannot reshape samples of shape ${fmtShape(inputShape.slice(1))} (${size} values) into ${fmtShape(this.targetShape)}`);
    }
    return this.targetShape.map((d) => (d === -1 ? size / known : d));
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), targetShape: this.targetShape };
  }

  static fromConfig(config: LayerConfig): Reshape {
    return new Reshape(config.targetShape as number[], optionsFromConfig(config));
  }
}
