/**
 * lstmSequence, gruSequence and simpleRnnSequence (src/fused/recurrent.ts) against the float64
 * loops of recurrent-oracle.ts: values with and without masks, zeroOutputForMask, T = 0 and 1,
 * non-default activations; then their gradients for every input against central finite
 * differences in float64 on `reference`, and their errors. The fused kernels are checked row by
 * row in test/conformance/fused-recurrent.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import type { DType, Tensor } from '../index.js';
import { gruSequence, lstmSequence, simpleRnnSequence } from '../src/fused/recurrent.js';
import { GATES, drawCase, mixedMask, oracle, values, type RnnCase } from './recurrent-oracle.js';

const { ops } = kiln;

beforeAll(async () => {
  await kiln.setBackend('reference');
});

/** The case's tensors in `dtype`, in the order the function takes them, each with its name. */
function tensorsOf(c: RnnCase, dtype: DType): Record<string, Tensor> {
  const G = GATES[c.cell];
  const t: Record<string, Tensor> = {
    xProj: kiln.tensor(c.xProj, [c.B, c.T, G * c.U], dtype),
    h0: kiln.tensor(c.h0, [c.B, c.U], dtype),
    recurrentKernel: kiln.tensor(c.kernel, [c.U, G * c.U], dtype),
  };
  if (c.c0) t.c0 = kiln.tensor(c.c0, [c.B, c.U], dtype);
  if (c.bias) t.recurrentBias = kiln.tensor(c.bias, [3 * c.U], dtype);
  return t;
}

/** The function under test on the case's tensors: outputs, h and (lstm) c. */
function run(c: RnnCase, t: Record<string, Tensor>): Tensor[] {
  const mask = c.mask ? kiln.tensor(c.mask, [c.B, c.T], 'bool') : null;
  const common = { mask, zeroOutputForMask: c.zeroOutputForMask, activation: c.activation };
  if (c.cell === 'lstm') {
    const r = lstmSequence(t.xProj, t.h0, t.c0, t.recurrentKernel, { ...common, recurrentActivation: c.recurrentActivation });
    return [r.outputs, r.h, r.c];
  }
  if (c.cell === 'gru') {
    const r = gruSequence(t.xProj, t.h0, t.recurrentKernel, t.recurrentBias ?? null, {
      ...common, recurrentActivation: c.recurrentActivation, resetAfter: c.resetAfter ?? true,
    });
    return [r.outputs, r.h];
  }
  const r = simpleRnnSequence(t.xProj, t.h0, t.recurrentKernel, common);
  return [r.outputs, r.h];
}

function expectClose(got: Tensor, shape: number[], want: number[], tol: number, what: string): void {
  expect([...got.shape], `${what} shape`).toEqual(shape);
  const v = Array.from(got.dataSync());
  v.forEach((x, i) => {
    if (!(Math.abs(x - want[i]) <= tol * (1 + Math.abs(want[i])))) throw new Error(`${what}[${i}]: got ${x}, oracle ${want[i]}`);
  });
}

function checkValues(c: RnnCase, dtype: DType): void {
  kiln.tidy(() => {
    const [outputs, h, cell] = run(c, tensorsOf(c, dtype));
    const want = oracle(c);
    const tol = dtype === 'float64' ? 1e-12 : 2e-6;
    expectClose(outputs, [c.B, c.T, c.U], want.outputs, tol, 'outputs');
    expectClose(h, [c.B, c.U], want.h, tol, 'h');
    if (cell) expectClose(cell, [c.B, c.U], want.c, tol, 'c');
    expect(outputs.dtype).toBe(dtype);
  });
}

const CELLS: { name: string; cell: RnnCase['cell']; over?: Partial<RnnCase> }[] = [
  { name: 'lstm', cell: 'lstm' },
  { name: 'gru resetAfter', cell: 'gru' },
  { name: 'gru resetAfter without recurrent bias', cell: 'gru', over: { bias: null } },
  { name: 'gru reset before', cell: 'gru', over: { resetAfter: false } },
  { name: 'simpleRnn', cell: 'simpleRnn' },
];

describe('recurrent sequences against a float64 loop', () => {
  for (const { name, cell, over } of CELLS) {
    describe(name, () => {
      for (const dtype of ['float32', 'float64'] as const) {
        it(`${dtype}: no mask`, () => checkValues(drawCase(cell, 3, 5, 4, 11, over), dtype));
        it(`${dtype}: a mask with a masked first step, an all-false row and an all-true-but-two row`, () =>
          checkValues(drawCase(cell, 4, 6, 3, 12, { ...over, mask: mixedMask(4, 6) }), dtype));
        it(`${dtype}: zeroOutputForMask`, () =>
          checkValues(drawCase(cell, 4, 6, 3, 13, { ...over, mask: mixedMask(4, 6), zeroOutputForMask: true }), dtype));
      }
      it('a mask all true gives the unmasked results', () => {
        const c = drawCase(cell, 2, 4, 3, 14, over);
        checkValues({ ...c, mask: new Array<boolean>(8).fill(true) }, 'float64');
      });
      it('a mask all false keeps the initial states and outputs zeros', () => {
        const c = drawCase(cell, 2, 4, 3, 15, { ...over, mask: new Array<boolean>(8).fill(false) });
        checkValues(c, 'float64');
        const want = oracle(c);
        expect(want.outputs.every((v) => v === 0)).toBe(true);
        expect(want.h).toEqual(c.h0);
      });
      it('T = 1', () => checkValues(drawCase(cell, 2, 1, 3, 16, over), 'float64'));
      it('B = 1 and U = 1', () => checkValues(drawCase(cell, 1, 4, 1, 17, over), 'float64'));
      it('T = 0: outputs [B, 0, U] and the initial states themselves', () => {
        const c = drawCase(cell, 2, 0, 3, 18, { ...over, mask: [] });
        kiln.tidy(() => {
          const t = tensorsOf(c, 'float32');
          const [outputs, h, cell2] = run(c, t);
          expect([...outputs.shape]).toEqual([2, 0, 3]);
          expect(outputs.dtype).toBe('float32');
          expect(h).toBe(t.h0);
          if (cell2) expect(cell2).toBe(t.c0);
        });
      });
      it('non-default activations compose (relu and hard_sigmoid, softsign and linear)', () => {
        checkValues(drawCase(cell, 2, 4, 3, 19, { ...over, activation: 'relu', recurrentActivation: 'hard_sigmoid' }), 'float64');
        checkValues(drawCase(cell, 2, 4, 3, 20, { ...over, activation: 'softsign', recurrentActivation: 'linear', mask: mixedMask(2, 4) }), 'float64');
      });
    });
  }
});

/** Central finite differences of a scalar function at every element of `x` (float64). */
function finiteDifferences(f: (x: Tensor) => number, x: Tensor, eps = 1e-6): number[] {
  const base = Array.from(x.dataSync());
  return base.map((_, i) => {
    const at = (d: number) => {
      const v = base.slice();
      v[i] += d;
      return kiln.tidy(() => f(kiln.tensor(v, x.shape as number[], 'float64')));
    };
    return (at(eps) - at(-eps)) / (2 * eps);
  });
}

/** sum(outputs·w₀) + sum(h·w₁) (+ sum(c·w₂)) for fixed weights w: every result matters. */
function loss(c: RnnCase, t: Record<string, Tensor>): Tensor {
  const results = run(c, t);
  return results.reduce<Tensor>((acc, r, i) => {
    const w = kiln.tensor(values(r.size, 90 + i), r.shape as number[], 'float64');
    return ops.add(acc, ops.sum(ops.multiply(r, w)));
  }, kiln.tensor(0, [], 'float64'));
}

/** The tape's gradient for each input of the case, against finite differences of the loss. */
export function checkGradients(c: RnnCase): void {
  const t = tensorsOf(c, 'float64');
  const names = Object.keys(t);
  const tape = new kiln.GradientTape();
  const y = tape.record(() => loss(c, t));
  const grads = tape.gradient(y, names.map((n) => t[n]));
  names.forEach((name, k) => {
    const g = grads[k];
    if (!g) throw new Error(`no gradient for ${name}`);
    const got = Array.from(g.dataSync());
    const want = finiteDifferences((x) => loss(c, { ...t, [name]: x }).dataSync()[0], t[name]);
    got.forEach((v, i) => {
      if (!(Math.abs(v - want[i]) <= 1e-6 * (1 + Math.abs(want[i])))) throw new Error(`d${name}[${i}]: tape ${v}, finite differences ${want[i]}`);
    });
  });
  kiln.dispose([y, ...Object.values(t), ...grads.filter((g): g is Tensor => g !== null)]);
}

describe('recurrent sequences: gradients of every input against finite differences (float64)', () => {
  for (const { name, cell, over } of CELLS) {
    it(`${name}`, () => checkGradients(drawCase(cell, 2, 3, 2, 31, over)));
    it(`${name}, masked, zeroOutputForMask`, () =>
      checkGradients(drawCase(cell, 3, 4, 2, 32, { ...over, mask: mixedMask(3, 4), zeroOutputForMask: true })));
    it(`${name}, masked, previous outputs repeated`, () => checkGradients(drawCase(cell, 3, 4, 2, 33, { ...over, mask: mixedMask(3, 4) })));
  }
  it('lstm with non-default activations', () => checkGradients(drawCase('lstm', 2, 3, 2, 34, { activation: 'softsign', recurrentActivation: 'linear' })));
});

describe('recurrent sequences: bad input', () => {
  const c = drawCase('lstm', 2, 3, 2, 40);
  const go = (over: Partial<Record<string, Tensor>>, options: Record<string, unknown> = {}) => () => kiln.tidy(() => {
    const t = { ...tensorsOf(c, 'float32'), ...over } as Record<string, Tensor>;
    lstmSequence(t.xProj, t.h0, t.c0, t.recurrentKernel, options);
  });
  it('names the op, the tensor, the shape expected and the shape received', () => {
    expect(go({ xProj: kiln.zeros([2, 3, 7]) })).toThrow(/lstmSequence: xProj must have shape \[2,3,8\], got \[2,3,7\]/);
    expect(go({ xProj: kiln.zeros([2, 8]) })).toThrow(/lstmSequence: xProj must be \[batch, timesteps, 4·units\]/);
    expect(go({ h0: kiln.zeros([2, 3]) })).toThrow(/lstmSequence: h0 must have shape \[2,2\], got \[2,3\]/);
    expect(go({ c0: kiln.zeros([3, 2]) })).toThrow(/lstmSequence: c0 must have shape \[2,2\], got \[3,2\]/);
    expect(go({ recurrentKernel: kiln.zeros([2, 6]) })).toThrow(/lstmSequence: recurrentKernel must have shape \[2,8\], got \[2,6\]/);
    expect(go({}, { mask: kiln.ones([2, 4], 'bool') })).toThrow(/lstmSequence: mask must have shape \[2,3\], got \[2,4\]/);
    expect(go({}, { mask: kiln.ones([2, 3]) })).toThrow(/lstmSequence: mask must be bool, got float32/);
  });
  it('requires one float dtype', () => {
    expect(go({ xProj: kiln.zeros([2, 3, 8], 'int32') })).toThrow(/lstmSequence: xProj must be float32 or float64, got int32/);
    expect(go({ h0: kiln.zeros([2, 2], 'float64') })).toThrow(/lstmSequence: h0 must have xProj's dtype float32, got float64/);
  });
  it('gru: a recurrent bias only with resetAfter, of shape [3U]', () => {
    const g = drawCase('gru', 2, 3, 2, 41);
    kiln.tidy(() => {
      const t = tensorsOf(g, 'float32');
      expect(() => gruSequence(t.xProj, t.h0, t.recurrentKernel, t.recurrentBias, { resetAfter: false }))
        .toThrow(/gruSequence: recurrentBias must be null without resetAfter/);
      expect(() => gruSequence(t.xProj, t.h0, t.recurrentKernel, kiln.zeros([5]), { resetAfter: true }))
        .toThrow(/gruSequence: recurrentBias must have shape \[6\], got \[5\]/);
    });
  });
});
