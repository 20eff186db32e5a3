import * as ops from '../../src/ops/index.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';
import type { Variable } from '../../src/variable.js';
import { serializeInitializer, type InitializerId } from '../../src/initializers/index.js';
import type { RegularizerId } from '../../src/regularizers.js';
import type { ConstraintId } from '../../src/constraints.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { constraintConfig, optionsFromConfig, regularizerConfig } from '../config.js';

export interface PReLUOptions extends LayerArgs {
  alphaInitializer?: InitializerId;
  alphaRegularizer?: RegularizerId | null;
  alphaConstraint?: ConstraintId | null;
  /** Axes (1-based, the batch is 0) along which one alpha is shared, e.g. [1, 2] for images. */
  sharedAxes?: number | readonly number[] | null;
}

/**
 * x for x >= 0, else alpha · x, with a learned 'alpha' of the sample's shape (size 1 along
 * `sharedAxes`) (keras.layers.PReLU).
 * @example
 * new kiln.layers.PReLU({ sharedAxes: [1, 2] }).apply(kiln.zeros([8, 28, 28, 16]));   // alpha [1, 1, 16]
 */
export class PReLU extends Layer {
  static readonly className = 'PReLU';
  override supportsMasking = true;
  readonly sharedAxes: number[] | null;
  alpha: Variable | null = null;

  constructor(private readonly options: PReLUOptions = {}) {
    super(options);
    const shared = options.sharedAxes;
    this.sharedAxes = shared === null || shared === undefined ? null : typeof shared === 'number' ? [shared] : [...shared];
  }

  override build(inputShape: Shape): void {
    const shape = inputShape.slice(1).map((d, i) => (this.sharedAxes?.includes(i + 1) ? 1 : d));
    for (const a of this.sharedAxes ?? []) {
      if (!Number.isInteger(a) || a < 1 || a >= inputShape.length) {
        fail(this.toString(), `sharedAxes must be axes 1..${inputShape.length - 1} of the input, got ${JSON.stringify(this.sharedAxes)} for shape ${fmtShape(inputShape)}`);
      }
    }
    if (shape.some((d) => d === null)) {
      fail(this.toString(), `every input dimension but the batch and sharedAxes must be known, got shape ${fmtShape(inputShape)}`);
    }
    const o = this.options;
    this.alpha = this.addWeight('alpha', shape as number[], {
      initializer: o.alphaInitializer ?? 'zeros', regularizer: o.alphaRegularizer, constraint: o.alphaConstraint,
    });
  }

  call(x: Tensor): Tensor {
    const alpha = this.alpha!;
    const fits = x.rank === alpha.rank + 1 && alpha.shape.every((d, i) => d === 1 || d === x.shape[i + 1]);
    if (!fits) fail(this.toString(), `expects inputs of shape [batch,${alpha.shape.join(',')}] (1 = shared), got shape ${fmtShape(x.shape)}`);
    // relu(x) - alpha · relu(-x): Keras's form, so the gradient at 0 matches it too
    return ops.subtract(ops.relu(x), ops.multiply(alpha, ops.relu(ops.neg(x))));
  }

  override getConfig(): LayerConfig {
    const o = this.options;
    return {
      ...super.getConfig(),
      alphaInitializer: serializeInitializer(o.alphaInitializer ?? 'zeros'),
      alphaRegularizer: regularizerConfig(o.alphaRegularizer),
      alphaConstraint: constraintConfig(o.alphaConstraint),
      sharedAxes: this.sharedAxes,
    };
  }

  static fromConfig(config: LayerConfig): PReLU {
    return new PReLU(optionsFromConfig(config));
  }
}
