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
