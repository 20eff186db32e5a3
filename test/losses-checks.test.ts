/**
 * The losses' names, configs and option checks, each error message asserted whole (the loss or
 * function that raised it, the option and the value received), each check's failing branch
 * reached and each range's accepted ends accepted. The values are in losses.test.ts and
 * edges/losses.test.ts.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import * as losses from '../losses/index.js';

type Loss = kiln.losses.Loss;
type Options = Record<string, unknown>;

/** The error `fn` throws, whole. */
function expectError(fn: () => unknown, message: string): void {
  expect(fn, message).toThrow(expect.objectContaining({ message }));
}

const BASE = { reduction: 'sum_over_batch_size' };
const CROSSENTROPY = { fromLogits: false, labelSmoothing: 0, axis: -1 };
const FOCAL = { ...CROSSENTROPY, alpha: 0.25, gamma: 2 };

/** Keras 3's default names and options (keras/src/losses/losses.py), each loss's whole config. */
const DEFAULTS: [(new (options?: never) => Loss) & { className: string }, Options][] = [
  [losses.BinaryCrossentropy, { name: 'binary_crossentropy', ...CROSSENTROPY }],
  [losses.BinaryFocalCrossentropy, { name: 'binary_focal_crossentropy', ...FOCAL, applyClassBalancing: false }],
  [losses.CategoricalCrossentropy, { name: 'categorical_crossentropy', ...CROSSENTROPY }],
  [losses.CategoricalFocalCrossentropy, { name: 'categorical_focal_crossentropy', ...FOCAL }],
  [losses.SparseCategoricalCrossentropy, { name: 'sparse_categorical_crossentropy', fromLogits: false, ignoreClass: null, axis: -1 }],
  [losses.KLDivergence, { name: 'kl_divergence' }],
  [losses.Poisson, { name: 'poisson' }],
  [losses.Hinge, { name: 'hinge' }],
  [losses.SquaredHinge, { name: 'squared_hinge' }],
  [losses.CategoricalHinge, { name: 'categorical_hinge' }],
  [losses.Dice, { name: 'dice', axis: null }],
  [losses.Tversky, { name: 'tversky', alpha: 0.5, beta: 0.5, axis: null }],
];

/** Every option away from its default. */
const EVERY_OPTION: Record<string, Options> = {
  BinaryCrossentropy: { fromLogits: true, labelSmoothing: 0.2, axis: 0 },
  BinaryFocalCrossentropy: { fromLogits: true, labelSmoothing: 0.1, axis: 0, alpha: 0.6, gamma: 0.5, applyClassBalancing: true },
  CategoricalCrossentropy: { fromLogits: true, labelSmoothing: 1, axis: 1 },
  CategoricalFocalCrossentropy: { fromLogits: true, labelSmoothing: 0.3, axis: 0, alpha: -1, gamma: 0 },
  SparseCategoricalCrossentropy: { fromLogits: true, ignoreClass: -1, axis: 1 },
  KLDivergence: {}, Poisson: {}, Hinge: {}, SquaredHinge: {}, CategoricalHinge: {},
  Dice: { axis: [1, 2] },
  Tversky: { alpha: 0.1, beta: 0.9, axis: 1 },
};

describe('loss names and configs', () => {
  it.each(DEFAULTS.map(([cls, config]) => [cls.className, cls, config] as const))('%s: the default config, every field', (_, Cls, config) => {
    expect(new Cls().getConfig()).toEqual({ ...BASE, ...config });
  });

  it.each(DEFAULTS.map(([cls]) => [cls.className, cls] as const))('%s: every option set, through fromConfig and serialization', (name, Cls) => {
    const options = { name: 'mine', reduction: 'sum', ...EVERY_OPTION[name] };
    const loss = new Cls(options as never);
    expect(loss.getConfig()).toEqual(options);
    const fromConfig = (Cls as unknown as { fromConfig(c: unknown): Loss }).fromConfig(loss.getConfig());
    expect(fromConfig).toBeInstanceOf(Cls);
    expect(fromConfig.getConfig()).toEqual(options);
    const back = losses.getLoss(JSON.parse(JSON.stringify(losses.serializeLoss(loss))));
    expect(back).toBeInstanceOf(Cls);
    expect(back.getConfig()).toEqual(options);
  });

  it('a loss of your own is named after its class in snake case, acronyms included', () => {
    class KLDivergenceTimesTwo extends losses.KLDivergence {}
    class MyMSE extends losses.MeanSquaredError {}
    expect([new KLDivergenceTimesTwo().name, new MyMSE().name]).toEqual(['kl_divergence_times_two', 'my_mse']);
  });

  it('rejects a name that is not a string, a config that is not an object, a wrapper of no function', () => {
    expectError(() => new losses.Poisson({ name: 5 } as never), 'Poisson: name must be a string, got number 5');
    expectError(() => losses.Poisson.fromConfig(null as never), 'fromConfig: expected a config object, got null');
    expectError(() => losses.Hinge.fromConfig('hinge' as never), 'fromConfig: expected a config object, got string hinge');
    expectError(() => new losses.LossFunctionWrapper(5 as never), 'LossFunctionWrapper: expected a function, got number 5');
    const anonymous = new losses.LossFunctionWrapper((t: kiln.Tensor, p: kiln.Tensor) => kiln.ops.subtract(t, p));
    expect(anonymous.name).toBe('loss');
    expect(new losses.LossFunctionWrapper(function meanCubedError(t: kiln.Tensor) { return t; }).name).toBe('mean_cubed_error');
  });
});

describe('loss option errors', () => {
  const cases: [() => unknown, string][] = [
    [() => new losses.BinaryCrossentropy({ fromLogits: 'yes' as never }), 'binary_crossentropy: fromLogits must be true or false, got string yes'],
    [() => new losses.BinaryCrossentropy({ labelSmoothing: 1.5 }), 'binary_crossentropy: labelSmoothing must be a number in [0, 1], got number 1.5'],
    // not coerced, even when it reads as a number in range
    [() => new losses.CategoricalCrossentropy({ labelSmoothing: '0.5' as never }), "categorical_crossentropy: labelSmoothing must be a number in [0, 1], got string 0.5"],
    [() => new losses.CategoricalCrossentropy({ labelSmoothing: NaN }), 'categorical_crossentropy: labelSmoothing must be a number in [0, 1], got number NaN'],
    [() => new losses.BinaryFocalCrossentropy({ alpha: NaN }), 'binary_focal_crossentropy: alpha must be a number, got number NaN'],
    [() => new losses.BinaryFocalCrossentropy({ gamma: -1 }), 'binary_focal_crossentropy: gamma must be a number in [0, Infinity], got number -1'],
    [() => new losses.BinaryFocalCrossentropy({ applyClassBalancing: 1 as never }), 'binary_focal_crossentropy: applyClassBalancing must be true or false, got number 1'],
    [() => new losses.CategoricalFocalCrossentropy({ alpha: 'x' as never }), 'categorical_focal_crossentropy: alpha must be a number, got string x'],
    [() => new losses.CategoricalFocalCrossentropy({ name: 'cf', gamma: -0.5 }), 'cf: gamma must be a number in [0, Infinity], got number -0.5'],
    [() => new losses.SparseCategoricalCrossentropy({ fromLogits: 0 as never }), 'sparse_categorical_crossentropy: fromLogits must be true or false, got number 0'],
    [() => new losses.SparseCategoricalCrossentropy({ ignoreClass: 'x' as never }), 'sparse_categorical_crossentropy: ignoreClass must be a number, got string x'],
    [() => new losses.SparseCategoricalCrossentropy({ ignoreClass: 1.5 }), 'sparse_categorical_crossentropy: ignoreClass must be an integer or null, got 1.5'],
    [() => new losses.Tversky({ alpha: NaN }), 'tversky: alpha must be a number, got number NaN'],
    [() => new losses.Tversky({ beta: 'x' as never }), 'tversky: beta must be a number, got string x'],
    [() => losses.binaryCrossentropy([[1]], [[0.5]], { labelSmoothing: -0.1 }), 'binaryCrossentropy: labelSmoothing must be a number in [0, 1], got number -0.1'],
    [() => losses.binaryFocalCrossentropy([[1]], [[0.5]], { gamma: -1 }), 'binaryFocalCrossentropy: gamma must be a number in [0, Infinity], got number -1'],
    [() => losses.categoricalFocalCrossentropy([[1]], [[0.5]], { alpha: NaN }), 'categoricalFocalCrossentropy: alpha must be a number, got number NaN'],
    [() => losses.sparseCategoricalCrossentropy([0], [[0.5]], { fromLogits: 'no' as never }), 'sparseCategoricalCrossentropy: fromLogits must be true or false, got string no'],
    [() => losses.tversky([[1]], [[0.5]], { beta: NaN }), 'tversky: beta must be a number, got number NaN'],
    [() => losses.binaryCrossentropy([[1]], [[0.5]], { axis: 'last' as never }), 'binaryCrossentropy: axis must be an integer, got string last'],
    [() => new losses.CategoricalCrossentropy({ axis: '1' as never }).apply([[1]], [[0.5]]), 'categorical_crossentropy: axis must be an integer, got string 1'],
  ];
  it.each(cases.map(([fn, message]) => [message, fn] as const))('%s', (message, fn) => expectError(fn, message));

  it('accepts each range\'s ends', () => {
    expect(new losses.BinaryCrossentropy({ labelSmoothing: 1 }).options.labelSmoothing).toBe(1);
    expect(new losses.CategoricalCrossentropy({ labelSmoothing: 0 }).options.labelSmoothing).toBe(0);
    expect(new losses.BinaryFocalCrossentropy({ gamma: 0, alpha: -Infinity }).options).toMatchObject({ gamma: 0, alpha: -Infinity });
    expect(new losses.SparseCategoricalCrossentropy({ ignoreClass: 0 }).options.ignoreClass).toBe(0);
  });
});

describe('the function or loss each shape error names', () => {
  const functions: [(t: number[][], p: number[][]) => kiln.Tensor, string][] = [
    [losses.binaryCrossentropy, 'binaryCrossentropy'], [losses.binaryFocalCrossentropy, 'binaryFocalCrossentropy'],
    [losses.categoricalCrossentropy, 'categoricalCrossentropy'], [losses.categoricalFocalCrossentropy, 'categoricalFocalCrossentropy'],
    [losses.klDivergence, 'klDivergence'], [losses.poisson, 'poisson'], [losses.hinge, 'hinge'], [losses.squaredHinge, 'squaredHinge'],
    [losses.categoricalHinge, 'categoricalHinge'], [(t, p) => losses.dice(t, p), 'dice'], [(t, p) => losses.tversky(t, p), 'tversky'],
  ];
  it.each(functions.map(([f, name]) => [name, f] as const))('%s', (name, f) => {
    expectError(() => f([[1, 2]], [[1, 2, 3]]), `${name}: yTrue and yPred must have the same shape (up to a trailing 1), got yTrue [1,2] and yPred [1,3]`);
  });

  it.each(DEFAULTS.filter(([cls]) => cls !== losses.SparseCategoricalCrossentropy).map(([cls, config]) => [config.name, cls] as const))(
    '%s', (name, Cls) => {
      expectError(() => new Cls().apply([[1, 2]], [[1, 2, 3]]), `${name}: yTrue and yPred must have the same shape (up to a trailing 1), got yTrue [1,2] and yPred [1,3]`);
    },
  );
});

describe('getLoss and serializeLoss errors', () => {
  const classes = [
    'MeanSquaredError', 'MeanAbsoluteError', 'MeanAbsolutePercentageError', 'MeanSquaredLogarithmicError', 'Huber', 'LogCosh',
    'CosineSimilarity', 'BinaryCrossentropy', 'BinaryFocalCrossentropy', 'CategoricalCrossentropy', 'CategoricalFocalCrossentropy',
    'SparseCategoricalCrossentropy', 'KLDivergence', 'Poisson', 'Hinge', 'SquaredHinge', 'CategoricalHinge', 'Dice', 'Tversky',
    'LossFunctionWrapper',
  ].join(', ');

  it('names what it knows', () => {
    expectError(() => losses.getLoss({ className: 'Cubed', config: {} }), `getLoss: unknown loss class 'Cubed'; known classes: ${classes} (pass your own in \`custom\`)`);
    expect(() => losses.getLoss({ className: 'LossFunctionWrapper', config: { fn: 'cubed' } })).toThrow(/^getLoss: unknown loss function 'cubed'; known ids: mean_squared_error, /);
    // what objects inherit is no custom class
    expectError(() => losses.getLoss({ className: 'constructor' }, {}), `getLoss: unknown loss class 'constructor'; known classes: ${classes} (pass your own in \`custom\`)`);
    expect(losses.getLoss({ className: 'Poisson' }).getConfig()).toEqual({ name: 'poisson', reduction: 'sum_over_batch_size' });
  });

  it('serializes only losses, and of wrapped functions only kiln\'s own', () => {
    expectError(() => losses.serializeLoss({ getConfig: () => ({}) } as never), 'serializeLoss: expected a Loss, got a Object');
    expectError(() => losses.serializeLoss(losses.getLoss((t: kiln.Tensor) => t)),
      "serializeLoss: cannot serialize the custom loss function 'anonymous': only kiln's loss functions have ids; write it as a Loss subclass instead");
    expect(losses.serializeLoss(losses.getLoss(losses.poisson))).toEqual({
      className: 'LossFunctionWrapper', config: { name: 'poisson', reduction: 'sum_over_batch_size', fn: 'poisson' },
    });
  });
});
