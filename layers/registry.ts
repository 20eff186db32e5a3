/**
 * Layer classes by their saved class name, for rebuilding layers from configs (model loading).
 * Each family's index (layers/core/index.ts, …) registers its own classes; custom layers join
 * with `registerLayer`.
 */
import { fail } from '../src/errors.js';
import { Registry, ownClassName, serialize, type Serialized } from '../src/registry.js';
import type { Layer, LayerConfig } from './layer.js';

/** What the registry needs of a layer class: its saved name and a way back from its config. */
export interface LayerClass {
  readonly className: string;
  fromConfig(config: LayerConfig): Layer;
}

/** A layer as saved: its class name and its getConfig(). */
export type SerializedLayer = Serialized<LayerConfig>;

const LAYERS = new Registry<LayerClass>('layer class');

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
  const className = ownClassName(cls);
  // a class without a className of its own gets the registry's error, which names that first
  if (className !== undefined && typeof cls.fromConfig !== 'function') fail('registerLayer', `the class '${className}' needs a static fromConfig(config)`);
  LAYERS.register(cls, [], 'registerLayer');
}

/** The registered class for `className`, if any. */
export function getLayerClass(className: string): LayerClass | undefined {
  return LAYERS.getClass(className);
}

/** Rebuilds a layer from `{ className, config }` (what models save for each layer). */
export function layerFromConfig({ className, config }: SerializedLayer): Layer {
  const cls = LAYERS.getClass(className);
  if (!cls) {
    fail('layerFromConfig', `unknown layer class '${className}'; registered classes: ${LAYERS.classNames().sort().join(', ')}. Register a custom layer with kiln.registerLayer(YourLayer)`);
  }
  return cls.fromConfig(config);
}

/** A layer's save format, which layerFromConfig reads back. */
export function serializeLayer(layer: Layer): SerializedLayer {
  return serialize(layer);
}
