import { fail } from '../../src/errors.js';
import { L1L2 } from '../../src/regularizers.js';
import { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export interface ActivityRegularizationOptions extends LayerArgs {
  l1?: number;
  l2?: number;
}

/**
 * Passes its input through and adds `l1 · sum(|x|) + l2 · sum(x²)` to `callLosses`
 * (keras.layers.ActivityRegularization).
 * @example
 * const reg = new kiln.layers.ActivityRegularization({ l2: 1e-4 });
 * reg.apply(x);  reg.losses;   // [penalty]
 */
export class ActivityRegularization extends Layer {
  static readonly className = 'ActivityRegularization';
  override supportsMasking = true;
  readonly l1: number;
  readonly l2: number;
  private readonly penalty: L1L2;

  constructor({ l1 = 0, l2 = 0, ...args }: ActivityRegularizationOptions = {}) {
    super(args);
    for (const [name, v] of [['l1', l1], ['l2', l2]] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(this.toString(), `${name} must be a finite number >= 0, got ${String(v)}`);
    }
    this.l1 = l1;
    this.l2 = l2;
    this.penalty = new L1L2({ l1, l2 });
  }

  call(x: Tensor): Tensor {
    // symbolic calls only infer shapes: a penalty there would be thrown away
    if (x instanceof Tensor && (this.l1 || this.l2)) this.addActivityLoss(this.penalty.call(x), x);
    return x;
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), l1: this.l1, l2: this.l2 };
  }

  static fromConfig(config: LayerConfig): ActivityRegularization {
    return new ActivityRegularization(optionsFromConfig(config));
  }
}
