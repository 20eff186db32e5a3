/** The options every fixed cell (SimpleRNNCell, LSTMCell, GRUCell) shares, with Keras 3's defaults. */
import { getActivation, serializeActivation, type ActivationFn, type ActivationId } from '../../src/activations.js';
import { fail } from '../../src/errors.js';
import { getInitializer, serializeInitializer, type InitializerId } from '../../src/initializers/index.js';
import { getRegularizer, type RegularizerId } from '../../src/regularizers.js';
import { getConstraint, type ConstraintId } from '../../src/constraints.js';
import type { LayerArgs } from '../layer.js';
import { constraintConfig, regularizerConfig } from '../config.js';

export interface CellOptions extends LayerArgs {
  /** Default 'tanh'. */
  activation?: ActivationId;
  useBias?: boolean;
  /** Default 'glorot_uniform'. */
  kernelInitializer?: InitializerId;
  /** Default 'orthogonal'. */
  recurrentInitializer?: InitializerId;
  /** Default 'zeros'. */
  biasInitializer?: InitializerId;
  kernelRegularizer?: RegularizerId | null;
  recurrentRegularizer?: RegularizerId | null;
  biasRegularizer?: RegularizerId | null;
  kernelConstraint?: ConstraintId | null;
  recurrentConstraint?: ConstraintId | null;
  biasConstraint?: ConstraintId | null;
  /** Fraction of the input features dropped in training, one mask for the whole sequence. */
  dropout?: number;
  /** Fraction of the previous state's units dropped in training, one mask for the whole sequence. */
  recurrentDropout?: number;
  seed?: number | null;
}

/** The gated cells' option: the activation of their gates. */
export interface GatedCellOptions extends CellOptions {
  /** Default 'sigmoid'. */
  recurrentActivation?: ActivationId;
}

/** The cell's activation functions, resolved now so that a misspelt id fails at construction, as in Keras. */
export function resolveCellOptions(who: string, units: number, o: GatedCellOptions): { activation: ActivationFn; recurrentActivation: ActivationFn } {
  if (!Number.isInteger(units) || units <= 0) fail(who, `units must be a positive integer, got ${JSON.stringify(units)}`);
  for (const id of [o.kernelInitializer, o.recurrentInitializer, o.biasInitializer]) if (id !== undefined) getInitializer(id);
  for (const id of [o.kernelRegularizer, o.recurrentRegularizer, o.biasRegularizer]) if (id) getRegularizer(id);
  for (const id of [o.kernelConstraint, o.recurrentConstraint, o.biasConstraint]) if (id) getConstraint(id);
  return { activation: getActivation(o.activation === undefined ? 'tanh' : o.activation), recurrentActivation: getActivation(o.recurrentActivation ?? 'sigmoid') };
}

/** The weights' options as addWeight takes them. */
export function weightOptions(o: CellOptions) {
  return {
    kernel: { initializer: o.kernelInitializer ?? 'glorot_uniform', regularizer: o.kernelRegularizer, constraint: o.kernelConstraint },
    recurrentKernel: { initializer: o.recurrentInitializer ?? 'orthogonal', regularizer: o.recurrentRegularizer, constraint: o.recurrentConstraint },
    bias: { initializer: o.biasInitializer ?? 'zeros', regularizer: o.biasRegularizer, constraint: o.biasConstraint },
  };
}

/** The shared part of a cell's config (and of its layer's), in Keras's keys. */
export function cellConfig(units: number, o: CellOptions, seed: number | null): Record<string, unknown> {
  return {
    units,
    activation: serializeActivation(o.activation === undefined ? 'tanh' : o.activation),
    useBias: o.useBias ?? true,
    kernelInitializer: serializeInitializer(o.kernelInitializer ?? 'glorot_uniform'),
    recurrentInitializer: serializeInitializer(o.recurrentInitializer ?? 'orthogonal'),
    biasInitializer: serializeInitializer(o.biasInitializer ?? 'zeros'),
    kernelRegularizer: regularizerConfig(o.kernelRegularizer),
    recurrentRegularizer: regularizerConfig(o.recurrentRegularizer),
    biasRegularizer: regularizerConfig(o.biasRegularizer),
    kernelConstraint: constraintConfig(o.kernelConstraint),
    recurrentConstraint: constraintConfig(o.recurrentConstraint),
    biasConstraint: constraintConfig(o.biasConstraint),
    dropout: o.dropout ?? 0,
    recurrentDropout: o.recurrentDropout ?? 0,
    seed,
  };
}

/** The gated cells' config: the shared part and the gates' activation. */
export function gatedCellConfig(units: number, o: GatedCellOptions, seed: number | null): Record<string, unknown> {
  return { ...cellConfig(units, o, seed), recurrentActivation: serializeActivation(o.recurrentActivation ?? 'sigmoid') };
}
