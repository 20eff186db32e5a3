/**
 * kiln: a Keras-style deep-learning library for Node.js.
 * @example
 * import * as kiln from 'kiln';
 * const x = kiln.tensor([[1, 2], [3, 4]]);
 * console.log(kiln.ops.matmul(x, x).toString());
 */
export * as ops from './src/ops/index.js';
export * as random from './src/random.js';
export * as optimizers from './optimizers/index.js';
export { setSeed } from './src/random.js';
export { setMaxTensorBytes, maxTensorBytes, MAX_RANK } from './src/limits.js';
export { setFusedKernels, fusedKernelsEnabled } from './src/fused/switch.js';
export { tensor, zeros, ones, fill, range, eye, zerosLike, onesLike, fullLike } from './src/creation.js';
export { Tensor, type NestedArray } from './src/tensor.js';
export { SymbolicTensor } from './src/symbolic.js';
export { Variable, type VariableOptions } from './src/variable.js';
export { GradientTape, type GradientOptions } from './src/autodiff/tape.js';
export { grad, valueAndGrad } from './src/autodiff/functional.js';
export { stopGradient } from './src/ops/stop-gradient.js';
export { tidy, keep, dispose, memory, memoryOf, toBackend, type MemoryReport } from './src/memory.js';
export { listBackends, setBackend, getBackend, ready, registerBackend, type BackendStatus } from './src/backends.js';
export { KilnError } from './src/errors.js';
export type { DType, TypedArray, Backend, BackendDescriptor } from './backends/contract.js';
export type { TensorLike } from './src/convert.js';
export { version } from './src/version.js';
export * as layers from './layers/index.js';
export * as losses from './losses/index.js';
export * as metrics from './metrics/index.js';
export * as callbacks from './callbacks/index.js';
export * as initializers from './src/initializers/index.js';
export * as regularizers from './src/regularizers.js';
export * as constraints from './src/constraints.js';
export * as activations from './src/activations.js';
export * as io from './io/index.js';
export * as datasets from './io/datasets/index.js';
export * as data from './data/index.js';
export * as utils from './data/utils.js';
export * as onnx from './onnx/index.js';
export { Layer, type LayerArgs, type LayerConfig, type CallOptions } from './layers/layer.js';
export { Input, InputLayer } from './layers/core/input.js';
export { registerLayer } from './layers/registry.js';
export { Model, type ModelArgs } from './models/model.js';
export { Sequential } from './models/sequential.js';
export { loadModel } from './saving/load.js';
export { clearSession } from './layers/session.js';
