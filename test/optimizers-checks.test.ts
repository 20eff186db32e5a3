/**
 * The optimizers' option checks, configs, state variables and input errors, each message asserted
 * in full (the option's name and the value received), each check's failing branch reached, and
 * each accepted boundary accepted. The update rules themselves are in optimizers.test.ts.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';

const { optimizers } = kiln;
type Optimizer = kiln.optimizers.Optimizer;
type Options = Record<string, unknown>;

const f64 = (values: readonly number[], shape = [values.length]) => kiln.tensor([...values], shape, 'float64');
const read = (v: kiln.Variable | kiln.Tensor) => Array.from((v instanceof kiln.Variable ? v.value : v).dataSync());

/** The error `fn` throws, whole: the op that raised it, what it expected and what it got. */
function expectError(fn: () => unknown, message: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, message).toBeInstanceOf(Error);
  expect((thrown as Error).message).toBe(message);
}

async function expectRejection(promise: Promise<unknown>, message: string): Promise<void> {
  await expect(promise).rejects.toHaveProperty('message', message);
}

const CLASSES: Record<string, new (options?: never) => Optimizer> = {
  SGD: optimizers.SGD, Adam: optimizers.Adam, AdamW: optimizers.AdamW, RMSprop: optimizers.RMSprop, Adagrad: optimizers.Adagrad,
  Adadelta: optimizers.Adadelta, Adamax: optimizers.Adamax, Nadam: optimizers.Nadam, Lion: optimizers.Lion, Ftrl: optimizers.Ftrl,
};
const make = (cls: string, options: Options = {}): Optimizer => new CLASSES[cls](options as never);

const BASE_DEFAULTS = {
  weightDecay: null, clipnorm: null, globalClipnorm: null, clipvalue: null, useEma: false, emaMomentum: 0.99,
  emaOverwriteFrequency: null, gradientAccumulationSteps: null,
};
const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false };

/** Keras 3's defaults (keras/src/optimizers/*.py), each optimizer's whole config. */
const DEFAULTS: Record<string, Options> = {
  SGD: { name: 'SGD', learningRate: 0.01, momentum: 0, nesterov: false },
  Adam: { name: 'adam', learningRate: 0.001, ...ADAM },
  AdamW: { name: 'adamw', learningRate: 0.001, ...ADAM, weightDecay: 0.004 },
  RMSprop: { name: 'rmsprop', learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false },
  Adagrad: { name: 'adagrad', learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 },
  Adadelta: { name: 'adadelta', learningRate: 0.001, rho: 0.95, epsilon: 1e-7 },
  Adamax: { name: 'adamax', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  Nadam: { name: 'nadam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  Lion: { name: 'lion', learningRate: 0.001, beta1: 0.9, beta2: 0.99 },
  Ftrl: {
    name: 'ftrl', learningRate: 0.001, learningRatePower: -0.5, initialAccumulatorValue: 0.1, l1RegularizationStrength: 0,
    l2RegularizationStrength: 0, l2ShrinkageRegularizationStrength: 0, beta: 0,
  },
};

/** Every option of each optimizer set away from its default. */
const EVERY_OPTION: Record<string, Options> = {
  SGD: { momentum: 0.5, nesterov: true },
  Adam: { beta1: 0.8, beta2: 0.99, epsilon: 1e-5, amsgrad: true },
  AdamW: { beta1: 0.8, beta2: 0.99, epsilon: 1e-5, amsgrad: true },
  RMSprop: { rho: 0.7, momentum: 0.3, epsilon: 1e-4, centered: true },
  Adagrad: { initialAccumulatorValue: 0.5, epsilon: 1e-3 },
  Adadelta: { rho: 0.8, epsilon: 1e-5 },
  Adamax: { beta1: 0.7, beta2: 0.9, epsilon: 1e-6 },
  Nadam: { beta1: 0.7, beta2: 0.9, epsilon: 1e-6 },
  Lion: { beta1: 0.5, beta2: 0.7 },
  Ftrl: {
    learningRatePower: -0.25, initialAccumulatorValue: 0.2, l1RegularizationStrength: 0.01, l2RegularizationStrength: 0.02,
    l2ShrinkageRegularizationStrength: 0.03, beta: 0.4,
  },
};
const BASE_SET = {
  name: 'custom', learningRate: 0.3, weightDecay: 0.01, clipvalue: 0.5, useEma: true, emaMomentum: 0.9,
  emaOverwriteFrequency: 5, gradientAccumulationSteps: 4,
};

describe('optimizer configs', () => {
  it.each(Object.keys(CLASSES))('%s: the default config, every field', (cls) => {
    expect(make(cls).getConfig()).toEqual({ ...BASE_DEFAULTS, ...DEFAULTS[cls] });
    expect(make(cls).name).toBe(DEFAULTS[cls].name);
  });

  it.each(Object.keys(CLASSES))('%s: every option set, through getConfig, fromConfig and JSON', (cls) => {
    const options = { ...BASE_SET, ...EVERY_OPTION[cls] };
    const opt = make(cls, options);
    expect(opt.getConfig()).toEqual({ ...BASE_DEFAULTS, ...DEFAULTS[cls], ...options });
    const Cls = CLASSES[cls] as unknown as typeof optimizers.Optimizer & { fromConfig(c: unknown): Optimizer };
    expect(Cls.fromConfig(opt.getConfig()).getConfig()).toEqual(opt.getConfig());
    const back = optimizers.getOptimizer(JSON.parse(JSON.stringify(optimizers.serializeOptimizer(opt))));
    expect(back).toBeInstanceOf(CLASSES[cls]);
    expect(back.getConfig()).toEqual(opt.getConfig());
  });

  it('fromConfig: a missing or null learning rate is the default, a serialized schedule is rebuilt', () => {
    expect(optimizers.SGD.fromConfig({}).learningRate).toBe(0.01);
    expect(optimizers.SGD.fromConfig({ learningRate: null } as never).learningRate).toBe(0.01);
    const schedule = new optimizers.ExponentialDecay({ initialLearningRate: 0.2, decaySteps: 1, decayRate: 0.5 });
    const opt = optimizers.Adam.fromConfig({ learningRate: optimizers.serializeSchedule(schedule) });
    expect(opt.learningRate).toBe(0.2);
    expect(opt.getConfig().learningRate).toEqual({
      className: 'ExponentialDecay', config: { initialLearningRate: 0.2, decaySteps: 1, decayRate: 0.5, staircase: false, name: 'ExponentialDecay' },
    });
  });
});

describe('optimizer option errors', () => {
  // [optimizer, option, bad value, the range the message states]
  const own: [string, string, unknown, string][] = [
    ['SGD', 'momentum', 1.5, '[0, 1]'], ['SGD', 'momentum', -0.1, '[0, 1]'],
    ['Adam', 'beta1', -0.1, '[0, 1]'], ['Adam', 'beta2', 1.1, '[0, 1]'], ['Adam', 'epsilon', -1, '[0, Infinity]'],
    ['AdamW', 'beta1', 2, '[0, 1]'], ['AdamW', 'beta2', NaN, '[0, 1]'], ['AdamW', 'epsilon', Infinity, '[0, Infinity]'],
    ['RMSprop', 'rho', 2, '[0, 1]'], ['RMSprop', 'momentum', -1, '[0, Infinity]'], ['RMSprop', 'epsilon', NaN, '[0, Infinity]'],
    ['Adagrad', 'initialAccumulatorValue', -1, '[0, Infinity]'], ['Adagrad', 'epsilon', -1e-9, '[0, Infinity]'],
    ['Adadelta', 'rho', 1.5, '[0, 1]'], ['Adadelta', 'epsilon', -1, '[0, Infinity]'],
    ['Adamax', 'beta1', 2, '[0, 1]'], ['Adamax', 'beta2', -1, '[0, 1]'], ['Adamax', 'epsilon', Infinity, '[0, Infinity]'],
    ['Nadam', 'beta1', 2, '[0, 1]'], ['Nadam', 'beta2', 1.5, '[0, 1]'], ['Nadam', 'epsilon', -1, '[0, Infinity]'],
    // Lion's beta1 = 0 would make it sign-SGD, which Keras refuses
    ['Lion', 'beta1', 0, '[5e-324, 1]'], ['Lion', 'beta2', 1.5, '[0, 1]'],
    ['Ftrl', 'learningRatePower', 0.5, '[-Infinity, 0]'], ['Ftrl', 'initialAccumulatorValue', -1, '[0, Infinity]'],
    ['Ftrl', 'l1RegularizationStrength', -1, '[0, Infinity]'], ['Ftrl', 'l2RegularizationStrength', -1, '[0, Infinity]'],
    ['Ftrl', 'l2ShrinkageRegularizationStrength', -0.5, '[0, Infinity]'], ['Ftrl', 'beta', NaN, '[-Infinity, Infinity]'],
  ];
  it.each(own)('%s: %s = %s', (cls, option, value, range) => {
    const name = DEFAULTS[cls].name as string;
    expectError(() => make(cls, { [option]: value }), `${name}: ${option} must be a number in ${range}, got ${String(value)}`);
  });

  it('accepts each range\'s ends', () => {
    const ends: [string, Options][] = [
      ['SGD', { momentum: 1, learningRate: 0 }], ['Adam', { beta1: 0, beta2: 1, epsilon: 0 }], ['Adam', { beta1: 1, beta2: 0 }],
      ['RMSprop', { rho: 1, momentum: 0 }], ['Adadelta', { rho: 0 }], ['Lion', { beta1: Number.MIN_VALUE, beta2: 1 }], ['Lion', { beta1: 1 }],
      ['Ftrl', { learningRatePower: 0, initialAccumulatorValue: 0 }], ['Adagrad', { initialAccumulatorValue: 0 }],
      ['SGD', { weightDecay: 0, emaMomentum: 0, emaOverwriteFrequency: 1, gradientAccumulationSteps: 2, clipnorm: Number.MIN_VALUE }],
      ['SGD', { emaMomentum: 1, clipvalue: Number.MIN_VALUE }], ['SGD', { globalClipnorm: Number.MIN_VALUE }],
    ];
    for (const [cls, options] of ends) expect(make(cls, options).getConfig()).toMatchObject(options);
  });

  it('the base options: each named with the value received', () => {
    const cases: [Options, string][] = [
      [{ learningRate: -1 }, 'learningRate must be a number in [0, Infinity], got -1'],
      [{ learningRate: Infinity }, 'learningRate must be a number in [0, Infinity], got Infinity'],
      [{ learningRate: NaN }, 'learningRate must be a number in [0, Infinity], got NaN'],
      // a string is not coerced, even one that reads as a number
      [{ learningRate: '0.1' }, 'learningRate must be a number in [0, Infinity], got 0.1'],
      [{ weightDecay: -0.5 }, 'weightDecay must be a number in [0, Infinity], got -0.5'],
      [{ clipnorm: 0 }, 'clipnorm must be a number in [5e-324, Infinity], got 0'],
      [{ clipvalue: -1 }, 'clipvalue must be a number in [5e-324, Infinity], got -1'],
      [{ globalClipnorm: 0 }, 'globalClipnorm must be a number in [5e-324, Infinity], got 0'],
      [{ gradientAccumulationSteps: 1 }, 'gradientAccumulationSteps must be an integer in [2, Infinity], got 1'],
      [{ gradientAccumulationSteps: 2.5 }, 'gradientAccumulationSteps must be an integer in [2, Infinity], got 2.5'],
      [{ useEma: 1 }, 'useEma must be a boolean, got number 1'],
      [{ emaMomentum: 1.5 }, 'emaMomentum must be a number in [0, 1], got 1.5'],
      [{ emaMomentum: -0.1 }, 'emaMomentum must be a number in [0, 1], got -0.1'],
      [{ emaOverwriteFrequency: 0 }, 'emaOverwriteFrequency must be an integer in [1, Infinity], got 0'],
      [{ emaOverwriteFrequency: 1.5 }, 'emaOverwriteFrequency must be an integer in [1, Infinity], got 1.5'],
      [{ clipnorm: 1, clipvalue: 2 }, 'only one of clipnorm, clipvalue and globalClipnorm can be set, got clipnorm=1, clipvalue=2, globalClipnorm=null'],
      [{ clipnorm: 1, globalClipnorm: 3 }, 'only one of clipnorm, clipvalue and globalClipnorm can be set, got clipnorm=1, clipvalue=null, globalClipnorm=3'],
      [{ clipvalue: 2, globalClipnorm: 3 }, 'only one of clipnorm, clipvalue and globalClipnorm can be set, got clipnorm=null, clipvalue=2, globalClipnorm=3'],
    ];
    for (const [options, message] of cases) expectError(() => new optimizers.SGD(options as never), `SGD: ${message}`);
    expectError(() => new optimizers.Adam({ name: 'fast', beta1: 2 }), 'fast: beta1 must be a number in [0, 1], got 2');
    // null leaves an optional option unset
    expect(new optimizers.SGD({ clipnorm: null, clipvalue: 1, globalClipnorm: null }).clipvalue).toBe(1);
  });

  it('options that are not an object, a name that is not a string, unknown options listing the known ones', () => {
    expectError(() => new optimizers.SGD(null as never), 'SGD: expected an options object, got null');
    expectError(() => new optimizers.Adam('fast' as never), 'adam: expected an options object, got string fast');
    expectError(() => new optimizers.AdamW(null as never), 'adamw: expected an options object, got null');
    expectError(() => new optimizers.AdamW('fast' as never), 'adamw: expected an options object, got string fast');
    expectError(() => new optimizers.SGD({ name: 5 } as never), 'SGD: name must be a string, got number 5');
    const base = 'learningRate, weightDecay, clipnorm, clipvalue, globalClipnorm, useEma, emaMomentum, emaOverwriteFrequency, gradientAccumulationSteps, name';
    expectError(() => new optimizers.Adam({ lr: 0.1, decay: 1 } as never), `adam: unknown option(s) lr, decay; known: ${base}, beta1, beta2, epsilon, amsgrad`);
    expectError(() => new optimizers.SGD({ name: 'mine', beta1: 0.9 } as never), `mine: unknown option(s) beta1; known: ${base}, momentum, nesterov`);
    expectError(() => new optimizers.AdamW({ weightDecay: null }), 'adamw: weightDecay must be a number for AdamW, got null');
    expectError(() => new optimizers.AdamW({ weightDecay: null, name: 'w' }), 'w: weightDecay must be a number for AdamW, got null');
  });
});

describe('optimizer state variables', () => {
  // [optimizer, options, its slots after build, with their initial values]
  const slots: [string, Options, [string, number][]][] = [
    ['SGD', {}, []],
    ['SGD', { momentum: 0.9 }, [['momentum', 0]]],
    ['Adam', {}, [['momentum', 0], ['velocity', 0]]],
    ['Adam', { amsgrad: true }, [['momentum', 0], ['velocity', 0], ['velocity_hat', 0]]],
    ['AdamW', { amsgrad: true }, [['momentum', 0], ['velocity', 0], ['velocity_hat', 0]]],
    ['RMSprop', {}, [['velocity', 0]]],
    ['RMSprop', { momentum: 0.5 }, [['velocity', 0], ['momentum', 0]]],
    ['RMSprop', { centered: true }, [['velocity', 0], ['average_gradient', 0]]],
    ['RMSprop', { momentum: 0.5, centered: true }, [['velocity', 0], ['momentum', 0], ['average_gradient', 0]]],
    ['Adagrad', {}, [['accumulator', 0.1]]],
    ['Adagrad', { initialAccumulatorValue: 0.5 }, [['accumulator', 0.5]]],
    ['Adadelta', {}, [['accumulated_grad', 0], ['accumulated_delta_var', 0]]],
    ['Adamax', {}, [['momentum', 0], ['norm', 0]]],
    ['Nadam', {}, [['momentum', 0], ['velocity', 0]]],
    ['Lion', {}, [['momentum', 0]]],
    ['Ftrl', { initialAccumulatorValue: 0.3 }, [['accumulator', 0.3], ['linear', 0]]],
  ];
  it.each(slots)('%s %o: Keras\'s slot names, the variable\'s shape and dtype, not trainable', (cls, options, expected) => {
    const opt = make(cls, options);
    const w = new kiln.Variable(kiln.ones([2, 3]), { name: 'k' });
    opt.build([w]);
    const name = DEFAULTS[cls].name;
    const vars = opt.variables;
    expect(vars.map((v) => v.name)).toEqual([`${name}/iteration`, ...expected.map(([s]) => `${name}/k_${s}`)]);
    expect(vars.map((v) => [v.dtype, [...v.shape], v.trainable])).toEqual([['int32', [], false], ...expected.map(() => ['float32', [2, 3], false])]);
    expect(vars.map((v) => read(v))).toEqual([[0], ...expected.map(([, x]) => new Array(6).fill(Math.fround(x)))]);
    opt.dispose();
    w.dispose();
  });

  it('per variable, in the order first seen: its average, its gradient accumulator, then its slots', () => {
    const opt = new optimizers.SGD({ momentum: 0.9, useEma: true, gradientAccumulationSteps: 2, name: 'o' });
    const [a, b] = [new kiln.Variable(f64([1, 2]), { name: 'a' }), new kiln.Variable(f64([3]), { name: 'b' })];
    kiln.tidy(() => opt.applyGradients([[null, b], [f64([0.5, 0.5]), a]]));
    expect(opt.variables.map((v) => v.name)).toEqual([
      'o/iteration', 'o/b_average', 'o/b_gradient_accumulator', 'o/b_momentum', 'o/a_average', 'o/a_gradient_accumulator', 'o/a_momentum',
    ]);
    expect(opt.variables.every((v) => !v.trainable)).toBe(true);
    opt.dispose();
    kiln.dispose([a, b]);
  });

  it('variables: no state before the first build, one step counter kept across reads, everything freed by dispose', () => {
    const w = new kiln.Variable(f64([1, 2]), { name: 'w' });
    const before = kiln.memory().numTensors;
    const opt = new optimizers.Adam();
    expect(opt.variables).toEqual([]);
    kiln.tidy(() => opt.applyGradients([[f64([0.1, 0.2]), w]]));
    const counter = opt.variables[0];
    const held = kiln.memory().numTensors;
    kiln.tidy(() => opt.applyGradients([[f64([0.1, 0.2]), w]]));
    expect(opt.variables[0]).toBe(counter);
    expect(read(counter)).toEqual([2]);
    expect(kiln.memory().numTensors).toBe(held);
    opt.dispose();
    expect(opt.variables).toEqual([]);
    expect(kiln.memory().numTensors).toBe(before);
    w.dispose();
  });

  it('build refuses an integer variable, naming it', () => {
    const opt = new optimizers.SGD({ momentum: 0.5 });
    const int = new kiln.Variable(kiln.tensor([1, 2], [2], 'int32'), { name: 'steps' });
    expectError(() => opt.build([int]), "SGD.build: variable 'steps' is int32; optimizers update float32 or float64 variables");
    expectError(() => opt.applyGradients([[kiln.tensor([1, 1], [2], 'int32'), int]]), "SGD.build: variable 'steps' is int32; optimizers update float32 or float64 variables");
    int.dispose();
  });
});

describe('setVariables', () => {
  /** An SGD with momentum built on w [4]: its variables are the counter (int32 []) and w's momentum (float64 [4]). */
  function built(): { opt: Optimizer; w: kiln.Variable } {
    const opt = new optimizers.SGD({ learningRate: 0.1, momentum: 0.5 });
    const w = new kiln.Variable(f64([1, 2, 3, 4]), { name: 'w' });
    opt.build([w]);
    return { opt, w };
  }
  const op = 'SGD.setVariables';
  const int = (x: number, shape: number[] = []) => kiln.tensor([x], shape, 'int32');

  it('restores the counter and the slots, from tensors or variables, counter 0 included', async () => {
    const { opt, w } = built();
    const momentum = new kiln.Variable(f64([0.5, -0.5, 1, 0]), { name: 'saved_momentum' });
    await opt.setVariables([int(3), momentum]);
    expect(opt.iterations).toBe(3);
    expect(read(opt.variables[1])).toEqual([0.5, -0.5, 1, 0]);
    kiln.tidy(() => opt.applyGradients([[f64([1, 1, 1, 1]), w]]));
    // v = 0.5 v - 0.1 g; w += v
    expect(read(w)).toEqual([0.5 * 0.5 - 0.1, -0.5 * 0.5 - 0.1, 0.5 - 0.1, -0.1].map((v, i) => [1, 2, 3, 4][i] + v));
    await opt.setVariables([int(0), f64([0, 0, 0, 0])]);
    expect(opt.iterations).toBe(0);
    kiln.dispose([w, momentum]);
    opt.dispose();
  });

  it('names what it expected and what it got', async () => {
    const { opt, w } = built();
    const m = f64([0, 0, 0, 0]);
    await expectRejection(opt.setVariables('state' as never), `${op}: expected 2 tensors in the order of optimizer.variables, got string state`);
    await expectRejection(opt.setVariables([m]), `${op}: expected 2 tensors in the order of optimizer.variables, got 1`);
    await expectRejection(opt.setVariables([5, m] as never), `${op}: value 0 must be a Tensor or Variable, got number 5`);
    await expectRejection(opt.setVariables([kiln.tensor(1), m]), `${op}: value 0 ('SGD/iteration') must be int32 [], got a float32 tensor of shape []`);
    await expectRejection(opt.setVariables([int(1, [1]), m]), `${op}: value 0 ('SGD/iteration') must be int32 [], got a int32 tensor of shape [1]`);
    await expectRejection(opt.setVariables([int(1), f64([0, 0, 0])]), `${op}: value 1 ('SGD/w_momentum') must be float64 [4], got a float64 tensor of shape [3]`);
    await expectRejection(opt.setVariables([int(1), f64([0], [])]), `${op}: value 1 ('SGD/w_momentum') must be float64 [4], got a float64 tensor of shape []`);
    await expectRejection(opt.setVariables([int(1), f64([0, 0, 0, 0], [4, 1])]), `${op}: value 1 ('SGD/w_momentum') must be float64 [4], got a float64 tensor of shape [4,1]`);
    await expectRejection(opt.setVariables([int(1), kiln.tensor([0, 0, 0, 0])]), `${op}: value 1 ('SGD/w_momentum') must be float64 [4], got a float32 tensor of shape [4]`);
    await expectRejection(opt.setVariables([int(-1), m]), `${op}: the step counter must be >= 0, got -1`);
    expect(opt.iterations).toBe(0);
    kiln.dispose([w, m]);
    opt.dispose();
  });
});

describe('applyGradients', () => {
  const op = 'SGD.applyGradients';

  it('an empty list is no step, as in Keras', () => {
    const opt = new optimizers.SGD();
    opt.applyGradients([]);
    expect(opt.iterations).toBe(0);
    expect(opt.variables).toEqual([]);
  });

  it('names the pair, the variable and the shapes that do not fit', () => {
    const opt = new optimizers.SGD();
    const w = new kiln.Variable(f64([1, 2, 3, 4]), { name: 'w' });
    const column = new kiln.Variable(f64([1, 2, 3, 4], [4, 1]), { name: 'column' });
    const matrix = new kiln.Variable(f64([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]), { name: 'matrix' });
    const g = f64([1, 1, 1, 1]);
    expectError(() => opt.applyGradients('x' as never), `${op}: expected an array of [gradient, variable] pairs, got string x`);
    expectError(() => opt.applyGradients([5] as never), `${op}: pair 0 must be [gradient, variable], got number 5`);
    expectError(() => opt.applyGradients([[g, w], [g, w, g]] as never), `${op}: pair 1 must be [gradient, variable], got an array`);
    expectError(() => opt.applyGradients([[g, g]] as never), `${op}: pair 0: expected a Variable, got a float64 tensor of shape [4]`);
    expectError(() => opt.applyGradients([[[1, 1, 1, 1], w]] as never), `${op}: pair 0: expected a gradient Tensor or null, got an array`);
    expectError(() => opt.applyGradients([[g, w], [g, w]]), `${op}: variable 'w' appears in more than one pair`);
    // the rank alone differs, then one dimension alone
    expectError(() => opt.applyGradients([[g, column]]), `${op}: gradient for 'column' has shape [4], the variable has [4,1]`);
    expectError(() => opt.applyGradients([[f64([1, 2, 3, 4, 5, 6], [2, 3]), matrix]]), `${op}: gradient for 'matrix' has shape [2,3], the variable has [2,4]`);
    expectError(() => opt.applyGradients([[null, w], [null, column]]), `${op}: no gradients provided for any variable (all 2 are null)`);
    expect(opt.iterations).toBe(0);
    expect(read(w)).toEqual([1, 2, 3, 4]);
    kiln.dispose([w, column, matrix, g]);
  });
});

describe('the learning rate and the moving average', () => {
  it('a number can be replaced by a number or a schedule, a schedule only by a schedule', () => {
    const opt = new optimizers.SGD({ learningRate: 0.1 });
    opt.learningRate = 0.05;
    expect(opt.learningRate).toBe(0.05);
    expectError(() => { opt.learningRate = -1; }, 'SGD: learningRate must be a number in [0, Infinity], got -1');
    const w = new kiln.Variable(f64([1]), { name: 'w' });
    kiln.tidy(() => opt.applyGradients([[f64([2]), w]]));
    expect(read(w)).toEqual([1 - 2 * 0.05]);
    opt.learningRate = new optimizers.PiecewiseConstantDecay({ boundaries: [0], values: [0.3, 0.2] });
    // one call applied: step 1 is past the boundary
    expect(opt.learningRate).toBe(0.2);
    opt.learningRate = new optimizers.InverseTimeDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: 1 });
    expect(opt.learningRate).toBe(1 / (1 + 1));
    expectError(() => { opt.learningRate = 0.5; },
      'SGD: the learning rate comes from a LearningRateSchedule and cannot be set to a number; pass a schedule or create the optimizer with a number');
    w.dispose();
    opt.dispose();
  });

  it('excludeFromWeightDecay: listed variables, or names containing a given part; each call replaces the last', () => {
    const opt = new optimizers.SGD({ learningRate: 0.5, weightDecay: 0.2 });
    const [kernel, bias] = [new kiln.Variable(f64([1]), { name: 'dense/kernel' }), new kiln.Variable(f64([1]), { name: 'dense/bias' })];
    const step = () => kiln.tidy(() => opt.applyGradients([[f64([0]), kernel], [f64([0]), bias]]));
    // a zero gradient: only the decay, w -= w * 0.2 * 0.5
    opt.excludeFromWeightDecay({ varList: [bias] });
    step();
    expect([read(kernel), read(bias)]).toEqual([[0.9], [1]]);
    opt.excludeFromWeightDecay({ varNames: ['kern'] });
    step();
    expect([read(kernel), read(bias)]).toEqual([[0.9], [0.9]]);
    opt.excludeFromWeightDecay();
    step();
    expect([read(kernel), read(bias)]).toEqual([[0.9 * 0.9], [0.9 * 0.9]]);
    kiln.dispose([kernel, bias]);
    opt.dispose();
  });

  it('without useEma, finalizeVariableValues leaves the weights alone', () => {
    const opt = new optimizers.SGD({ learningRate: 0.5 });
    const w = new kiln.Variable(f64([1, -1]), { name: 'w' });
    kiln.tidy(() => opt.applyGradients([[f64([0.5, 0.25]), w]]));
    opt.finalizeVariableValues();
    expect(read(w)).toEqual([0.75, -1.125]);
    w.dispose();
    opt.dispose();
  });

  it('useEma without an overwrite frequency: the weights train on, the average replaces them when finalized', () => {
    const opt = new optimizers.SGD({ learningRate: 0.5, useEma: true, emaMomentum: 0.5 });
    const w = new kiln.Variable(f64([1]), { name: 'w' });
    for (const g of [1, 1, 1]) kiln.tidy(() => opt.applyGradients([[f64([g]), w]]));
    // w: 0.5, 0, -0.5; the average: 0.5 (the first update copies), 0.25, -0.125
    expect(read(w)).toEqual([-0.5]);
    opt.finalizeVariableValues();
    expect(read(w)).toEqual([-0.125]);
    w.dispose();
    opt.dispose();
  });
});

describe('getOptimizer, serializeOptimizer and custom optimizers', () => {
  const ids = 'sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam, lion, ftrl';

  it('names what it accepts when given something else', () => {
    for (const [bad, got] of [[5, 'number 5'], [null, 'null'], [{}, 'a Object'], [true, 'boolean true']] as const) {
      expectError(() => optimizers.getOptimizer(bad), `getOptimizer: expected an optimizer id (${ids}), an Optimizer or {className, config}, got ${got}`);
    }
    expectError(() => optimizers.serializeOptimizer({ getConfig: () => ({}) } as never), 'serializeOptimizer: expected an Optimizer, got a Object');
    expect(optimizers.getOptimizer({ className: 'Lion' }).getConfig()).toEqual({ ...BASE_DEFAULTS, ...DEFAULTS.Lion });
  });

  /** sign-SGD, written as a user would: only the base options, no className of its own. */
  class SignSGD extends optimizers.Optimizer {
    constructor(options: kiln.optimizers.OptimizerOptions = {}) {
      super({ learningRate: 0.1, name: 'sign_sgd' }, options);
    }

    protected slotSpecs(): kiln.optimizers.SlotSpec[] {
      return [];
    }

    protected updateStep(g: kiln.Tensor, w: kiln.Variable, _slots: readonly kiln.Variable[], lr: number): kiln.Tensor {
      return kiln.ops.subtract(w, kiln.ops.multiply(kiln.ops.sign(g), lr));
    }
  }

  it('a subclass of Optimizer takes the base options, and is named after its class', () => {
    const opt = new SignSGD({ weightDecay: 0.5 });
    expect(opt.className).toBe('SignSGD');
    expect(opt.getConfig()).toEqual({ ...BASE_DEFAULTS, name: 'sign_sgd', learningRate: 0.1, weightDecay: 0.5 });
    const w = new kiln.Variable(f64([2, -4, 1]), { name: 'w' });
    kiln.tidy(() => opt.applyGradients([[f64([3, -0.5, 0]), w]]));
    // decay first, w -= w * 0.5 * 0.1; then w -= 0.1 sign(g)
    expect(read(w)).toEqual([2 * 0.95 - 0.1, -4 * 0.95 + 0.1, 0.95]);
    const base = 'learningRate, weightDecay, clipnorm, clipvalue, globalClipnorm, useEma, emaMomentum, emaOverwriteFrequency, gradientAccumulationSteps, name';
    expectError(() => new SignSGD({ momentum: 0.9 } as never), `sign_sgd: unknown option(s) momentum; known: ${base}`);
    w.dispose();
    opt.dispose();
  });
});
