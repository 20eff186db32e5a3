import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';

const s = kiln.optimizers.schedules;
const STEPS = [0, 1, 2, 3, 5, 7, 10, 15, 25];

/** The schedule at each of STEPS against Keras's formula written out by hand. */
function check(schedule: kiln.optimizers.LearningRateSchedule, formula: (step: number) => number, steps = STEPS): void {
  for (const step of steps) {
    const expected = formula(step);
    expect(Math.abs(schedule.call(step) - expected), `step ${step}`).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(expected)));
  }
}

describe('learning rate schedules', () => {
  it('ExponentialDecay, smooth and staircase', () => {
    check(new s.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5 }), (t) => 0.1 * 0.5 ** (t / 4));
    check(new s.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5, staircase: true }), (t) => 0.1 * 0.5 ** Math.floor(t / 4));
  });

  it('InverseTimeDecay, smooth and staircase', () => {
    check(new s.InverseTimeDecay({ initialLearningRate: 0.2, decaySteps: 3, decayRate: 0.5 }), (t) => 0.2 / (1 + 0.5 * (t / 3)));
    check(new s.InverseTimeDecay({ initialLearningRate: 0.2, decaySteps: 3, decayRate: 0.5, staircase: true }), (t) => 0.2 / (1 + 0.5 * Math.floor(t / 3)));
  });

  it('PiecewiseConstantDecay: values[i] up to and including boundaries[i]', () => {
    const schedule = new s.PiecewiseConstantDecay({ boundaries: [2, 5], values: [1, 0.5, 0.1] });
    expect([0, 1, 2, 3, 5, 6, 100].map((t) => schedule.call(t))).toEqual([1, 1, 1, 0.5, 0.5, 0.1, 0.1]);
    expect(() => new s.PiecewiseConstantDecay({ boundaries: [2, 5], values: [1, 0.5] })).toThrow(/one element fewer/);
    expect(() => new s.PiecewiseConstantDecay({ boundaries: [5, 2], values: [1, 0.5, 0.1] })).toThrow(/strictly increasing/);
  });

  it('PolynomialDecay, held at the end or cycling', () => {
    const poly = (t: number, steps: number) => (0.1 - 0.01) * (1 - t / steps) ** 2 + 0.01;
    check(new s.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, power: 2 }), (t) => poly(Math.min(t, 10), 10));
    check(
      new s.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, power: 2, cycle: true }),
      (t) => poly(t, 10 * (t === 0 ? 1 : Math.ceil(t / 10))),
    );
    check(new s.PolynomialDecay({ initialLearningRate: 1, decaySteps: 4 }), (t) => (1 - 0.0001) * (1 - Math.min(t, 4) / 4) + 0.0001);
  });

  it('CosineDecay, without and with linear warmup', () => {
    const cosine = (t: number, steps: number, from: number, alpha: number) => from * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * (t / steps))) + alpha);
    check(new s.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10 }), (t) => cosine(Math.min(t, 10), 10, 0.1, 0));
    check(new s.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha: 0.2 }), (t) => cosine(Math.min(t, 10), 10, 0.1, 0.2));
    check(new s.CosineDecay({ initialLearningRate: 0, decaySteps: 10, alpha: 0.1, warmupTarget: 0.5, warmupSteps: 4 }), (t) => {
      const step = Math.min(t, 14);
      return step < 4 ? 0.5 * (step / 4) : cosine(step - 4, 10, 0.5, 0.1);
    });
  });

  it('CosineDecayRestarts: periods growing by tMul, peaks scaled by mMul', () => {
    const cosine = (fraction: number, restart: number, mMul: number, alpha: number) =>
      0.1 * ((1 - alpha) * 0.5 * mMul ** restart * (1 + Math.cos(Math.PI * fraction)) + alpha);
    // tMul 2: periods of 4, 8, 16 steps start at 0, 4, 12
    check(new s.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 4, mMul: 0.5, alpha: 0.1 }), (t) => {
      const restart = t < 4 ? 0 : t < 12 ? 1 : 2;
      const start = [0, 4, 12][restart];
      return cosine((t - start) / (4 * 2 ** restart), restart, 0.5, 0.1);
    }, [0, 1, 3, 4, 6, 11, 12, 20]);
    check(new s.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 5, tMul: 1 }), (t) => cosine((t % 5) / 5, Math.floor(t / 5), 1, 0));
  });

  it('getConfig / fromConfig and serialize / deserialize round trips', () => {
    const all = [
      new s.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5, staircase: true }),
      new s.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5 }),
      new s.PiecewiseConstantDecay({ boundaries: [2], values: [1, 0.5] }),
      new s.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, cycle: true }),
      new s.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10, warmupTarget: 1, warmupSteps: 2 }),
      new s.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 4, tMul: 3 }),
    ];
    for (const schedule of all) {
      const cls = schedule.constructor as unknown as { fromConfig(c: unknown): kiln.optimizers.LearningRateSchedule };
      const copy = cls.fromConfig(schedule.getConfig());
      const back = s.deserializeSchedule(JSON.parse(JSON.stringify(s.serializeSchedule(schedule))));
      for (const other of [copy, back]) {
        expect(other.getConfig()).toEqual(schedule.getConfig());
        expect(STEPS.map((t) => other.call(t))).toEqual(STEPS.map((t) => schedule.call(t)));
      }
    }
    expect(() => s.deserializeSchedule({ className: 'Nope', config: {} })).toThrow(/unknown schedule "Nope"; known: ExponentialDecay/);
    expect(() => new s.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 })).toThrow(/decaySteps must be a positive number/);
  });
});

/** The error `fn` throws, whole: the schedule, the option and the value received. */
function expectError(fn: () => unknown, message: string): void {
  expect(fn).toThrow(expect.objectContaining({ message }));
}

describe('learning rate schedules: defaults, boundaries and errors', () => {
  it('Keras\'s defaults and names, every field of each config', () => {
    expect(new s.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5 }).getConfig())
      .toEqual({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5, staircase: false, name: 'ExponentialDecay' });
    expect(new s.InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5 }).getConfig())
      .toEqual({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5, staircase: false, name: 'InverseTimeDecay' });
    expect(new s.PiecewiseConstantDecay({ boundaries: [2], values: [1, 0.5] }).getConfig())
      .toEqual({ boundaries: [2], values: [1, 0.5], name: 'PiecewiseConstant' });
    expect(new s.PolynomialDecay({ initialLearningRate: 0.1, decaySteps: 10 }).getConfig())
      .toEqual({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.0001, power: 1, cycle: false, name: 'PolynomialDecay' });
    expect(new s.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10 }).getConfig())
      .toEqual({ initialLearningRate: 0.1, decaySteps: 10, alpha: 0, name: 'CosineDecay', warmupTarget: null, warmupSteps: 0 });
    expect(new s.CosineDecayRestarts({ initialLearningRate: 0.1, firstDecaySteps: 4 }).getConfig())
      .toEqual({ initialLearningRate: 0.1, firstDecaySteps: 4, tMul: 2, mMul: 1, alpha: 0, name: 'SGDRDecay' });
    const named = [
      new s.ExponentialDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: 1, name: 'a' }),
      new s.InverseTimeDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: 1, name: 'b' }),
      new s.PiecewiseConstantDecay({ boundaries: [], values: [1], name: 'c' }),
      new s.PolynomialDecay({ initialLearningRate: 1, decaySteps: 1, name: 'd' }),
      new s.CosineDecay({ initialLearningRate: 1, decaySteps: 1, name: 'e' }),
      new s.CosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 1, name: 'f' }),
    ];
    expect(named.map((x) => x.getConfig().name)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('staircase schedules change exactly at multiples of decaySteps', () => {
    const exp = new s.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5, staircase: true });
    expect([0, 3, 4, 7, 8, 13].map((t) => exp.call(t))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125]);
    const inv = new s.InverseTimeDecay({ initialLearningRate: 0.3, decaySteps: 4, decayRate: 0.5, staircase: true });
    expect([0, 3, 4, 7, 8].map((t) => inv.call(t))).toEqual([0.3, 0.3, 0.3 / 1.5, 0.3 / 1.5, 0.3 / 2]);
    const smooth = new s.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 4, decayRate: 0.5 });
    expect([0, 4, 8].map((t) => smooth.call(t))).toEqual([0.1, 0.05, 0.025]);
  });

  it('PiecewiseConstantDecay holds each value up to and including its boundary, then the last one', () => {
    const schedule = new s.PiecewiseConstantDecay({ boundaries: [0, 3], values: [0.3, 0.2, 0.1] });
    expect([0, 1, 3, 4, 1e9].map((t) => schedule.call(t))).toEqual([0.3, 0.2, 0.2, 0.1, 0.1]);
    expect(new s.PiecewiseConstantDecay({ boundaries: [], values: [0.7] }).call(5)).toBe(0.7);
  });

  it('PolynomialDecay at decaySteps, past it, and cycling at its multiples', () => {
    const held = new s.PolynomialDecay({ initialLearningRate: 0.5, decaySteps: 4, endLearningRate: 0.1, power: 1 });
    expect([0, 2, 4, 9].map((t) => held.call(t))).toEqual([0.5, 0.4 * 0.5 + 0.1, 0.1, 0.1]);
    const cycling = new s.PolynomialDecay({ initialLearningRate: 0.5, decaySteps: 4, endLearningRate: 0.1, cycle: true });
    // step 4 ends the first cycle; step 6 is halfway down the second, which spans 8 steps
    expect([0, 4, 6, 8].map((t) => cycling.call(t))).toEqual([0.5, 0.1, 0.4 * 0.25 + 0.1, 0.1]);
  });

  it('CosineDecay: the warmup from a nonzero rate, its last step, the decay\'s end and past it', () => {
    const schedule = new s.CosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha: 0.1, warmupTarget: 0.5, warmupSteps: 4 });
    const values = [0, 2, 4, 9, 14, 100].map((t) => schedule.call(t));
    // warmup 0.1 → 0.5 over 4 steps; then 0.5·(0.9·cosine + 0.1): cosine 1 at step 4, 1/2 at step 9, 0 from step 14
    const expected = [0.1, 0.1 + 0.4 * 0.5, 0.5, 0.5 * (0.9 * 0.5 + 0.1), 0.05, 0.05];
    values.forEach((v, i) => expect(v, `step ${[0, 2, 4, 9, 14, 100][i]}`).toBeCloseTo(expected[i], 15));
    // at step warmupSteps the decay has begun, at warmupTarget exactly (the warmup's line would
    // give 0.03 + 0.27 = 0.30000000000000004 there)
    expect(new s.CosineDecay({ initialLearningRate: 0.03, decaySteps: 10, warmupTarget: 0.3, warmupSteps: 4 }).call(4)).toBe(0.3);
    const plain = new s.CosineDecay({ initialLearningRate: 0.2, decaySteps: 4, alpha: 0.25, warmupSteps: 3 });
    // warmupSteps without warmupTarget: no warmup
    expect([0, 2, 4, 6].map((t) => plain.call(t))).toEqual([0.2, 0.2 * (0.75 * 0.5 + 0.25), 0.05, 0.05]);
  });

  it('CosineDecayRestarts with tMul 3: periods of 4, 12 and 36 steps, starting at 0, 4 and 16', () => {
    const schedule = new s.CosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 4, tMul: 3, mMul: 0.5 });
    const cos = (fraction: number) => 0.5 * (1 + Math.cos(Math.PI * fraction));
    const expected: [number, number][] = [
      [0, 1], [2, 0.5], [3, cos(0.75)], [4, 0.5], [10, 0.5 * 0.5], [13, 0.5 * cos(0.75)], [16, 0.25], [25, 0.25 * cos(0.25)],
    ];
    for (const [t, lr] of expected) expect(schedule.call(t), `step ${t}`).toBeCloseTo(lr, 15);
    const floor = new s.CosineDecayRestarts({ initialLearningRate: 2, firstDecaySteps: 4, tMul: 3, alpha: 0.5 });
    expect(floor.call(10)).toBeCloseTo(2 * (0.5 * 0.5 + 0.5), 15);
  });

  it('each option\'s error names the schedule, the option and the value', () => {
    const cases: [() => unknown, string][] = [
      [() => new s.ExponentialDecay({ initialLearningRate: NaN, decaySteps: 1, decayRate: 0.5 }), 'ExponentialDecay: initialLearningRate must be a finite number, got NaN'],
      [() => new s.ExponentialDecay({ initialLearningRate: 1, decaySteps: -2, decayRate: 0.5 }), 'ExponentialDecay: decaySteps must be a positive number, got -2'],
      [() => new s.ExponentialDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: Infinity }), 'ExponentialDecay: decayRate must be a finite number, got Infinity'],
      [() => new s.InverseTimeDecay({ initialLearningRate: '1' as never, decaySteps: 1, decayRate: 0.5 }), 'InverseTimeDecay: initialLearningRate must be a finite number, got 1'],
      [() => new s.InverseTimeDecay({ initialLearningRate: 1, decaySteps: Infinity, decayRate: 0.5 }), 'InverseTimeDecay: decaySteps must be a positive number, got Infinity'],
      [() => new s.InverseTimeDecay({ initialLearningRate: 1, decaySteps: '4' as never, decayRate: 0.5 }), 'InverseTimeDecay: decaySteps must be a positive number, got 4'],
      [() => new s.InverseTimeDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: NaN }), 'InverseTimeDecay: decayRate must be a finite number, got NaN'],
      [() => new s.PiecewiseConstantDecay({ boundaries: 5 as never, values: [1, 2] }), 'PiecewiseConstantDecay: boundaries and values must be arrays of numbers'],
      [() => new s.PiecewiseConstantDecay({ boundaries: [], values: 1 as never }), 'PiecewiseConstantDecay: boundaries and values must be arrays of numbers'],
      [() => new s.PiecewiseConstantDecay({ boundaries: [1, 2], values: [1, 2] }), 'PiecewiseConstantDecay: boundaries must have one element fewer than values, got 2 boundaries and 2 values'],
      [() => new s.PiecewiseConstantDecay({ boundaries: [1, NaN], values: [1, 2, 3] }), 'PiecewiseConstantDecay: boundaries[1] must be a finite number, got NaN'],
      [() => new s.PiecewiseConstantDecay({ boundaries: [1, 2, 2], values: [1, 2, 3, 4] }), 'PiecewiseConstantDecay: boundaries must be strictly increasing, got [1, 2, 2]'],
      [() => new s.PiecewiseConstantDecay({ boundaries: [1, 2], values: [1, 2, Infinity] }), 'PiecewiseConstantDecay: values[2] must be a finite number, got Infinity'],
      [() => new s.PolynomialDecay({ initialLearningRate: NaN, decaySteps: 1 }), 'PolynomialDecay: initialLearningRate must be a finite number, got NaN'],
      [() => new s.PolynomialDecay({ initialLearningRate: 1, decaySteps: 0 }), 'PolynomialDecay: decaySteps must be a positive number, got 0'],
      [() => new s.PolynomialDecay({ initialLearningRate: 1, decaySteps: 1, endLearningRate: NaN }), 'PolynomialDecay: endLearningRate must be a finite number, got NaN'],
      [() => new s.PolynomialDecay({ initialLearningRate: 1, decaySteps: 1, power: Infinity }), 'PolynomialDecay: power must be a finite number, got Infinity'],
      [() => new s.CosineDecay({ initialLearningRate: NaN, decaySteps: 1 }), 'CosineDecay: initialLearningRate must be a finite number, got NaN'],
      [() => new s.CosineDecay({ initialLearningRate: 1, decaySteps: 0 }), 'CosineDecay: decaySteps must be a positive number, got 0'],
      [() => new s.CosineDecay({ initialLearningRate: 1, decaySteps: 1, alpha: NaN }), 'CosineDecay: alpha must be a finite number, got NaN'],
      [() => new s.CosineDecay({ initialLearningRate: 1, decaySteps: 1, warmupTarget: Infinity }), 'CosineDecay: warmupTarget must be a finite number, got Infinity'],
      [() => new s.CosineDecay({ initialLearningRate: 1, decaySteps: 1, warmupSteps: -1 }), 'CosineDecay: warmupSteps must be a positive number, got -1'],
      [() => new s.CosineDecayRestarts({ initialLearningRate: NaN, firstDecaySteps: 1 }), 'CosineDecayRestarts: initialLearningRate must be a finite number, got NaN'],
      [() => new s.CosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 0 }), 'CosineDecayRestarts: firstDecaySteps must be a positive number, got 0'],
      [() => new s.CosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 1, tMul: 0 }), 'CosineDecayRestarts: tMul must be a positive number, got 0'],
      [() => new s.CosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 1, mMul: NaN }), 'CosineDecayRestarts: mMul must be a finite number, got NaN'],
      [() => new s.CosineDecayRestarts({ initialLearningRate: 1, firstDecaySteps: 1, alpha: Infinity }), 'CosineDecayRestarts: alpha must be a finite number, got Infinity'],
    ];
    for (const [fn, message] of cases) expectError(fn, message);
    // the ends that are allowed: 0 for a finite option, no warmup
    expect(new s.CosineDecay({ initialLearningRate: 0, decaySteps: 1, alpha: 0, warmupSteps: 0 }).call(0)).toBe(0);
  });

  it('a schedule of your own is named after its class; deserializeSchedule knows only the built-in ones', () => {
    class Halving extends kiln.optimizers.LearningRateSchedule {
      call(step: number): number {
        return 0.1 / 2 ** step;
      }

      getConfig(): Record<string, unknown> {
        return {};
      }
    }
    const opt = new kiln.optimizers.SGD({ learningRate: new Halving() });
    expect(opt.learningRate).toBe(0.1);
    expect(kiln.optimizers.serializeOptimizer(opt).config.learningRate).toEqual({ className: 'Halving', config: {} });
    const known = 'ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay, CosineDecay, CosineDecayRestarts';
    expectError(() => s.deserializeSchedule({ className: 'Halving', config: {} }), `deserializeSchedule: unknown schedule "Halving"; known: ${known}`);
    expectError(() => s.deserializeSchedule(null as never), `deserializeSchedule: unknown schedule undefined; known: ${known}`);
    expect(s.deserializeSchedule({ className: 'CosineDecay', config: { initialLearningRate: 0.3, decaySteps: 2 } }).call(1)).toBeCloseTo(0.15, 15);
  });
});
