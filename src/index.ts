/**
 * kiln: a Keras-style deep-learning library for Node.js.
 * @example
 * import * as kiln from 'kiln';
 * const x = kiln.tensor([[1, 2], [3, 4]]);
 * console.log(kiln.ops.matmul(x, x).toString());
 */
export * as ops from './ops/index.js';
export * as random from './random.js';
export * as optimizers from '../optimizers/index.js';
export { setSeed } from './random.js';
export { setFusedKernels, fusedKernelsEnabled } from './fused/switch.js';
export { tensor, zeros, ones, fill, range, eye, zerosLike, onesLike, fullLike } from './creation.js';
export { Tensor, type NestedArray } from './tensor.js';
export { SymbolicTensor } from './symbolic.js';
export { Variable, type VariableOptions } from './variable.js';
export { GradientTape, type GradientOptions } from './autodiff/tape.js';
export { grad, valueAndGrad, stopGradient } from './autodiff/functional.js';
export { tidy, keep, dispose, memory, memoryOf, toBackend, type MemoryReport } from './memory.js';
export { listBackends, setBackend, getBackend, ready, registerBackend, type BackendStatus } from './backends.js';
export { KilnError } from './errors.js';
export type { DType, TypedArray, Backend, BackendDescriptor } from '../backends/contract.js';
export type { TensorLike } from './convert.js';
export const version = '0.1.0';
export * as layers from '../layers/index.js';
export * as losses from '../losses/index.js';
export * as metrics from './metrics/index.js';
export * as callbacks from './callbacks/index.js';
export * as initializers from './initializers/index.js';
export * as regularizers from './regularizers.js';
export * as constraints from './constraints.js';
export * as activations from './activations.js';
export * as io from './io/index.js';
export * as datasets from './datasets/index.js';
export * as onnx from './onnx/index.js';
export { Layer, type LayerArgs, type LayerConfig, type CallOptions } from '../layers/layer.js';
export { Input, InputLayer } from '../layers/input.js';
export { registerLayer } from '../layers/registry.js';
export { Model, type ModelArgs } from './models/model.js';
export { Sequential } from './models/sequential.js';
export { loadModel } from './saving/load.js';
export { clearSession } from './session.js';
