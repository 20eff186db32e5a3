/**
 * kiln.losses: Keras 3's losses, each as a class (weighted and reduced by `apply`) and as a
 * function giving per-sample values.
 * @example
 * const mse = losses.getLoss('mse');
 * mse.apply([[0, 1], [0, 0]], [[1, 1], [1, 0]]);   // 0.5
 */
import { fail } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { describe } from '../src/variable.js';
import { Registry, isSerialized, serialize, type Serialized } from '../src/registry.js';
import { Loss, LossFunctionWrapper, type LossConfig } from './loss.js';
import {
  CosineSimilarity, Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
  MeanSquaredLogarithmicError, cosineSimilarity, huber, logCosh, meanAbsoluteError, meanAbsolutePercentageError,
  meanSquaredError, meanSquaredLogarithmicError,
} from './regression.js';
import {
  BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalFocalCrossentropy, KLDivergence,
  Poisson, binaryCrossentropy, binaryFocalCrossentropy, categoricalCrossentropy, categoricalFocalCrossentropy,
  klDivergence, poisson,
} from './probabilistic.js';
import { SparseCategoricalCrossentropy, sparseCategoricalCrossentropy } from './sparse.js';
import { CategoricalHinge, Hinge, SquaredHinge, categoricalHinge, hinge, squaredHinge } from './hinge.js';
import { Dice, Tversky, dice, tversky } from './segmentation.js';

export { Loss, LossFunctionWrapper, REDUCTIONS, type LossConfig, type LossOptions, type Reduction } from './loss.js';
export * from './regression.js';
export {
  BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalFocalCrossentropy, KLDivergence,
  Poisson, binaryCrossentropy, binaryFocalCrossentropy, categoricalCrossentropy, categoricalFocalCrossentropy,
  klDivergence, poisson, type BinaryFocalOptions, type CategoricalFocalOptions, type CrossentropyOptions,
} from './probabilistic.js';
export * from './sparse.js';
export * from './hinge.js';
export * from './segmentation.js';

/** A function giving per-sample losses, as the built-in ones do. */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;
/** A Loss class, rebuilt from its config. */
export type LossClass = (new (config: never) => Loss) & { fromConfig(config: Record<string, unknown>): Loss };
/** How the save format stores a loss. */
export type SerializedLoss = Serialized<LossConfig>;

const LOSSES = new Registry<LossClass>('loss');
/** kiln's loss functions by their Keras names: the ids a saved LossFunctionWrapper stores. */
const LOSS_FUNCTIONS = new Registry<LossFn>('loss function');

/**
 * Each loss: its class, its function, the function's Keras name, and the class's other Keras
 * string ids. The class answers to its className, the ids, the function's name and its camelCase.
 */
const TABLE: readonly [LossClass, LossFn, string, ...string[]][] = [
  [MeanSquaredError, meanSquaredError, 'mean_squared_error', 'mse'],
  [MeanAbsoluteError, meanAbsoluteError, 'mean_absolute_error', 'mae'],
  [MeanAbsolutePercentageError, meanAbsolutePercentageError, 'mean_absolute_percentage_error', 'mape'],
  [MeanSquaredLogarithmicError, meanSquaredLogarithmicError, 'mean_squared_logarithmic_error', 'msle'],
  [Huber, huber, 'huber', 'huber_loss'],
  [LogCosh, logCosh, 'log_cosh', 'logcosh'],
  [CosineSimilarity, cosineSimilarity, 'cosine_similarity'],
  [BinaryCrossentropy, binaryCrossentropy, 'binary_crossentropy'],
  [BinaryFocalCrossentropy, binaryFocalCrossentropy, 'binary_focal_crossentropy'],
  [CategoricalCrossentropy, categoricalCrossentropy, 'categorical_crossentropy'],
  [CategoricalFocalCrossentropy, categoricalFocalCrossentropy, 'categorical_focal_crossentropy'],
  [SparseCategoricalCrossentropy, sparseCategoricalCrossentropy, 'sparse_categorical_crossentropy'],
  [KLDivergence, klDivergence, 'kl_divergence', 'kld', 'kullback_leibler_divergence'],
  [Poisson, poisson, 'poisson'],
  [Hinge, hinge, 'hinge'],
  [SquaredHinge, squaredHinge, 'squared_hinge'],
  [CategoricalHinge, categoricalHinge, 'categorical_hinge'],
  [Dice, dice, 'dice'],
  [Tversky, tversky, 'tversky'],
];
for (const [cls, fn, fnId, ...ids] of TABLE) {
  // the other ids first, so errors list 'mse' before 'mean_squared_error', as they always have
  LOSSES.register(cls, [...ids, fnId, fnId.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())]);
  LOSS_FUNCTIONS.add(fn, [fnId]);
}

/** `custom[name]`, leaving out what objects inherit ('constructor', 'toString'). */
function ownEntry(custom: Record<string, LossClass>, name: string): LossClass | undefined {
  return Object.hasOwn(custom, name) ? custom[name] : undefined;
}

/**
 * A Loss from what compile() takes: a Loss (returned as is), a Keras string id ('mse',
 * 'categorical_crossentropy', …, or a class or function name), a Loss class, a function giving
 * per-sample losses (wrapped), or a serialized `{className, config}`. `custom` names the Loss
 * classes of your own that serialized configs may mention.
 */
export function getLoss(id: unknown, custom: Record<string, LossClass> = {}): Loss {
  if (id instanceof Loss) return id;
  if (typeof id === 'string') {
    const cls = LOSSES.get(id) ?? ownEntry(custom, id);
    if (!cls) fail('getLoss', `unknown loss '${id}'; ${LOSSES.known()}`);
    return new cls({} as never);
  }
  if (typeof id === 'function') {
    if (id.prototype instanceof Loss) return new (id as new () => Loss)();
    return new LossFunctionWrapper(id as LossFn);
  }
  if (isSerialized(id)) {
    const { className } = id;
    const config = (id.config === undefined ? {} : id.config) as Record<string, unknown>;
    if (className === LossFunctionWrapper.className) return wrapperFromConfig(config);
    const cls = ownEntry(custom, className) ?? LOSSES.getClass(className);
    if (!cls) fail('getLoss', `unknown loss class '${className}'; known classes: ${[...LOSSES.classNames(), LossFunctionWrapper.className].join(', ')} (pass your own in \`custom\`)`);
    return cls.fromConfig(config);
  }
  return fail('getLoss', `expected a loss id string, a Loss, a function or a {className, config} object, got ${describe(id)}`);
}

function wrapperFromConfig(config: Record<string, unknown>): Loss {
  const { fn, ...options } = config;
  return new LossFunctionWrapper(LOSS_FUNCTIONS.lookup(fn, 'getLoss'), options);
}

/**
 * A loss as the save format stores it: `{className, config}`, which getLoss turns back into the
 * loss. A wrapped function is stored by its Keras name, so only kiln's own functions serialize.
 */
export function serializeLoss(loss: Loss): SerializedLoss {
  if (!(loss instanceof Loss)) fail('serializeLoss', `expected a Loss, got ${describe(loss)}`);
  if (loss instanceof LossFunctionWrapper) {
    const fn = LOSS_FUNCTIONS.nameOf(loss.fn);
    if (fn === undefined) {
      fail('serializeLoss', `cannot serialize the custom loss function '${loss.fn.name || 'anonymous'}': only kiln's loss functions have ids; write it as a Loss subclass instead`);
    }
    return { className: LossFunctionWrapper.className, config: { ...loss.getConfig(), fn } };
  }
  return serialize(loss);
}
