/**
 * What BatchNormalization, LayerNormalization and GroupNormalization share: the learned scale
 * 'gamma' and offset 'beta' applied after normalizing, with their options, weights (gamma first,
 * Keras's order) and config.
 */
import { getInitializer, serializeInitializer, type InitializerId } from '../../src/initializers/index.js';
import { getRegularizer, type RegularizerId } from '../../src/regularizers.js';
import { getConstraint, type ConstraintId } from '../../src/constraints.js';
import type { Variable } from '../../src/variable.js';
import type { Layer } from '../layer.js';
import { constraintConfig, regularizerConfig } from '../config.js';

export interface AffineOptions {
  /** Add the learned offset 'beta' (default true). */
  center?: boolean;
  /** Multiply by the learned scale 'gamma' (default true). */
  scale?: boolean;
  betaInitializer?: InitializerId;
  gammaInitializer?: InitializerId;
  betaRegularizer?: RegularizerId | null;
  gammaRegularizer?: RegularizerId | null;
  betaConstraint?: ConstraintId | null;
  gammaConstraint?: ConstraintId | null;
}

/** Resolves the ids now, so that a misspelt one fails at construction, as in Keras. */
export function checkAffine(o: AffineOptions): void {
  for (const id of [o.betaInitializer, o.gammaInitializer]) if (id !== undefined) getInitializer(id);
  for (const id of [o.betaRegularizer, o.gammaRegularizer]) if (id) getRegularizer(id);
  for (const id of [o.betaConstraint, o.gammaConstraint]) if (id) getConstraint(id);
}

/** Creates 'gamma' (when `scale`) then 'beta' (when `center`), both of `shape`. */
export function addAffineWeights(layer: Layer, shape: number[], o: AffineOptions, scale: boolean, center: boolean): { gamma: Variable | null; beta: Variable | null } {
  const gamma = scale
    ? layer.addWeight('gamma', shape, { initializer: o.gammaInitializer ?? 'ones', regularizer: o.gammaRegularizer, constraint: o.gammaConstraint })
    : null;
  const beta = center
    ? layer.addWeight('beta', shape, { initializer: o.betaInitializer ?? 'zeros', regularizer: o.betaRegularizer, constraint: o.betaConstraint })
    : null;
  return { gamma, beta };
}

export function affineConfig(o: AffineOptions): Record<string, unknown> {
  return {
    center: o.center ?? true,
    scale: o.scale ?? true,
    betaInitializer: serializeInitializer(o.betaInitializer ?? 'zeros'),
    gammaInitializer: serializeInitializer(o.gammaInitializer ?? 'ones'),
    betaRegularizer: regularizerConfig(o.betaRegularizer),
    gammaRegularizer: regularizerConfig(o.gammaRegularizer),
    betaConstraint: constraintConfig(o.betaConstraint),
    gammaConstraint: constraintConfig(o.gammaConstraint),
  };
}
