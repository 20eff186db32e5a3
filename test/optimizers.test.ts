import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';

const { optimizers } = kiln;
type Optimizer = kiln.optimizers.Optimizer;

// A small float64 weight and five fixed gradients; the references below are Keras 3's update
// formulas written out per coordinate in plain JS float64.
const W0 = [0.5, -1.25, 2, 0];
const GRADS = [
  [0.1, -0.2, 0.3, 0],
  [-0.4, 0.5, 0.05, 0.25],
  [0.2, 0.2, -0.6, -1],
  [1.5, -0.3, 0, 0.125],
  [0.01, -0.02, 0.7, 3],
];

const f64 = (values: readonly number[]) => kiln.tensor([...values], [values.length], 'float64');
const variable = (values: readonly number[] = W0, name = 'w') => new kiln.Variable(f64(values), { name });
const read = (v: kiln.Variable) => Array.from(v.value.dataSync());

/** The weights after each of `steps` steps of `opt` on W0 with GRADS; `keep` leaves the optimizer alive. */
function trajectory(opt: Optimizer, steps: number, keep = false): number[][] {
  const w = variable();
  const out: number[][] = [];
  for (let k = 0; k < steps; k++) {
    kiln.tidy(() => opt.applyGradients([[f64(GRADS[k]), w]]));
    out.push(read(w));
  }
  kiln.dispose(w);
  if (!keep) opt.dispose();
  return out;
}

/** One coordinate's update: the new weight, given the step t (from 1) and this call's learning rate. */
type Rule = (w: number, g: number, s: Record<string, number>, t: number, lr: number) => number;

function reference(rule: Rule, init: Record<string, number>, steps: number, lr: (call: number) => number): number[][] {
  const states = W0.map(() => ({ ...init }));
  let w = [...W0];
  const out: number[][] = [];
  for (let k = 0; k < steps; k++) {
    w = w.map((wi, i) => rule(wi, GRADS[k][i], states[i], k + 1, lr(k)));
    out.push(w);
  }
  return out;
}

function expectClose(actual: number[][], expected: number[][], rtol = 1e-14): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, k) => row.forEach((a, i) => {
    const e = expected[k][i];
    // written so that a NaN fails: NaN > tolerance would be false
    if (!(Math.abs(a - e) <= rtol * Math.max(1, Math.abs(e)))) expect.fail(`step ${k + 1}, element ${i}: got ${a}, expected ${e}`);
  }));
}

const adam = (b1: number, b2: number, eps: number, amsgrad: boolean): Rule => (w, g, s, t, lr) => {
  const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
  s.m += (g - s.m) * (1 - b1);
  s.v += (g * g - s.v) * (1 - b2);
  s.vh = Math.max(s.vh, s.v);
  return w - (s.m * alpha) / (Math.sqrt(amsgrad ? s.vh : s.v) + eps);
};

const CASES: { name: string; make: () => Optimizer; rule: Rule; init?: Record<string, number>; lr: number }[] = [
  { name: 'SGD', make: () => new optimizers.SGD(), lr: 0.01, rule: (w, g, _s, _t, lr) => w - g * lr },
  {
    name: 'SGD momentum', make: () => new optimizers.SGD({ learningRate: 0.1, momentum: 0.9 }), lr: 0.1, init: { m: 0 },
    rule: (w, g, s, _t, lr) => w + (s.m = s.m * 0.9 - g * lr),
  },
  {
    name: 'SGD nesterov', make: () => new optimizers.SGD({ learningRate: 0.1, momentum: 0.8, nesterov: true }), lr: 0.1, init: { m: 0 },
    rule: (w, g, s, _t, lr) => ((s.m = s.m * 0.8 - g * lr), w + (s.m * 0.8 - g * lr)),
  },
  { name: 'Adam', make: () => new optimizers.Adam(), lr: 0.001, init: { m: 0, v: 0, vh: 0 }, rule: adam(0.9, 0.999, 1e-7, false) },
  {
    name: 'Adam amsgrad', make: () => new optimizers.Adam({ learningRate: 0.05, beta1: 0.8, beta2: 0.9, amsgrad: true }), lr: 0.05,
    init: { m: 0, v: 0, vh: 0 }, rule: adam(0.8, 0.9, 1e-7, true),
  },
  {
    name: 'AdamW', make: () => new optimizers.AdamW({ learningRate: 0.1 }), lr: 0.1, init: { m: 0, v: 0, vh: 0 },
    rule: (w, g, s, t, lr) => adam(0.9, 0.999, 1e-7, false)(w - w * 0.004 * lr, g, s, t, lr),
  },
  {
    name: 'RMSprop', make: () => new optimizers.RMSprop(), lr: 0.001, init: { v: 0 },
    rule: (w, g, s, _t, lr) => ((s.v = 0.9 * s.v + (1 - 0.9) * g * g), w - (lr * g) / Math.sqrt(s.v + 1e-7)),
  },
  {
    name: 'RMSprop centered momentum', make: () => new optimizers.RMSprop({ learningRate: 0.01, rho: 0.8, momentum: 0.5, centered: true }),
    lr: 0.01, init: { v: 0, a: 0, m: 0 },
    rule: (w, g, s, _t, lr) => {
      s.v = 0.8 * s.v + (1 - 0.8) * g * g;
      s.a = 0.8 * s.a + (1 - 0.8) * g;
      s.m = 0.5 * s.m + (lr * g) / Math.sqrt(s.v - s.a * s.a + 1e-7);
      return w - s.m;
    },
  },
  {
    name: 'Adagrad', make: () => new optimizers.Adagrad({ learningRate: 0.1 }), lr: 0.1, init: { a: 0.1 },
    rule: (w, g, s, _t, lr) => ((s.a += g * g), w - (lr * g) / Math.sqrt(s.a + 1e-7)),
  },
  {
    name: 'Adadelta', make: () => new optimizers.Adadelta({ learningRate: 1 }), lr: 1, init: { a: 0, d: 0 },
    rule: (w, g, s, _t, lr) => {
      s.a = 0.95 * s.a + (1 - 0.95) * g * g;
      const delta = -((Math.sqrt(s.d + 1e-7) * g) / Math.sqrt(s.a + 1e-7));
      s.d = 0.95 * s.d + (1 - 0.95) * delta * delta;
      return w + lr * delta;
    },
  },
  {
    name: 'Adamax', make: () => new optimizers.Adamax({ learningRate: 0.01 }), lr: 0.01, init: { m: 0, u: 0 },
    rule: (w, g, s, t, lr) => {
      s.m += (g - s.m) * (1 - 0.9);
      s.u = Math.max(0.999 * s.u, Math.abs(g));
      return w - (lr * s.m) / ((1 - 0.9 ** t) * (s.u + 1e-7));
    },
  },
  {
    name: 'Nadam', make: () => new optimizers.Nadam({ learningRate: 0.01 }), lr: 0.01, init: { m: 0, v: 0, p: 1 },
    rule: (w, g, s, t, lr) => {
      const uT = 0.9 * (1 - 0.5 * 0.96 ** t);
      const uNext = 0.9 * (1 - 0.5 * 0.96 ** (t + 1));
      s.p = s.p * 0.9 * (1 - 0.5 * 0.96 ** t);
      s.m += (g - s.m) * (1 - 0.9);
      s.v += (g * g - s.v) * (1 - 0.999);
      const mHat = (uNext * s.m) / (1 - s.p * uNext) + ((1 - uT) * g) / (1 - s.p);
      return w - (mHat * lr) / (Math.sqrt(s.v / (1 - 0.999 ** t)) + 1e-7);
    },
  },
  {
    name: 'Lion', make: () => new optimizers.Lion(), lr: 0.001, init: { m: 0 },
    rule: (w, g, s, _t, lr) => {
      const next = w - lr * Math.sign(s.m * 0.9 + g * (1 - 0.9));
      s.m = s.m * 0.99 + g * (1 - 0.99);
      return next;
    },
  },
  {
    // beta2 0.5 makes the momentum large enough that (1 - beta1) against (1 + beta1) flips a sign at step 2
    name: 'Lion beta2 0.5', make: () => new optimizers.Lion({ learningRate: 0.01, beta1: 0.9, beta2: 0.5 }), lr: 0.01, init: { m: 0 },
    rule: (w, g, s, _t, lr) => {
      const next = w - lr * Math.sign(s.m * 0.9 + g * (1 - 0.9));
      s.m = s.m * 0.5 + g * (1 - 0.5);
      return next;
    },
  },
  {
    name: 'Ftrl', lr: 0.1, init: { n: 0.1, z: 0 },
    make: () => new optimizers.Ftrl({
      learningRate: 0.1, l1RegularizationStrength: 0.05, l2RegularizationStrength: 0.1, l2ShrinkageRegularizationStrength: 0.02, beta: 0.3,
    }),
    rule: (w, g, s, _t, lr) => {
      const l2 = 0.1 + 0.3 / (2 * lr);
      const n = s.n + g * g;
      s.z += g + 2 * 0.02 * w - ((n ** 0.5 - s.n ** 0.5) / lr) * w;
      s.n = n;
      return (Math.min(Math.max(s.z, -0.05), 0.05) - s.z) / (n ** 0.5 / lr + 2 * l2);
    },
  },
];

describe('optimizers: each Keras 3 update rule, step by step, against its float64 formula', () => {
  for (const c of CASES) {
    it(`${c.name}: one step and five steps`, () => {
      expectClose(trajectory(c.make(), 1), reference(c.rule, c.init ?? {}, 1, () => c.lr));
      expectClose(trajectory(c.make(), 5), reference(c.rule, c.init ?? {}, 5, () => c.lr));
    });
  }

  it('uses the Keras defaults', () => {
    const expected: [Optimizer, Record<string, unknown>][] = [
      [new optimizers.SGD(), { learningRate: 0.01, momentum: 0, nesterov: false, name: 'SGD' }],
      [new optimizers.Adam(), { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false }],
      [new optimizers.AdamW(), { learningRate: 0.001, weightDecay: 0.004 }],
      [new optimizers.RMSprop(), { learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false }],
      [new optimizers.Adagrad(), { learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 }],
      [new optimizers.Adadelta(), { learningRate: 0.001, rho: 0.95, epsilon: 1e-7 }],
      [new optimizers.Adamax(), { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }],
      [new optimizers.Nadam(), { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }],
      [new optimizers.Lion(), { learningRate: 0.001, beta1: 0.9, beta2: 0.99 }],
      [new optimizers.Ftrl(), { learningRate: 0.001, learningRatePower: -0.5, initialAccumulatorValue: 0.1, beta: 0, l1RegularizationStrength: 0 }],
    ];
    for (const [opt, config] of expected) expect(opt.getConfig()).toMatchObject({ weightDecay: config.weightDecay ?? null, ...config });
  });
});

describe('optimizers: shared options', () => {
  const sgd = (w: number, g: number, lr: number) => w - g * lr;

  it('weightDecay shrinks w by w * weightDecay * lr before the update, except excluded variables', () => {
    const opt = new optimizers.SGD({ learningRate: 0.1, weightDecay: 0.5 });
    opt.excludeFromWeightDecay({ varNames: ['bias'] });
    const [w, b] = [variable(W0, 'dense/kernel'), variable(W0, 'dense/bias')];
    kiln.tidy(() => opt.applyGradients([[f64(GRADS[0]), w], [f64(GRADS[0]), b]]));
    expectClose([read(w), read(b)], [W0.map((x, i) => sgd(x - x * 0.5 * 0.1, GRADS[0][i], 0.1)), W0.map((x, i) => sgd(x, GRADS[0][i], 0.1))]);
    kiln.dispose([w, b]);
    opt.dispose();
  });

  it('clipnorm scales each gradient to norm <= clipnorm; clipvalue clamps elements', () => {
    const norm = Math.sqrt(GRADS[2].reduce((a, g) => a + g * g, 0));
    const byNorm = trajectory(new optimizers.SGD({ learningRate: 1, clipnorm: 0.5 }), 3).at(-1)!;
    const byValue = trajectory(new optimizers.SGD({ learningRate: 1, clipvalue: 0.3 }), 3).at(-1)!;
    const clipN = (g: number[]) => {
      const n = Math.sqrt(g.reduce((a, x) => a + x * x, 0));
      return g.map((x) => (x * 0.5) / Math.max(n, 0.5));
    };
    expect(norm).toBeGreaterThan(0.5);
    const expectN = W0.map((w, i) => [0, 1, 2].reduce((x, k) => x - clipN(GRADS[k])[i], w));
    const expectV = W0.map((w, i) => [0, 1, 2].reduce((x, k) => x - Math.min(Math.max(GRADS[k][i], -0.3), 0.3), w));
    expectClose([byNorm, byValue], [expectN, expectV]);
  });

  it('globalClipnorm scales all gradients by one factor', () => {
    const opt = new optimizers.SGD({ learningRate: 1, globalClipnorm: 0.4 });
    const [a, b] = [variable([1, 2]), variable([3])];
    kiln.tidy(() => opt.applyGradients([[f64([0.3, -0.4]), a], [f64([1.2]), b]]));
    const norm = Math.sqrt(0.3 * 0.3 + 0.4 * 0.4 + 1.2 * 1.2);
    const scale = 0.4 * Math.min(1 / norm, 1 / 0.4);
    expectClose([read(a), read(b)], [[1 - 0.3 * scale, 2 + 0.4 * scale], [3 - 1.2 * scale]]);
    kiln.dispose([a, b]);
    opt.dispose();
  });

  it('gradientAccumulationSteps updates every n calls with the mean gradient', () => {
    const opt = new optimizers.Adam({ learningRate: 0.1, gradientAccumulationSteps: 2 });
    const steps = trajectory(opt, 4, true);
    expect(opt.iterations).toBe(2);
    const mean = (k: number) => GRADS[k].map((g, i) => (g + GRADS[k + 1][i]) / 2);
    const rule = adam(0.9, 0.999, 1e-7, false);
    const states = W0.map(() => ({ m: 0, v: 0, vh: 0 }));
    const after1 = W0.map((w, i) => rule(w, mean(0)[i], states[i], 1, 0.1));
    const after2 = after1.map((w, i) => rule(w, mean(2)[i], states[i], 2, 0.1));
    expectClose(steps, [W0, after1, after1, after2]);
    opt.dispose();
  });

  it('gradientAccumulationSteps 3: updates on every third call, then starts the sum again from zero', () => {
    const opt = new optimizers.SGD({ learningRate: 0.5, gradientAccumulationSteps: 3 });
    const steps = trajectory(opt, 5, true);
    expect([opt.iterations, opt.learningRate]).toEqual([1, 0.5]);
    const after = W0.map((w, i) => sgd(w, (GRADS[0][i] + GRADS[1][i] + GRADS[2][i]) / 3, 0.5));
    expectClose(steps, [W0, W0, after, after, after]);
    // the accumulator holds the two gradients since the update (opt.variables: iteration, accumulator)
    const accumulator = opt.variables[1];
    expect(accumulator.name).toBe('SGD/w_gradient_accumulator');
    expectClose([read(accumulator)], [GRADS[3].map((g, i) => g + GRADS[4][i])]);
    opt.dispose();
  });

  it('a LearningRateSchedule is evaluated at the number of calls applied', () => {
    const schedule = new optimizers.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5 });
    const opt = new optimizers.SGD({ learningRate: schedule });
    expect(opt.learningRate).toBe(0.1);
    expectClose(trajectory(opt, 4), reference((w, g, _s, _t, lr) => sgd(w, g, lr), {}, 4, (k) => 0.1 * 0.5 ** (k / 2)));
    expect(() => { opt.learningRate = 0.5; }).toThrow(/LearningRateSchedule/);
  });

  it('useEma keeps a moving average of the weights and overwrites them every emaOverwriteFrequency updates', () => {
    const opt = new optimizers.SGD({ learningRate: 0.1, useEma: true, emaMomentum: 0.9, emaOverwriteFrequency: 3 });
    const steps = trajectory(opt, 4, true);
    let w = [...W0];
    let avg: number[] = [];
    const expected: number[][] = [];
    for (let k = 0; k < 4; k++) {
      w = w.map((x, i) => sgd(x, GRADS[k][i], 0.1));
      const m = k === 0 ? 0 : 0.9;
      avg = w.map((x, i) => m * (avg[i] ?? 0) + (1 - m) * x);
      if (k === 2) w = [...avg];
      expected.push(w);
    }
    expectClose(steps, expected);
    opt.dispose();
  });
});

describe('optimizers: state, errors, memory', () => {
  const kinds = () => [
    ...CASES.map((c) => c.make()),
    new optimizers.Adam({ useEma: true, gradientAccumulationSteps: 2, clipnorm: 1, weightDecay: 0.01 }),
  ];

  it('saves and restores its state to resume bit-for-bit', async () => {
    for (const opt of kinds()) {
      const [a, b] = [variable(W0, 'a'), variable([1, -2], 'b')];
      const step = (o: Optimizer, x: kiln.Variable, y: kiln.Variable, k: number) =>
        kiln.tidy(() => o.applyGradients([[f64(GRADS[k]), x], [k === 1 ? null : f64(GRADS[k].slice(0, 2)), y]]));
      for (let k = 0; k < 3; k++) step(opt, a, b, k);
      const saved = await Promise.all([a, b, ...opt.variables].map(async (v) => kiln.tensor(await v.data(), v.shape, v.dtype)));
      for (let k = 3; k < 5; k++) step(opt, a, b, k);

      const [a2, b2] = [new kiln.Variable(saved[0], { name: 'a' }), new kiln.Variable(saved[1], { name: 'b' })];
      const resumed = optimizers.getOptimizer(optimizers.serializeOptimizer(opt));
      resumed.build([a2, b2]);
      await resumed.setVariables(saved.slice(2));
      expect(resumed.iterations).toBe(opt.iterations - (opt.gradientAccumulationSteps ? 1 : 2));
      for (let k = 3; k < 5; k++) step(resumed, a2, b2, k);
      expect([read(a2), read(b2)]).toEqual([read(a), read(b)]);
      kiln.dispose([a, b, a2, b2, saved]);
      opt.dispose();
      resumed.dispose();
    }
  });

  it('restored to an earlier step, repeats that step exactly (Nadam recomputes its product of momenta)', async () => {
    const nadam = CASES.find((c) => c.name === 'Nadam')!;
    const expected = reference(nadam.rule, nadam.init!, 3, () => nadam.lr);
    const opt = nadam.make();
    const w = variable();
    const step = (k: number) => kiln.tidy(() => opt.applyGradients([[f64(GRADS[k]), w]]));
    step(0);
    const saved = await Promise.all([w, ...opt.variables].map(async (v) => kiln.tensor(await v.data(), v.shape, v.dtype)));
    step(1);
    step(2);
    expectClose([read(w)], [expected[2]]);
    // back to the state after step 1, on the same optimizer, which has already computed step 3's product
    w.assign(saved[0]);
    await opt.setVariables(saved.slice(1));
    expect(opt.iterations).toBe(1);
    step(1);
    step(2);
    expectClose([read(w)], [expected[2]]);
    kiln.dispose([w, saved]);
    opt.dispose();
  });

  it('skips null gradients but keeps state for their variables in a stable order', () => {
    const opt = new optimizers.Adam();
    const [a, b] = [variable(W0, 'a'), variable([1, 2], 'b')];
    kiln.tidy(() => opt.applyGradients([[null, a], [f64([0.5, 0.5]), b]]));
    expect(read(a)).toEqual(W0);
    expect(read(b)[0]).toBeLessThan(1);
    expect(opt.variables.map((v) => v.name)).toEqual(['adam/iteration', 'adam/a_momentum', 'adam/a_velocity', 'adam/b_momentum', 'adam/b_velocity']);
    expect(() => opt.applyGradients([[null, a]])).toThrow(/no gradients/);
    kiln.dispose([a, b]);
    opt.dispose();
  });

  it('rejects bad input with clear errors', async () => {
    const w = variable();
    const opt = new optimizers.SGD();
    const g = f64(GRADS[0]);
    await expect(opt.setVariables([])).rejects.toThrow(/build/);
    expect(() => opt.applyGradients('x' as never)).toThrow(/array of \[gradient, variable\] pairs/);
    expect(() => opt.applyGradients([[g] as never])).toThrow(/pair 0 must be \[gradient, variable\]/);
    expect(() => opt.applyGradients([[g, g] as never])).toThrow(/expected a Variable/);
    expect(() => opt.applyGradients([[f64([1, 2]), w]])).toThrow(/has shape \[2\], the variable has \[4\]/);
    expect(() => opt.applyGradients([[g, w], [g, w]])).toThrow(/more than one pair/);
    const int = new kiln.Variable(kiln.tensor([1, 2, 3, 4], [4], 'int32'));
    expect(() => opt.applyGradients([[g, int]])).toThrow(/int32/);
    expect(() => new optimizers.SGD({ clipnorm: 1, clipvalue: 1 })).toThrow(/only one of clipnorm, clipvalue and globalClipnorm/);
    expect(() => new optimizers.Adam({ lr: 0.1 } as never)).toThrow(/unknown option\(s\) lr/);
    expect(() => new optimizers.Adam({ beta1: 2 })).toThrow(/beta1 must be a number in \[0, 1\]/);
    expect(() => new optimizers.AdamW({ weightDecay: null })).toThrow(/weightDecay/);
    expect(() => new optimizers.SGD({ learningRate: -1 })).toThrow(/learningRate/);
    expect(() => new optimizers.SGD({ gradientAccumulationSteps: 1 })).toThrow(/gradientAccumulationSteps/);
    opt.build([w]);
    await expect(opt.setVariables([g, g])).rejects.toThrow(/expected 1 tensors/);
    await expect(opt.setVariables([f64([1])])).rejects.toThrow(/int32 \[\]/);
    kiln.dispose([w, g, int]);
    opt.dispose();
  });

  it('leaves no tensor behind per step', () => {
    for (const opt of [...kinds(), new optimizers.SGD({ globalClipnorm: 1, clipvalue: null, useEma: true, emaOverwriteFrequency: 2 })]) {
      const w = variable();
      const grads = GRADS.map(f64);
      opt.applyGradients([[grads[0], w]]);
      const before = kiln.memory().numTensors;
      for (let k = 1; k < 12; k++) opt.applyGradients([[grads[k % 5], w]]);
      expect(kiln.memory().numTensors, opt.name).toBe(before);
      opt.dispose();
      kiln.dispose([w, grads]);
    }
  });
});

describe('optimizers: getOptimizer and serialization', () => {
  it('resolves Keras ids, class names, instances and {className, config}', () => {
    const ids = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta', 'adamax', 'nadam', 'lion', 'ftrl'];
    for (const id of ids) expect(optimizers.getOptimizer(id).className.toLowerCase()).toBe(id);
    expect(optimizers.getOptimizer('RMSprop')).toBeInstanceOf(optimizers.RMSprop);
    const opt = new optimizers.Nadam({ learningRate: 0.02 });
    expect(optimizers.getOptimizer(opt)).toBe(opt);
    const copy = optimizers.getOptimizer({ className: 'Nadam', config: opt.getConfig() });
    expect(copy.getConfig()).toEqual(opt.getConfig());
    expect(() => optimizers.getOptimizer('adamm')).toThrow(/unknown optimizer "adamm"; known: sgd, adam, adamw, rmsprop/);
  });

  it('round-trips configs, schedules included', () => {
    const schedule = new optimizers.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10, warmupTarget: 0.2, warmupSteps: 3 });
    const opt = new optimizers.AdamW({ learningRate: schedule, clipnorm: 2, amsgrad: true });
    const json = JSON.parse(JSON.stringify(optimizers.serializeOptimizer(opt)));
    const back = optimizers.getOptimizer(json);
    expect(back).toBeInstanceOf(optimizers.AdamW);
    expect(back.getConfig()).toEqual(opt.getConfig());
    expect(optimizers.AdamW.fromConfig(opt.getConfig()).learningRate).toBe(schedule.call(0));
  });
});
