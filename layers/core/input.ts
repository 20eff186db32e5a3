import type { DType } from '../../backends/contract.js';
import { fail } from '../../src/errors.js';
import { checkDType } from '../../src/dtype.js';
import { checkShape, type Dim } from '../../src/shape.js';
import { SymbolicTensor } from '../../src/symbolic.js';
import type { Tensor } from '../../src/tensor.js';
import { Layer, LayerNode, producer, type CallOptions, type LayerConfig } from '../layer.js';

export interface InputOptions {
  /** The shape of one sample, without the batch dimension; null marks a dynamic dimension. */
  shape?: readonly Dim[];
  batchSize?: number;
  batchShape?: readonly Dim[];
  dtype?: DType;
  name?: string;
}

/** The layer behind `kiln.Input`: it has no weights and passes its input through. */
export class InputLayer extends Layer {
  static readonly className = 'InputLayer';
  readonly batchShape: Dim[];
  readonly output: SymbolicTensor;

  constructor(options: InputOptions = {}) {
    super({ name: options.name, dtype: options.dtype === undefined ? 'float32' : checkDType('Input', options.dtype) });
    if (options.batchShape) {
      this.batchShape = checkShape('Input', options.batchShape, true);
    } else {
      if (!options.shape) fail('Input', 'expected { shape: [...] } (the shape of one sample, without the batch dimension)');
      this.batchShape = [options.batchSize ?? null, ...checkShape('Input', options.shape, true)];
    }
    this.built = true;
    this.output = new SymbolicTensor(this.batchShape, this.dtype, null, this.name);
    const node = new LayerNode(this, [], [this.output]);
    producer.set(this.output, node);
    this.inboundNodes.push(node);
  }

  call(inputs: Tensor): Tensor {
    return inputs;
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), batchShape: this.batchShape };
  }

  static fromConfig(config: LayerConfig): InputLayer {
    return new InputLayer({ batchShape: config.batchShape as Dim[], dtype: config.dtype, name: config.name });
  }
}

/**
 * A symbolic input of a Functional model.
 * @example
 * const x = kiln.Input({ shape: [784] });         // batch dimension is dynamic
 * const y = new kiln.layers.Dense(10).apply(x);
 * const model = new kiln.Model({ inputs: x, outputs: y });
 */
export function Input(options: InputOptions): SymbolicTensor {
  return new InputLayer(options).output;
}

export type { CallOptions };
