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
import { Loss, LossFunctionWrapper, snakeCase, type LossConfig } from './loss.js';
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
export interface SerializedLoss {
  className: string;
  config: LossConfig;
}

/** Each loss: its class, its function, and the Keras string ids that name it (besides the class and function names). */
const TABLE: readonly [LossClass, (...args: never[]) => Tensor, ...string[]][] = [
  [MeanSquaredError, meanSquaredError, 'mse', 'mean_squared_error'],
  [MeanAbsoluteError, meanAbsoluteError, 'mae', 'mean_absolute_error'],
  [MeanAbsolutePercentageError, meanAbsolutePercentageError, 'mape', 'mean_absolute_percentage_error'],
  [MeanSquaredLogarithmicError, meanSquaredLogarithmicError, 'msle', 'mean_squared_logarithmic_error'],
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

const BY_ID = new Map<string, LossClass>();
const BY_CLASS_NAME = new Map<string, LossClass>();
/** A built-in function's id in the save format (its Keras name). */
const FN_ID = new Map<unknown, string>();
const FN_BY_ID = new Map<string, LossFn>();
for (const [cls, fn, ...ids] of TABLE) {
  for (const id of [...ids, cls.name, fn.name]) BY_ID.set(id, cls);
  BY_CLASS_NAME.set(cls.name, cls);
  FN_ID.set(fn, snakeCase(fn.name));
  FN_BY_ID.set(snakeCase(fn.name), fn as unknown as LossFn);
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
    const cls = BY_ID.get(id) ?? custom[id];
    if (!cls) fail('getLoss', `unknown loss '${id}'; known ids: ${[...BY_ID.keys()].join(', ')}`);
    return new cls({} as never);
  }
  if (typeof id === 'function') {
    if (id.prototype instanceof Loss) return new (id as new () => Loss)();
    return new LossFunctionWrapper(id as LossFn);
  }
  if (id !== null && typeof id === 'object' && typeof (id as SerializedLoss).className === 'string') {
    const { className, config = {} } = id as Partial<SerializedLoss>;
    if (className === 'LossFunctionWrapper') return wrapperFromConfig(config as Record<string, unknown>);
    const cls = custom[className!] ?? BY_CLASS_NAME.get(className!);
    if (!cls) fail('getLoss', `unknown loss class '${className}'; known classes: ${[...BY_CLASS_NAME.keys()].join(', ')} (pass your own in \`custom\`)`);
    return cls.fromConfig(config);
  }
  return fail('getLoss', `expected a loss id string, a Loss, a function or a {className, config} object, got ${describe(id)}`);
}

function wrapperFromConfig(config: Record<string, unknown>): Loss {
  const { fn: fnId, ...options } = config;
  const fn = FN_BY_ID.get(fnId as string);
  if (!fn) fail('getLoss', `unknown loss function ${JSON.stringify(fnId)}; known: ${[...FN_BY_ID.keys()].join(', ')}`);
  return new LossFunctionWrapper(fn, options);
}

/**
 * A loss as the save format stores it: `{className, config}`, which getLoss turns back into the
 * loss. A wrapped function is stored by its Keras name, so only kiln's own functions serialize.
 */
export function serializeLoss(loss: Loss): SerializedLoss {
  if (!(loss instanceof Loss)) fail('serializeLoss', `expected a Loss, got ${describe(loss)}`);
  if (loss instanceof LossFunctionWrapper) {
    const fn = FN_ID.get(loss.fn);
    if (fn === undefined) {
      fail('serializeLoss', `cannot serialize the custom loss function '${loss.fn.name || 'anonymous'}': only kiln's loss functions have ids; write it as a Loss subclass instead`);
    }
    return { className: 'LossFunctionWrapper', config: { ...loss.getConfig(), fn } };
  }
  return { className: loss.constructor.name, config: loss.getConfig() };
}
