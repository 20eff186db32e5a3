/**
 * kiln in a browser: the package entry's floors that need no file system, bundled by
 * `npm run build:browser` into dist/browser/kiln.js (scripts/build-browser.ts). Tensors, ops,
 * autodiff, layers, models and their training loop, losses, optimizers, metrics, the callbacks
 * that write no files, the array helpers of kiln.utils, and the backends: `webgpu` on
 * navigator.gpu (a secure context: https or localhost) and `reference`. What reads or writes files
 * (saving, ONNX export, io, Datasets and their file sources, the CLI) stays in the Node entry,
 * index.ts; Model.save, saveWeights, loadWeights and export fail with a clear error here.
 *
 * A module imported on the way that uses Node has a `.browser.ts` sibling the build takes in
 * its place (the native backend's descriptor, the version, JsonLogger's file, the facades).
 * @example
 * import * as kiln from './kiln.js';
 * await kiln.setBackend('webgpu');
 * const model = new kiln.Sequential([kiln.Input({ shape: [4] }), new kiln.layers.Dense(1)]);
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
export { version } from './src/version.browser.js';
export * as layers from './layers/index.js';
export * as losses from './losses/index.js';
export * as metrics from './metrics/index.js';
export * as callbacks from './callbacks/index.browser.js';
export * as utils from './utils/index.browser.js';
export * as initializers from './src/initializers/index.js';
export * as regularizers from './src/regularizers.js';
export * as constraints from './src/constraints.js';
export * as activations from './src/activations.js';
export { Layer, type LayerArgs, type LayerConfig, type CallOptions } from './layers/layer.js';
export { Input, InputLayer } from './layers/core/input.js';
export { registerLayer } from './layers/registry.js';
export { Model, type ModelArgs } from './models/model.js';
export { Sequential } from './models/sequential.js';
export { clearSession } from './layers/session.js';
