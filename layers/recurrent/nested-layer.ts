/** What the wrappers (TimeDistributed, Bidirectional) share: the layers they hold, saved inside their configs. */
import { fail } from '../../src/errors.js';
import type { Layer } from '../layer.js';
import { layerFromConfig, type SerializedLayer } from '../registry.js';

/** A layer saved inside a wrapper's config, rebuilt through the registry. */
export function nestedLayer(saved: unknown, where: string, key: string): Layer {
  const s = saved as Partial<SerializedLayer> | null;
  if (s === null || typeof s !== 'object' || typeof s.className !== 'string' || s.config === null || typeof s.config !== 'object') {
    fail(`${where}.fromConfig`, `config.${key} must be a saved layer {className, config}, got ${JSON.stringify(saved)?.slice(0, 80) ?? 'nothing'}`);
  }
  return layerFromConfig(s as SerializedLayer);
}

/** What a wrapper was given instead of a layer, for its error. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'no class'})`;
  return typeof value;
}
