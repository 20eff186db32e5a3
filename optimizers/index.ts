import { fail } from '../src/errors.js';
import { describe } from '../src/variable.js';
import { Registry, serialize, type Serialized } from '../src/registry.js';
import { Optimizer, type OptimizerConfig } from './optimizer.js';
import { SGD } from './sgd.js';
import { Adam } from './adam.js';
import { AdamW } from './adamw.js';
import { RMSprop } from './rmsprop.js';
import { Adagrad } from './adagrad.js';
import { Adadelta } from './adadelta.js';
import { Adamax } from './adamax.js';
import { Nadam } from './nadam.js';
import { Lion } from './lion.js';
import { Ftrl } from './ftrl.js';

export { Optimizer, checkNumber, type OptimizerOptions, type OptimizerConfig, type SlotSpec, type GradientPairs } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, type AdamOptions } from './adam.js';
export { AdamW } from './adamw.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { Adadelta, type AdadeltaOptions } from './adadelta.js';
export { Adamax, type AdamaxOptions } from './adamax.js';
export { Nadam, type NadamOptions } from './nadam.js';
export { Lion, type LionOptions } from './lion.js';
export { Ftrl, type FtrlOptions } from './ftrl.js';
export * as schedules from './schedules.js';
export {
  LearningRateSchedule, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay, CosineDecay,
  CosineDecayRestarts, serializeSchedule, deserializeSchedule, type SerializedSchedule, type ScheduleConfig,
} from './schedules.js';

/** An optimizer as getOptimizer accepts it: a Keras id ('adam'), an instance, or `{className, config}`. */
export type OptimizerIdentifier = string | Optimizer | SerializedOptimizer;

export interface SerializedOptimizer {
  className: string;
  config?: Partial<OptimizerConfig>;
}

type OptimizerClass = (new () => Optimizer) & { fromConfig(config: Partial<OptimizerConfig>): Optimizer };

/** Keras's string ids; Keras resolves names case-insensitively ('adam', 'Adam', 'rmsprop', 'RMSprop'). */
const OPTIMIZERS = new Registry<OptimizerClass>('optimizer', (name) => name.toLowerCase()).registerAll([
  [SGD, 'sgd'], [Adam, 'adam'], [AdamW, 'adamw'], [RMSprop, 'rmsprop'], [Adagrad, 'adagrad'], [Adadelta, 'adadelta'],
  [Adamax, 'adamax'], [Nadam, 'nadam'], [Lion, 'lion'], [Ftrl, 'ftrl'],
]);

function lookup(name: unknown): OptimizerClass {
  const cls = OPTIMIZERS.get(name);
  if (!cls) fail('getOptimizer', `unknown optimizer ${JSON.stringify(name)}; known: ${OPTIMIZERS.ids().join(', ')}`);
  return cls;
}

/**
 * Resolves an optimizer: a string id gives one with Keras's defaults, an instance is returned as
 * is, and `{className, config}` (serializeOptimizer's output) is rebuilt.
 * @example
 * const opt = kiln.optimizers.getOptimizer('adam');
 * const copy = kiln.optimizers.getOptimizer(kiln.optimizers.serializeOptimizer(opt));
 */
export function getOptimizer(id: OptimizerIdentifier | unknown): Optimizer {
  if (id instanceof Optimizer) return id;
  if (typeof id === 'string') return new (lookup(id))();
  if (id !== null && typeof id === 'object' && 'className' in id) {
    const { className, config } = id as SerializedOptimizer;
    return lookup(className).fromConfig(config ?? {});
  }
  return fail('getOptimizer', `expected an optimizer id (${OPTIMIZERS.ids().join(', ')}), an Optimizer or {className, config}, got ${describe(id)}`);
}

/** `{className, config}`: JSON that getOptimizer turns back into the same optimizer (without its state). */
export function serializeOptimizer(optimizer: Optimizer): Serialized<OptimizerConfig> {
  if (!(optimizer instanceof Optimizer)) fail('serializeOptimizer', `expected an Optimizer, got ${describe(optimizer)}`);
  return serialize(optimizer);
}
