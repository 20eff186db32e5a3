import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import { Constraint, getConstraint, MaxNorm, MinMaxNorm, NonNeg, serializeConstraint, UnitNorm } from '../src/constraints.js';

/** Column norms 5 and 0.5 (axis 0); row norms √(9.09) and √(16.16) (axis 1). */
const w = () => kiln.tensor([[3, 0.3], [4, 0.4]]);

function expectClose(t: kiln.Tensor, expected: number[][] | number[], digits = 6): void {
  const flat = (expected as unknown[]).flat(3) as number[];
  const got = Array.from(t.dataSync());
  expect(got.length).toBe(flat.length);
  got.forEach((v, i) => expect(v).toBeCloseTo(flat[i], digits));
}

describe('constraint projections (hand-computed)', () => {
  it('MaxNorm: caps each column norm at maxValue (default 2, axis 0)', () => {
    // column 0: norm 5 → scaled by 2/5; column 1: norm 0.5 ≤ 2, kept
    expectClose(new MaxNorm().call(w()), [[1.2, 0.3], [1.6, 0.4]]);
    expectClose(new MaxNorm({ maxValue: 0.25 }).call(w()), [[0.15, 0.15], [0.2, 0.2]]);
  });

  it('MaxNorm along rows and over several axes', () => {
    const r0 = Math.hypot(3, 0.3);
    const r1 = Math.hypot(4, 0.4);
    expectClose(new MaxNorm({ maxValue: 1, axis: 1 }).call(w()), [[3 / r0, 0.3 / r0], [4 / r1, 0.4 / r1]]);
    // one norm over the whole [2,2,1] tensor: √25.25
    const t = kiln.tensor([[[3], [0.3]], [[4], [0.4]]]);
    const n = Math.sqrt(25.25);
    expectClose(new MaxNorm({ maxValue: 1, axis: [0, 1] }).call(t), [3, 0.3, 4, 0.4].map((v) => v / n));
  });

  it('MinMaxNorm: moves each norm into [minValue, maxValue] at `rate`', () => {
    // norms 5 and 0.5 into [1, 2]: scaled by 2/5 and 1/0.5
    expectClose(new MinMaxNorm({ minValue: 1, maxValue: 2 }).call(w()), [[1.2, 0.6], [1.6, 0.8]]);
    // rate 0.5: desired norms 0.5·2 + 0.5·5 = 3.5 and 0.5·1 + 0.5·0.5 = 0.75
    expectClose(new MinMaxNorm({ minValue: 1, maxValue: 2, rate: 0.5 }).call(w()), [[2.1, 0.45], [2.8, 0.6]]);
    // defaults [0, 1]
    expectClose(new MinMaxNorm().call(w()), [[0.6, 0.3], [0.8, 0.4]]);
    expect(new MinMaxNorm().getConfig()).toEqual({ minValue: 0, maxValue: 1, rate: 1, axis: 0 });
  });

  it('NonNeg: negatives become 0', () => {
    expectClose(new NonNeg().call(kiln.tensor([-1, 0, 2.5, -0.1])), [0, 0, 2.5, 0]);
  });

  it('UnitNorm: each column scaled to norm 1; an all-zero column stays 0', () => {
    expectClose(new UnitNorm().call(kiln.tensor([[3, 0], [4, 0]])), [[0.6, 0], [0.8, 0]]);
    expectClose(new UnitNorm({ axis: -1 }).call(kiln.tensor([[3, 4], [0, 2]])), [[0.6, 0.8], [0, 1]]);
  });

  it("divides by ε + norm with Keras's ε = 1e-7", () => {
    const tiny = kiln.tensor([[1e-7]], undefined, 'float64');
    expect(new UnitNorm().call(tiny).dataSync()[0]).toBeCloseTo(0.5, 12);
    expect(new MaxNorm().call(tiny).dataSync()[0]).toBeCloseTo(0.5e-7, 18);
  });

  it('rejects non-numeric bounds', () => {
    expect(() => new MaxNorm({ maxValue: 'big' as unknown as number })).toThrow(/MaxNorm: maxValue must be a number, got big/);
    expect(() => new MinMaxNorm({ rate: NaN })).toThrow(/MinMaxNorm: rate must be a number/);
  });
});

describe('getConstraint and serializeConstraint', () => {
  it('maps ids, camelCase and class names', () => {
    const cases: [string[], string][] = [
      [['max_norm', 'maxNorm', 'MaxNorm'], 'MaxNorm'],
      [['min_max_norm', 'minMaxNorm', 'MinMaxNorm'], 'MinMaxNorm'],
      [['non_neg', 'nonNeg', 'NonNeg'], 'NonNeg'],
      [['unit_norm', 'unitNorm', 'UnitNorm'], 'UnitNorm'],
    ];
    for (const [ids, className] of cases) {
      for (const id of ids) {
        expect(serializeConstraint(id).className).toBe(className);
        expect(getConstraint(id)(w()).shape).toEqual([2, 2]);
      }
    }
    expectClose(getConstraint('non_neg')(kiln.tensor([-3, 3])), [0, 3]);
  });

  it('round-trips { className, config }, including Keras snake_case keys', () => {
    const cs: Constraint[] = [new MaxNorm({ maxValue: 3, axis: 1 }), new MinMaxNorm({ minValue: 0.5, maxValue: 2, rate: 0.3, axis: [0, 1] }), new NonNeg(), new UnitNorm({ axis: 1 })];
    for (const c of cs) {
      const saved = JSON.parse(JSON.stringify(serializeConstraint(c)));
      expect(serializeConstraint(saved)).toEqual(saved);
      expectClose(getConstraint(saved)(w()), Array.from(c.call(w()).dataSync()));
    }
    expect(serializeConstraint(new MaxNorm({ maxValue: 3 }))).toEqual({ className: 'MaxNorm', config: { maxValue: 3, axis: 0 } });
    expect(serializeConstraint(new NonNeg())).toEqual({ className: 'NonNeg', config: {} });
    const keras = getConstraint({ className: 'MaxNorm', config: { max_value: 0.25, axis: 0 } });
    expectClose(keras(w()), [[0.15, 0.15], [0.2, 0.2]]);
  });

  it('passes instances and functions through', () => {
    const fn = (x: kiln.Tensor) => kiln.ops.abs(x);
    expect(getConstraint(fn)).toBe(fn);
    expectClose(getConstraint(new UnitNorm())(kiln.tensor([[3], [4]])), [[0.6], [0.8]]);
  });

  it('errors name the unknown id and list the known ones', () => {
    expect(() => getConstraint('positive')).toThrow(/getConstraint: unknown constraint 'positive'; known ids: max_norm, min_max_norm, non_neg, unit_norm/);
    expect(() => getConstraint({ className: 'Clip', config: {} })).toThrow(/unknown constraint 'Clip'/);
    expect(() => getConstraint(true as unknown as string)).toThrow(/expected a string id, a Constraint, \{ className, config \} or a function, got true/);
    expect(() => serializeConstraint(function clamp(x: kiln.Tensor) { return x; })).toThrow(/serializeConstraint: cannot save the function clamp/);
  });
});
