/**
 * Layer classes by their saved class name, for rebuilding layers from configs (model loading).
 * Kiln's layers are registered here; custom layers join with `registerLayer`.
 */
import { fail } from '../src/errors.js';
import type { Layer, LayerConfig } from './layer.js';
import { InputLayer } from './core/input.js';
import { Dense } from './core/dense.js';
import { Activation } from './activations/activation.js';
import { ReLU } from './activations/relu.js';
import { LeakyReLU } from './activations/leaky-relu.js';
import { PReLU } from './activations/prelu.js';
import { ELU } from './activations/elu.js';
import { Softmax } from './activations/softmax.js';
import { Dropout } from './regularization/dropout.js';
import { GaussianNoise } from './regularization/gaussian-noise.js';
import { GaussianDropout } from './regularization/gaussian-dropout.js';
import { ActivityRegularization } from './regularization/activity-regularization.js';
import { Flatten } from './reshaping/flatten.js';
import { Reshape } from './reshaping/reshape.js';
import { Permute } from './reshaping/permute.js';
import { RepeatVector } from './reshaping/repeat-vector.js';
import { Identity } from './core/identity.js';
import { Lambda } from './core/lambda.js';
import { Add, Average, Maximum, Minimum, Multiply, Subtract } from './merging/merge.js';
import { Concatenate } from './merging/concatenate.js';
import { Dot } from './merging/dot.js';
import { Rescaling } from './preprocessing/rescaling.js';
import { Normalization } from './preprocessing/normalization.js';

/** What the registry needs of a layer class: its saved name and a way back from its config. */
export interface LayerClass {
  readonly className: string;
  fromConfig(config: LayerConfig): Layer;
}

/** A layer as saved: its class name and its getConfig(). */
export interface SerializedLayer {
  className: string;
  config: LayerConfig;
}

const REGISTRY = new Map<string, LayerClass>();

/**
 * Makes a custom layer class loadable from saved configs. The class needs a static `className`
 * (the name saved) and a static `fromConfig(config)`.
 * @example
 * class Scale extends kiln.layers.Layer {
 *   static readonly className = 'Scale';
 *   call(x) { return kiln.ops.multiply(x, 2); }
 *   static fromConfig(config) { return new Scale(config); }
 * }
 * kiln.registerLayer(Scale);
 */
export function registerLayer(cls: LayerClass): void {
  // its own className: a subclass inheriting its parent's would overwrite the parent's entry
  const own: unknown = Object.prototype.hasOwnProperty.call(cls ?? {}, 'className') ? cls.className : undefined;
  if (typeof own !== 'string' || own === '') {
    fail('registerLayer', `the class ${(cls as { name?: string } | null)?.name ?? String(cls)} needs a static className (the name its configs are saved under)`);
  }
  if (typeof cls.fromConfig !== 'function') fail('registerLayer', `the class '${own}' needs a static fromConfig(config)`);
  const existing = REGISTRY.get(own);
  if (existing && existing !== cls) fail('registerLayer', `a different class is already registered as '${own}'`);
  REGISTRY.set(own, cls);
}

/** The registered class for `className`, if any. */
export function getLayerClass(className: string): LayerClass | undefined {
  return REGISTRY.get(className);
}

/** Rebuilds a layer from `{ className, config }` (what models save for each layer). */
export function layerFromConfig({ className, config }: SerializedLayer): Layer {
  const cls = REGISTRY.get(className);
  if (!cls) {
    fail('layerFromConfig', `unknown layer class '${className}'; registered classes: ${[...REGISTRY.keys()].sort().join(', ')}. Register a custom layer with kiln.registerLayer(YourLayer)`);
  }
  return cls.fromConfig(config);
}

/** A layer's save format, which layerFromConfig reads back. */
export function serializeLayer(layer: Layer): SerializedLayer {
  return { className: layer.className, config: layer.getConfig() };
}

for (const cls of [
  InputLayer, Dense, Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax, Dropout, GaussianNoise, GaussianDropout,
  ActivityRegularization, Flatten, Reshape, Permute, RepeatVector, Identity, Lambda,
  Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot, Rescaling, Normalization,
] as LayerClass[]) {
  registerLayer(cls);
}
