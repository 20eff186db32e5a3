/** Helpers shared by layers' getConfig/fromConfig: the save format is plain JSON in camelCase. */
import type { Dim } from '../src/shape.js';
import { serializeRegularizer, type RegularizerId, type SerializedRegularizer } from '../src/regularizers.js';
import { serializeConstraint, type ConstraintId, type SerializedConstraint } from '../src/constraints.js';
import { serializeInitializer, type InitializerId } from '../src/initializers/index.js';
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

/** The kernel and bias options of a layer with a kernel and an optional bias (Dense and its kin). */
export interface KernelBiasOptions {
  kernelInitializer?: InitializerId;
  biasInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId | null;
  biasRegularizer?: RegularizerId | null;
  activityRegularizer?: RegularizerId | null;
  kernelConstraint?: ConstraintId | null;
  biasConstraint?: ConstraintId | null;
}

/** Those options as a config saves them, with Keras's defaults (glorot_uniform, zeros). */
export function kernelBiasConfig(o: KernelBiasOptions): Record<string, unknown> {
  return {
    kernelInitializer: serializeInitializer(o.kernelInitializer ?? 'glorot_uniform'),
    biasInitializer: serializeInitializer(o.biasInitializer ?? 'zeros'),
    kernelRegularizer: regularizerConfig(o.kernelRegularizer),
    biasRegularizer: regularizerConfig(o.biasRegularizer),
    activityRegularizer: regularizerConfig(o.activityRegularizer),
    kernelConstraint: constraintConfig(o.kernelConstraint),
    biasConstraint: constraintConfig(o.biasConstraint),
  };
}
