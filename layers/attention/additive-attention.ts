import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { LayerArgs, LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';
import { Attention } from './attention.js';

export interface AdditiveAttentionOptions extends LayerArgs {
  /** Learn a weight per feature that scales the tanh terms ('scale' [dim], Glorot-uniform). */
  useScale?: boolean;
  /** The rate at which attention probabilities are dropped in training. */
  dropout?: number;
  seed?: number | null;
}

/**
 * Additive attention (keras.layers.AdditiveAttention, Bahdanau-style): as Attention, with scores
 * sum(scale · tanh(query + key)) over the features. Its one weight is 'scale' [dim] with useScale
 * (the default).
 * @example
 * const att = new kiln.layers.AdditiveAttention();
 * att.apply([kiln.random.normal([2, 3, 4]), kiln.random.normal([2, 5, 4])]).shape;   // [2, 3, 4]
 */
export class AdditiveAttention extends Attention {
  static override readonly className = 'AdditiveAttention';

  constructor({ useScale = true, ...args }: AdditiveAttentionOptions = {}) {
    super({ ...args, useScale });
  }

  override build(shapes: Shape[]): void {
    const [query, value, key] = this.split(shapes);
    this.checkShapes([query, value, key]);
    const dim = query.at(-1) ?? null;
    if (dim === null) fail(this.toString(), `the query's last dimension must be known, got ${fmtShape(query)}`);
    if (this.useScale) this.scale = this.addWeight('scale', [dim], { initializer: 'glorot_uniform' });
  }

  protected override scores(query: Tensor, key: Tensor): Tensor {
    const t = ops.tanh(ops.add(ops.expandDims(query, -2), ops.expandDims(key, -3)));
    return ops.sum(this.scale ? ops.multiply(t, this.scale.value) : t, -1);
  }

  override getConfig(): LayerConfig {
    const { scoreMode: _scoreMode, ...config } = super.getConfig();
    return config as LayerConfig;
  }

  static override fromConfig(config: LayerConfig): AdditiveAttention {
    return new AdditiveAttention(optionsFromConfig<AdditiveAttentionOptions>(config));
  }
}
