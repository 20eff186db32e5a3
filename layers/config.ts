/** Helpers shared by layers' getConfig/fromConfig: the save format is plain JSON in camelCase. */
import type { Dim } from '../src/shape.js';
import { serializeRegularizer, type RegularizerId, type SerializedRegularizer } from '../src/regularizers.js';
import { serializeConstraint, type ConstraintId, type SerializedConstraint } from '../src/constraints.js';
import type { LayerArgs, LayerConfig } from './layer.js';

/**
 * A layer's constructor options from its saved config. The base config saves `batchInputShape`,
 * which LayerArgs takes apart as `inputShape` and `batchSize`.
 */
export function optionsFromConfig<T extends LayerArgs>(config: LayerConfig): T {
  const { batchInputShape, ...rest } = config;
  if (!Array.isArray(batchInputShape)) return rest as unknown as T;
  const [batch, ...inputShape] = batchInputShape as Dim[];
  return { ...rest, inputShape, batchSize: batch ?? undefined } as unknown as T;
}

/** Optional regularizers and constraints save as null when absent, as in Keras. */
export const regularizerConfig = (id: RegularizerId | null | undefined): SerializedRegularizer | null =>
  id === null || id === undefined ? null : serializeRegularizer(id);

export const constraintConfig = (id: ConstraintId | null | undefined): SerializedConstraint | null =>
  id === null || id === undefined ? null : serializeConstraint(id);
