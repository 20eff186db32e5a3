import { reshape } from '../../src/ops/movement.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Dim, Shape } from '../../src/shape.js';
import { SymbolicTensor } from '../../src/symbolic.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type CallOptions, type LayerArgs, type LayerConfig } from '../layer.js';
import { withMask } from '../mask.js';
import { serializeLayer } from '../registry.js';
import { describeValue, nestedLayer } from './nested-layer.js';
import { optionsFromConfig } from '../config.js';

/**
 * Applies one layer to every time step of its input (keras.layers.TimeDistributed): axis 1 of
 * `[batch, time, ...]` is time, and each step `[batch, ...]` goes through the same layer, with the
 * same weights. The weights are the wrapped layer's, under its names.
 *
 * Time is folded into the batch (`[batch·time, ...]`, one call of the layer, then unfolded), which
 * is one step-by-step application for any layer that treats the rows of a batch independently.
 * A layer that pools statistics over the batch sees all steps at once: BatchNormalization in
 * training normalizes over batch and time together (Keras 3 loops over steps and normalizes each).
 * @example
 * const td = new kiln.layers.TimeDistributed(new kiln.layers.Dense(8));
 * td.apply(kiln.zeros([32, 10, 16])).shape;   // [32, 10, 8]
 */
export class TimeDistributed extends Layer {
  static readonly className = 'TimeDistributed';
  /** As Keras 3.15: the input's mask passes on to the output unchanged. */
  override supportsMasking = true;
  readonly layer: Layer;

  constructor(layer: Layer, args: LayerArgs = {}) {
    super(args);
    if (!(layer instanceof Layer)) fail(this.toString(), `expects a kiln Layer to wrap, got ${describeValue(layer)}`);
    if (layer.multiInput) fail(this.toString(), `wraps a layer of one input; ${layer} takes a list of inputs`);
    this.layer = this.track(layer);
  }

  /** The shape of one step: time left out. */
  private stepShape(inputShape: Shape): Dim[] {
    if (!Array.isArray(inputShape) || inputShape.length < 3) {
      fail(this.toString(), `expects inputs of rank >= 3 [batch, time, ...], got shape ${fmtShape(inputShape ?? [])}`);
    }
    return [inputShape[0], ...inputShape.slice(2)];
  }

  override build(inputShape: Shape): void {
    const step = this.stepShape(inputShape);
    if (!this.layer.built) this.layer.build(step);
  }

  call(inputs: Tensor, options: CallOptions = {}): Tensor {
    this.stepShape(inputs.shape);
    const [batch, time, ...rest] = inputs.shape as Dim[];
    // a symbolic batch or time folds into an unknown size: the eager call knows both
    const folded = batch !== null && time !== null ? batch * time : null;
    const mask = options.mask ? reshape(this.checkedMask(options.mask, inputs), [folded, ...options.mask.shape.slice(2)]) : null;
    const steps = reshape(inputs, [folded, ...rest]);
    this.layer.callLosses = [];
    const y = steps instanceof SymbolicTensor && infersShapes(this.layer)
      ? this.stepSpec(steps)
      : (this.layer.call(steps, withMask<CallOptions>({ training: options.training }, false, mask)) as Tensor | Tensor[]);
    if (Array.isArray(y)) fail(this.toString(), `wraps a layer of one output; ${this.layer} returned a list of ${y.length}`);
    return reshape(y, [batch, time, ...y.shape.slice(1)]);
  }

  /**
   * A step's output spec from a layer that gives its shape without running call (an RNN, whose
   * loop needs a known length); its dtype is the input's, as Layer.outputSpecs gives it.
   */
  private stepSpec(steps: SymbolicTensor): Tensor {
    const shape = this.layer.computeOutputShape(steps.shape);
    if (shape.length > 0 && Array.isArray(shape[0])) fail(this.toString(), `wraps a layer of one output; ${this.layer} returns a list of ${shape.length}`);
    return new SymbolicTensor(shape as Shape, steps.dtype) as unknown as Tensor;
  }

  /** A mask is [batch, time, ...], as Keras checks it: each step's mask goes with that step. */
  private checkedMask(mask: Tensor, inputs: Tensor): Tensor {
    const [b, t] = mask.shape as Dim[];
    const clash = (m: Dim | undefined, x: Dim): boolean => m !== null && m !== undefined && x !== null && m !== x;
    if (mask.rank < 2 || clash(b, inputs.shape[0]) || clash(t, inputs.shape[1])) {
      fail(this.toString(), `a mask must be [batch, time, ...] with the input's batch and time: the input is ${fmtShape(inputs.shape)}, the mask ${fmtShape(mask.shape)}`);
    }
    return mask;
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), layer: serializeLayer(this.layer) };
  }

  static fromConfig(config: LayerConfig): TimeDistributed {
    const { layer, ...rest } = config;
    return new TimeDistributed(nestedLayer(layer, 'TimeDistributed', 'layer'), optionsFromConfig(rest as LayerConfig));
  }
}

/** Whether `layer` gives its output shape without running call, as Layer.outputSpecs decides. */
function infersShapes(layer: Layer): boolean {
  return layer.computeOutputShape !== Layer.prototype.computeOutputShape;
}
