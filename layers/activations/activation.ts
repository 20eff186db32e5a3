import { getActivation, serializeActivation, type ActivationFn, type ActivationId } from '../../src/activations.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, type LayerArgs, type LayerConfig } from '../layer.js';
import { optionsFromConfig } from '../config.js';

/**
 * Applies an activation function (keras.layers.Activation).
 * @example
 * new kiln.layers.Activation('relu').apply(kiln.tensor([-1, 2]));   // [0, 2]
 */
export class Activation extends Layer {
  static readonly className = 'Activation';
  override supportsMasking = true;
  readonly activation: ActivationFn;

  constructor(private readonly activationId: ActivationId, args: LayerArgs = {}) {
    super(args);
    this.activation = getActivation(activationId);
  }

  call(inputs: Tensor): Tensor {
    return this.activation(inputs);
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), activation: serializeActivation(this.activationId) };
  }

  static fromConfig(config: LayerConfig): Activation {
    return new Activation(config.activation as string, optionsFromConfig(config));
  }
}
