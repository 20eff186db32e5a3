import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import {
  getRegularizer, L1, L1L2, L2, OrthogonalRegularizer, Regularizer, serializeRegularizer,
} from '../src/regularizers.js';

const w = () => kiln.tensor([[1, -2], [3, -4]]); // Σ|w| = 10, Σw² = 30

function scalar(t: kiln.Tensor): number {
  expect(t.shape).toEqual([]);
  return t.dataSync()[0];
}

describe('regularizer penalties (hand-computed)', () => {
  it('L1: l1 · Σ|w|, default l1 = 0.01', () => {
    expect(scalar(new L1().call(w()))).toBeCloseTo(0.1, 6);
    expect(scalar(new L1({ l1: 0.5 }).call(w()))).toBeCloseTo(5, 6);
  });

  it('L2: l2 · Σw², default l2 = 0.01', () => {
    expect(scalar(new L2().call(w()))).toBeCloseTo(0.3, 6);
    expect(scalar(new L2({ l2: 2 }).call(w()))).toBeCloseTo(60, 5);
  });

  it('L1L2: both terms; Keras 3 defaults l1 = l2 = 0 give a zero penalty', () => {
    expect(scalar(new L1L2({ l1: 0.1, l2: 0.01 }).call(w()))).toBeCloseTo(1.3, 6);
    expect(scalar(new L1L2({ l2: 0.1 }).call(w()))).toBeCloseTo(3, 6);
    expect(scalar(new L1L2().call(w()))).toBe(0);
    expect(new L1L2().getConfig()).toEqual({ l1: 0, l2: 0 });
  });

  it("keeps the weight's dtype", () => {
    const p = new L1L2({ l1: 0.1 }).call(kiln.tensor([1, -2], undefined, 'float64'));
    expect(p.dtype).toBe('float64');
    expect(p.dataSync()[0]).toBeCloseTo(0.3, 12);
    expect(new L1L2().call(kiln.tensor([1], undefined, 'float64')).dtype).toBe('float64');
  });

  it('OrthogonalRegularizer: factor · 0.5 · Σ|off-diagonal cosines| / pairs', () => {
    // rows [1,0] and [1,1]: cosine 1/√2, appearing twice off the diagonal; one pair
    const m = kiln.tensor([[1, 0], [1, 1]]);
    expect(scalar(new OrthogonalRegularizer({ factor: 1 }).call(m))).toBeCloseTo(Math.SQRT1_2, 6);
    // columns [1,1] and [0,1]: the same cosine; default factor 0.01
    expect(scalar(new OrthogonalRegularizer({ mode: 'columns' }).call(m))).toBeCloseTo(0.01 * Math.SQRT1_2, 8);
    // three rows: cosines (r0,r1) = 0, (r0,r2) = 0.6, (r1,r2) = 0.8 → 0.5 · 2 · 1.4 / 3
    const three = kiln.tensor([[1, 0], [0, 1], [3, 4]]);
    expect(scalar(new OrthogonalRegularizer({ factor: 1 }).call(three))).toBeCloseTo(1.4 / 3, 6);
    // a zero row stays zero rather than NaN
    expect(scalar(new OrthogonalRegularizer({ factor: 1 }).call(kiln.tensor([[0, 0], [1, 1]])))).toBe(0);
    expect(() => new OrthogonalRegularizer().call(kiln.tensor([1, 2]))).toThrow(/OrthogonalRegularizer: expected a 2-D weight, got shape \[2\]/);
    expect(() => new OrthogonalRegularizer({ mode: 'diagonal' as 'rows' })).toThrow(/mode must be 'rows' or 'columns'/);
  });

  it('rejects negative, infinite and non-numeric factors', () => {
    expect(() => new L1({ l1: -1 })).toThrow(/L1: l1 must be a non-negative finite number, got -1/);
    expect(() => new L2({ l2: Infinity })).toThrow(/L2: l2 must be a non-negative finite number/);
    expect(() => new L1L2({ l1: '0.1' as unknown as number })).toThrow(/L1L2: l1 must be a non-negative/);
  });

  it('penalties differentiate: d(l2·Σw²)/dw = 2·l2·w', () => {
    const g = kiln.grad((x) => getRegularizer('l2')(x))(kiln.tensor([1, -2])) as kiln.Tensor;
    const d = g.dataSync();
    expect(d[0]).toBeCloseTo(0.02, 6);
    expect(d[1]).toBeCloseTo(-0.04, 6);
  });
});

describe('getRegularizer and serializeRegularizer', () => {
  it('maps ids, camelCase and class names', () => {
    const cases: [string[], string, number][] = [
      [['l1', 'L1'], 'L1', 0.1],
      [['l2', 'L2'], 'L2', 0.3],
      [['l1_l2', 'l1L2', 'L1L2'], 'L1L2', 0],
      [['orthogonal_regularizer', 'orthogonalRegularizer', 'OrthogonalRegularizer'], 'OrthogonalRegularizer', NaN],
    ];
    for (const [ids, className, penalty] of cases) {
      for (const id of ids) {
        expect(serializeRegularizer(id).className).toBe(className);
        if (!Number.isNaN(penalty)) expect(scalar(getRegularizer(id)(w()))).toBeCloseTo(penalty, 6);
      }
    }
  });

  it('round-trips { className, config }', () => {
    const regs: Regularizer[] = [new L1({ l1: 0.2 }), new L2({ l2: 0.3 }), new L1L2({ l1: 0.1, l2: 0.2 }), new OrthogonalRegularizer({ factor: 0.5, mode: 'columns' })];
    for (const r of regs) {
      const saved = JSON.parse(JSON.stringify(serializeRegularizer(r)));
      expect(serializeRegularizer(saved)).toEqual(saved);
      expect(scalar(getRegularizer(saved)(w()))).toBeCloseTo(scalar(r.call(w())), 6);
    }
    expect(serializeRegularizer(new L2({ l2: 1e-4 }))).toEqual({ className: 'L2', config: { l2: 1e-4 } });
    expect(scalar(getRegularizer({ className: 'L1L2', config: { l1: 0.1, l2: 0 } })(w()))).toBeCloseTo(1, 6);
  });

  it('passes instances and functions through', () => {
    const fn = (x: kiln.Tensor) => kiln.ops.sum(x);
    expect(getRegularizer(fn)).toBe(fn);
    expect(scalar(getRegularizer(new L1({ l1: 1 }))(w()))).toBeCloseTo(10, 6);
  });

  it('errors name the unknown id and list the known ones', () => {
    expect(() => getRegularizer('l3')).toThrow(/getRegularizer: unknown regularizer 'l3'; known ids: l1, l2, l1_l2, orthogonal_regularizer/);
    expect(() => getRegularizer({ className: 'Dropout', config: {} })).toThrow(/unknown regularizer 'Dropout'/);
    expect(() => getRegularizer(3 as unknown as string)).toThrow(/expected a string id, a Regularizer, \{ className, config \} or a function, got 3/);
    expect(() => serializeRegularizer((x: kiln.Tensor) => x)).toThrow(/serializeRegularizer: cannot save the function \(anonymous\)/);
  });
});
