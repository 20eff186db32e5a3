/**
 * Every differentiable op's gradient rule, checked on `reference` in float64 against central
 * finite differences: for a random weight w, the vector-Jacobian product that autodiff gives for
 * sum(f(x) · w) must match (L(x + εeᵢ) - L(x - εeᵢ)) / 2ε for every element i of every input.
 * Inputs are seeded random draws kept away from the points where f is not differentiable.
 * Then the autodiff API itself: grad, valueAndGrad, GradientTape, unconnected and integer sources,
 * stopGradient, second order, accumulation, and that none of it leaks tensors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import type { Tensor } from '../index.js';

const { ops, random } = kiln;

beforeAll(async () => {
  await kiln.setBackend('reference');
});

const EPS = 1e-6;
const RTOL = 1e-7;

// ---------------------------------------------------------------------------------------------
// Inputs: thunks, so that each case draws its own with a seed of its own

type Input = (seed: number) => Tensor;

function drawn(shape: number[], seed: number, map: (u: number, i: number) => number): Tensor {
  const u = random.uniform(shape, { dtype: 'float64', seed });
  const values = Array.from(u.dataSync(), map);
  u.dispose();
  return kiln.tensor(values, shape, 'float64');
}

/** Uniform in [lo, hi). */
const U = (shape: number[], lo = -2, hi = 2): Input => (seed) => drawn(shape, seed, (u) => lo + (hi - lo) * u);
/** Positive, in [0.5, 2.5): the domain of log, sqrt and a power's base. */
const P = (shape: number[]) => U(shape, 0.5, 2.5);
/** ±[0.2, 1.7), alternating signs: away from the kink at 0 of abs, relu, sign… */
const S = (shape: number[]) => (seed: number) => drawn(shape, seed, (u, i) => (i % 2 === 0 ? 1 : -1) * (0.2 + 1.5 * u));
/** Fixed values, for kinks that random draws would not avoid by construction. */
const F = (values: number[], shape = [values.length]): Input => () => kiln.tensor(values, shape, 'float64');
/** An int32 tensor, passed to f but not differentiated. */
const I = (values: number[], shape = [values.length]): Input => () => kiln.tensor(values, shape, 'int32');

interface Case {
  name: string;
  f: (...xs: Tensor[]) => Tensor;
  inputs: Input[];
}

const c = (name: string, f: Case['f'], ...inputs: Input[]): Case => ({ name, f, inputs });

// ---------------------------------------------------------------------------------------------
// The check

function seedOf(name: string): number {
  let h = 17;
  for (const ch of name) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return h;
}

async function gradCheck({ name, f, inputs }: Case): Promise<void> {
  const base = seedOf(name);
  const xs = inputs.map((make, k) => make(base + k));
  const probe = kiln.tidy(() => f(...xs));
  const w = random.normal(probe.shape as number[], { dtype: 'float64', seed: base + 99 });
  if (!xs.includes(probe)) probe.dispose(); // f may return its input (a cast to its own dtype)
  const loss = (...args: Tensor[]) => ops.sum(ops.multiply(f(...args), w));
  const differentiable = xs.map((x) => x.dtype === 'float64');
  const analytic = kiln.grad(loss)(...xs);
  const grads = (xs.length === 1 ? [analytic] : analytic) as (Tensor | null)[];
  const lossAt = (args: Tensor[]) => {
    const l = kiln.tidy(() => loss(...args));
    const v = l.dataSync()[0];
    l.dispose();
    return v;
  };
  const scale = Math.max(1, Math.abs(lossAt(xs)));
  const problems: string[] = [];
  for (let k = 0; k < xs.length; k++) {
    if (!differentiable[k]) continue;
    const g = grads[k];
    if (!g) {
      problems.push(`input ${k}: no gradient`);
      continue;
    }
    expect(g.shape, `gradient ${k} shape`).toEqual(xs[k].shape);
    expect(g.dtype, `gradient ${k} dtype`).toBe('float64');
    const a = g.dataSync();
    const x = xs[k].dataSync();
    for (let i = 0; i < x.length; i++) {
      const at = (v: number) => {
        const moved = x.slice();
        moved[i] = v;
        const t = kiln.tensor(moved, xs[k].shape as number[], 'float64');
        const args = xs.map((o, j) => (j === k ? t : o));
        const l = lossAt(args);
        t.dispose();
        return l;
      };
      const numeric = (at(x[i] + EPS) - at(x[i] - EPS)) / (2 * EPS);
      // the loss's rounding error, divided by 2ε, bounds what the difference quotient can resolve
      const tol = RTOL * Math.abs(numeric) + 1e-9 * scale;
      if (!(Math.abs(a[i] - numeric) <= tol)) {
        problems.push(`input ${k} element ${i} (x = ${x[i]}): autodiff ${a[i]}, finite differences ${numeric}`);
      }
    }
  }
  kiln.dispose([xs, w, grads.filter((g): g is Tensor => g !== null)]);
  if (problems.length > 0) throw new Error(`${name}: gradient differs:\n  ${problems.slice(0, 8).join('\n  ')}`);
}

// ---------------------------------------------------------------------------------------------
// The cases: every differentiable op

const unary = (name: string, input: Input = U([2, 3])) => c(name, (x) => (ops as unknown as Record<string, (t: Tensor) => Tensor>)[name](x), input);

const UNARY: Case[] = [
  unary('negative'),
  unary('abs', S([2, 3])),
  unary('sqrt', P([2, 3])),
  unary('exp'),
  unary('expm1'),
  unary('log', P([2, 3])),
  unary('log1p', U([2, 3], -0.5, 2)),
  unary('sin'),
  unary('cos'),
  unary('tanh'),
  unary('erf'),
  unary('floor', F([0.3, -1.7, 2.5, 4.2])),
  unary('round', F([0.3, -1.7, 2.2, -4.4])),
  unary('ceil', F([0.3, -1.7, 2.5, 4.2])),
  unary('sign', S([4])),
  unary('square'),
  unary('reciprocal', S([2, 3])),
  unary('rsqrt', P([2, 3])),
];

const BINARY: Case[] = [
  c('add', (a, b) => ops.add(a, b), U([2, 3]), U([2, 3])),
  c('subtract', (a, b) => ops.subtract(a, b), U([2, 3]), U([2, 3])),
  c('multiply', (a, b) => ops.multiply(a, b), U([2, 3]), U([2, 3])),
  c('divide', (a, b) => ops.divide(a, b), U([2, 3]), S([2, 3])),
  c('power', (a, b) => ops.power(a, b), P([2, 3]), U([2, 3])),
  c('power by a constant', (a) => ops.power(a, 3), U([4])),
  c('maximum', (a, b) => ops.maximum(a, b), F([1, -2, 3, 0.5]), F([2, -3, 1, 0.7])),
  c('minimum', (a, b) => ops.minimum(a, b), F([1, -2, 3, 0.5]), F([2, -3, 1, 0.7])),
  c('mod', (a, b) => ops.mod(a, b), F([5.3, -5.3, 7.1, -0.4]), F([2.5, 2.5, -3.1, 1.5])),
  c('floorDivide', (a, b) => ops.floorDivide(a, b), F([5.3, -5.3, 7.1]), F([2.5, 2.5, -3.1])),
  // broadcasting: the tape sums each gradient back to its input's shape
  c('add [2,3] + [3]', (a, b) => ops.add(a, b), U([2, 3]), U([3])),
  c('multiply [2,1] * [1,3]', (a, b) => ops.multiply(a, b), U([2, 1]), U([1, 3])),
  c('divide [3] / [2,3]', (a, b) => ops.divide(a, b), U([3]), S([2, 3])),
  c('subtract scalar - [2,2]', (a, b) => ops.subtract(a, b), U([]), U([2, 2])),
  c('power [2,3] ** [1]', (a, b) => ops.power(a, b), P([2, 3]), U([1])),
  c('maximum [3,1] and [1,4]', (a, b) => ops.maximum(a, b), F([0.5, -1, 2], [3, 1]), F([0, 1.5, -2, 0.7], [1, 4])),
  c('multiply [2,1,3] * [4,1]', (a, b) => ops.multiply(a, b), U([2, 1, 3]), U([4, 1])),
  c('where', (a, b) => ops.where(kiln.tensor([[true, false, true], [false, false, true]]), a, b), U([2, 3]), U([2, 3])),
  c('where broadcast', (a, b) => ops.where(kiln.tensor([[true], [false]]), a, b), U([3]), U([2, 1])),
  c('cast float64 to float64', (x) => ops.cast(x, 'float64'), U([2, 3])),
  c('clip', (x) => ops.clip(x, -1, 1), F([-1.5, -0.5, 0.2, 0.9, 1.3, 3])),
  // divisors away from 0, where the quotient is smooth (at 0 it jumps to 0: test/divide-no-nan.test.ts)
  c('divideNoNan', (a, b) => ops.divideNoNan(a, b), U([2, 3]), S([2, 3])),
];

const x234 = U([2, 3, 4]);
const distinct = F([3, -1, 4, 1.5, -5, 9, 2.6, -5.3, 5.8, 9.7, -9.3, 2.4], [3, 4]);

const REDUCE: Case[] = [
  c('sum all', (x) => ops.sum(x), x234),
  c('sum axis 1', (x) => ops.sum(x, 1), x234),
  c('sum axes [0, 2] keepdims', (x) => ops.sum(x, [0, 2], true), x234),
  c('prod axis 1', (x) => ops.prod(x, 1), S([3, 4])),
  c('prod with one zero', (x) => ops.prod(x, 1), F([1.5, 0, 2, -1, 3, 0.5], [2, 3])),
  c('prod with two zeros', (x) => ops.prod(x), F([1.5, 0, 2, 0])),
  c('max all', (x) => ops.max(x), distinct),
  c('max axis 0', (x) => ops.max(x, 0), distinct),
  c('min axis 1 keepdims', (x) => ops.min(x, 1, true), distinct),
  c('mean axis -1', (x) => ops.mean(x, -1), x234),
  c('variance axis 1', (x) => ops.variance(x, 1), x234),
  c('var axes [0, 2]', (x) => ops.var(x, [0, 2]), x234),
  c('moments axes [0, 2]: mean', (x) => ops.moments(x, [0, 2])[0], x234),
  c('moments axis -1 keepdims: variance', (x) => ops.moments(x, -1, { keepdims: true })[1], x234),
  c('moments all: both', (x) => {
    const [m, v] = ops.moments(x, null);
    return ops.add(ops.multiply(m, 3), v);
  }, x234),
  c('std all', (x) => ops.std(x), x234),
  c('logsumexp axis 1', (x) => ops.logsumexp(x, 1), x234),
  c('logsumexp all', (x) => ops.logsumexp(x), U([5], -30, 30)),
  c('cumsum axis 0', (x) => ops.cumsum(x, 0), U([3, 2])),
  c('cumsum axis 1', (x) => ops.cumsum(x, 1), U([3, 2])),
  c('cumsum flattened', (x) => ops.cumsum(x), U([2, 3])),
];

const MATMUL: Case[] = [
  c('matmul [2,3] @ [3,4]', (a, b) => ops.matmul(a, b), U([2, 3]), U([3, 4])),
  c('matmul batched [2,2,3] @ [2,3,2]', (a, b) => ops.matmul(a, b), U([2, 2, 3]), U([2, 3, 2])),
  c('matmul batch broadcast [2,1,2,3] @ [3,3,2]', (a, b) => ops.matmul(a, b), U([2, 1, 2, 3]), U([3, 3, 2])),
  c('matmul [2,3] @ shared [3,2]', (a, b) => ops.matmul(a, b), U([4, 2, 3]), U([3, 2])),
  c('matmul vector @ matrix', (a, b) => ops.matmul(a, b), U([3]), U([3, 2])),
  c('matmul matrix @ vector', (a, b) => ops.matmul(a, b), U([2, 3]), U([3])),
  c('matmul vector @ vector', (a, b) => ops.matmul(a, b), U([3]), U([3])),
  c('matmul of transposes', (a, b) => ops.matmul(ops.transpose(a), ops.transpose(b)), U([3, 2]), U([4, 3])),
  c('dot scalar and matrix', (a, b) => ops.dot(a, b), U([]), U([2, 2])),
  c('dot matrices', (a, b) => ops.dot(a, b), U([2, 3]), U([3, 2])),
  c('dot [2,3,4] and [4]', (a, b) => ops.dot(a, b), U([2, 3, 4]), U([4])),
  c('dot [2,3] and [4,3,2]', (a, b) => ops.dot(a, b), U([2, 3]), U([4, 3, 2])),
  c('tensordot', (a, b) => ops.tensordot(a, b, [[1, 2], [1, 0]]), U([2, 3, 4]), U([4, 3, 2])),
  c('einsum ij,jk->ik', (a, b) => ops.einsum('ij,jk->ik', a, b), U([2, 3]), U([3, 2])),
  c('einsum bij,bjk->bik', (a, b) => ops.einsum('bij,bjk->bik', a, b), U([2, 2, 3]), U([2, 3, 2])),
  c('einsum i,j->ij', (a, b) => ops.einsum('i,j->ij', a, b), U([3]), U([2])),
  c('einsum ii->i', (a) => ops.einsum('ii->i', a), U([3, 3])),
  c('einsum ij->', (a) => ops.einsum('ij->', a), U([2, 3])),
  c('einsum ijk,ikl->jl', (a, b) => ops.einsum('ijk,ikl->jl', a, b), U([2, 3, 2]), U([2, 2, 4])),
];

const MOVEMENT: Case[] = [
  c('reshape', (x) => ops.reshape(x, [3, -1]), U([2, 3])),
  c('transpose', (x) => ops.transpose(x), x234),
  c('transpose [1,2,0]', (x) => ops.transpose(x, [1, 2, 0]), x234),
  c('moveaxis', (x) => ops.moveaxis(x, 0, -1), x234),
  c('swapaxes', (x) => ops.swapaxes(x, 0, 1), x234),
  c('expandDims', (x) => ops.expandDims(x, 1), U([2, 3])),
  c('squeeze', (x) => ops.squeeze(x, 1), U([2, 1, 3])),
  c('concatenate axis 1', (a, b, d) => ops.concatenate([a, b, d], 1), U([2, 1]), U([2, 3]), U([2, 2])),
  c('concatenate axis 0', (a, b) => ops.concatenate([a, b]), U([1, 3]), U([2, 3])),
  c('stack', (a, b) => ops.stack([a, b], 1), U([2, 3]), U([2, 3])),
  c('split', (x) => {
    const [a, b, d] = ops.split(x, 3, 1);
    return ops.add(ops.multiply(a, 2), ops.multiply(b, d));
  }, U([2, 6])),
  c('split at indices', (x) => ops.concatenate(ops.split(x, [1, 3], 0).reverse()), U([4, 2])),
  c('slice', (x) => ops.slice(x, [0, 1, 1], [2, 2, -1]), x234),
  c('pad', (x) => ops.pad(x, [[1, 0], [2, 1]], 'constant', 3), U([2, 3])),
  c('tile', (x) => ops.tile(x, [2, 3]), U([2, 2])),
  c('repeat axis 1', (x) => ops.repeat(x, 2, 1), U([2, 3])),
  c('repeat flattened', (x) => ops.repeat(x, 3), U([2, 2])),
  c('broadcastTo', (x) => ops.broadcastTo(x, [4, 2, 3]), U([2, 1])),
  c('flip axis 1', (x) => ops.flip(x, 1), x234),
  c('flip all', (x) => ops.flip(x), U([2, 3])),
];

const INDEX: Case[] = [
  c('take axis 0 with repeats', (x, i) => ops.take(x, i, 0), U([3, 2]), I([2, 0, 2, -1])),
  c('take axis 1 with 2-d indices', (x) => ops.take(x, [[1, 1], [0, 2]], 1), U([2, 3])),
  c('take flattened', (x) => ops.take(x, [5, 0, 5]), U([2, 3])),
  c('takeAlongAxis axis 1', (x) => ops.takeAlongAxis(x, [[0, 2, 2], [1, 1, 0]], 1), U([2, 3])),
  c('takeAlongAxis axis 0 broadcast', (x) => ops.takeAlongAxis(x, [[1, 0, 1]], 0), U([2, 3])),
];

const ACTIVATIONS: Case[] = [
  unary('relu', S([2, 4])),
  c('relu6', (x) => ops.relu6(x), F([-1, 0.5, 3, 5.5, 6.5, 8])),
  unary('leakyRelu', S([2, 4])),
  unary('elu', S([2, 4])),
  unary('selu', S([2, 4])),
  unary('gelu', U([2, 4], -3, 3)),
  c('gelu exact', (x) => ops.gelu(x, false), U([2, 4], -3, 3)),
  unary('silu', U([2, 4], -4, 4)),
  c('hardSilu', (x) => ops.hardSilu(x), F([-4, -2.5, -0.5, 0.7, 2.9, 3.5])),
  unary('sigmoid', U([2, 4], -6, 6)),
  c('hardSigmoid', (x) => ops.hardSigmoid(x), F([-4, -2.5, -0.5, 0.7, 2.9, 3.5])),
  unary('softplus', U([2, 4], -6, 6)),
  unary('softsign', S([2, 4])),
  c('softmax last axis', (x) => ops.softmax(x), U([2, 4])),
  c('softmax axis 0', (x) => ops.softmax(x, 0), U([3, 2])),
  c('logSoftmax last axis', (x) => ops.logSoftmax(x), U([2, 4])),
  c('logSoftmax axis 0', (x) => ops.logSoftmax(x, 0), U([3, 2])),
];

const FAMILIES: [string, Case[]][] = [
  ['unary', UNARY], ['binary and select', BINARY], ['reduce', REDUCE], ['matmul', MATMUL],
  ['movement', MOVEMENT], ['index', INDEX], ['activations', ACTIVATIONS],
];

describe('finite differences', () => {
  for (const [family, cases] of FAMILIES) {
    describe(family, () => {
      for (const gc of cases) it(gc.name, () => gradCheck(gc));
    });
  }

  it('leave no tensors behind', async () => {
    const before = kiln.memory();
    await gradCheck(c('matmul then softmax', (a, b) => ops.softmax(ops.matmul(a, b)), U([2, 3]), U([3, 2])));
    const after = kiln.memory();
    expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
  });
});

// ---------------------------------------------------------------------------------------------
// The autodiff API

const t64 = (values: number[] | number, shape?: number[]) => kiln.tensor(values, shape ?? (typeof values === 'number' ? [] : [values.length]), 'float64');

async function values(t: Tensor | null): Promise<number[]> {
  if (t === null) throw new Error('expected a gradient, got null');
  return Array.from(await t.data());
}

/** A Variable that owns its buffer alone (its constructor takes a view of the initial tensor). */
function variable(values: number[], shape?: number[]): kiln.Variable {
  const init = t64(values, shape);
  const v = new kiln.Variable(init);
  init.dispose();
  return v;
}

async function leavesNothing(fn: () => Promise<void> | void): Promise<void> {
  const before = kiln.memory();
  await fn();
  const after = kiln.memory();
  expect({ numTensors: after.numTensors, numBytes: after.numBytes }).toEqual({ numTensors: before.numTensors, numBytes: before.numBytes });
}

describe('autodiff API', () => {
  it('grad of one argument returns a tensor', () => leavesNothing(async () => {
    const x = t64([1, 2, 3]);
    const g = kiln.grad((v) => ops.sum(ops.square(v)))(x) as Tensor;
    expect(await values(g)).toEqual([2, 4, 6]);
    kiln.dispose([x, g]);
  }));

  it('grad of several arguments returns an array, zeros where unconnected', () => leavesNothing(async () => {
    const a = t64([1, 2]);
    const b = t64([3, 4]);
    const d = t64([5]);
    const gs = kiln.grad((x, y, _z) => ops.sum(ops.multiply(x, y)))(a, b, d) as Tensor[];
    expect(await Promise.all(gs.map(values))).toEqual([[3, 4], [1, 2], [0]]);
    kiln.dispose([a, b, d, gs]);
  }));

  it('valueAndGrad with Variables', () => leavesNothing(async () => {
    const w = variable([1, 2, 3, 4], [2, 2]);
    const bias = variable([0.5, -0.5]);
    const x = t64([1, 1], [1, 2]);
    const { value, grads } = kiln.valueAndGrad(() => ops.sum(ops.add(ops.matmul(x, w), bias)), [w, bias]);
    expect(await value.item()).toBe(10);
    expect(await values(grads[0])).toEqual([1, 1, 1, 1]);
    expect(await values(grads[1])).toEqual([1, 1]);
    kiln.dispose([w, bias, x, value, grads]);
  }));

  it('valueAndGrad gives null for an unconnected Variable', () => leavesNothing(() => {
    const w = variable([1]);
    const unused = variable([1]);
    const { value, grads } = kiln.valueAndGrad(() => ops.sum(ops.square(w)), [w, unused]);
    expect(grads[1]).toBeNull();
    kiln.dispose([w, unused, value, grads[0]]);
  }));

  it('a non-persistent tape computes gradients once', () => leavesNothing(async () => {
    const x = t64([3]);
    const tape = new kiln.GradientTape();
    const y = tape.record(() => ops.multiply(x, x));
    const g = tape.gradient(y, x);
    expect(await values(g)).toEqual([6]);
    expect(() => tape.gradient(y, x)).toThrow(/GradientTape.gradient: .*once.*persistent/);
    kiln.dispose([x, y, g]);
  }));

  it('a persistent tape computes gradients again, of several targets', () => leavesNothing(async () => {
    const x = t64([3]);
    const tape = new kiln.GradientTape({ persistent: true });
    const [y, z] = tape.record(() => {
      const sq = ops.square(x);
      return [sq, ops.multiply(sq, x)];
    });
    const gy = tape.gradient(y, x);
    const gz = tape.gradient(z, [x]);
    expect(await values(gy)).toEqual([6]);
    expect(await values(gz[0])).toEqual([27]);
    tape.dispose();
    kiln.dispose([x, y, z, gy, gz]);
  }));

  it('unconnected source is null, or zeros when asked', () => leavesNothing(async () => {
    const x = t64([1, 2]);
    const other = t64([5, 6], [1, 2]);
    const tape = new kiln.GradientTape({ persistent: true });
    const y = kiln.tidy(() => tape.record(() => ops.sum(ops.exp(x))));
    expect(tape.gradient(y, other)).toBeNull();
    const z = tape.gradient(y, other, { unconnectedGradients: 'zero' });
    expect(z!.shape).toEqual([1, 2]);
    expect(z!.dtype).toBe('float64');
    expect(await values(z)).toEqual([0, 0]);
    tape.dispose();
    kiln.dispose([x, other, y, z]);
  }));

  it('an int32 source gets null', () => leavesNothing(() => {
    const i = kiln.tensor([1, 2], [2], 'int32');
    const x = t64([1, 2]);
    const tape = new kiln.GradientTape();
    const y = kiln.tidy(() => tape.record(() => ops.sum(ops.multiply(x, i))));
    const [gi, gx] = tape.gradient(y, [i, x]);
    expect(gi).toBeNull();
    expect(gx).not.toBeNull();
    kiln.dispose([i, x, y, gx]);
  }));

  it('stopGradient blocks the gradient', () => leavesNothing(async () => {
    const x = t64([2]);
    const g = kiln.grad((v) => ops.add(ops.multiply(v, v), ops.multiply(kiln.stopGradient(ops.multiply(v, v)), v)))(x) as Tensor;
    // d/dx (x² + c·x) with c = x² held constant: 2x + x² = 8
    expect(await values(g)).toEqual([8]);
    const h = kiln.grad((v) => ops.sum(ops.stopGradient(ops.exp(v))))(x) as Tensor;
    expect(await values(h)).toEqual([0]);
    // an op, as keras.ops.stop_gradient; kiln.stopGradient is the same function
    expect(ops.stopGradient).toBe(kiln.stopGradient);
    kiln.dispose([x, g, h]);
  }));

  it('second order: d²/dx² of x³ is 6x, by nested tapes', () => leavesNothing(async () => {
    const x = t64([1, -2, 0.5]);
    const outer = new kiln.GradientTape();
    const inner = new kiln.GradientTape();
    // TF's own example: the inner tape is non-persistent, so gradient() releases it while the
    // outer tape, which recorded the same forward ops, still needs them
    const dy = kiln.tidy(() => outer.record(() => {
      const y = inner.record(() => ops.multiply(ops.multiply(x, x), x));
      return inner.gradient(y, x)!;
    }));
    expect(await values(dy)).toEqual([3, 12, 0.75]);
    const d2 = outer.gradient(dy, x);
    expect(await values(d2)).toEqual([6, -12, 3]);
    kiln.dispose([x, dy, d2]);
  }));

  it('second order through grad of grad', () => leavesNothing(async () => {
    const x = t64([0.3, -1.2]);
    const d = kiln.grad((v) => ops.sum(kiln.grad((u) => ops.sum(ops.sin(u)))(v) as Tensor));
    const g = d(x) as Tensor;
    const got = await values(g);
    [-Math.sin(0.3), -Math.sin(-1.2)].forEach((want, i) => expect(got[i]).toBeCloseTo(want, 12));
    kiln.dispose([x, g]);
  }));

  it('a tensor used twice accumulates its gradient', () => leavesNothing(async () => {
    const x = t64([2, 3]);
    const g = kiln.grad((v) => ops.sum(ops.add(ops.multiply(v, 3), ops.multiply(v, v))))(x) as Tensor;
    expect(await values(g)).toEqual([7, 9]);
    // add(x, x): one rule hands dy to both operands of one input
    const h = kiln.grad((v) => ops.sum(ops.add(v, v)))(x) as Tensor;
    expect(await values(h)).toEqual([2, 2]);
    kiln.dispose([x, g, h]);
  }));

  it('outputGradients seeds the backward pass', () => leavesNothing(async () => {
    const x = t64([1, 2]);
    const seed = t64([10, 100]);
    const tape = new kiln.GradientTape();
    const y = tape.record(() => ops.square(x));
    const g = tape.gradient(y, x, { outputGradients: seed });
    expect(await values(g)).toEqual([20, 400]);
    kiln.dispose([x, seed, y, g]);
  }));

  it('the gradient of a source that is the target itself is its own tensor, not the seed', () => leavesNothing(async () => {
    const x = t64([1, 2]);
    const seed = t64([10, 100]);
    const tape = new kiln.GradientTape();
    const y = tape.record(() => ops.square(x));
    const g = tape.gradient(x, x, { outputGradients: seed })!;
    expect(await values(g)).toEqual([10, 100]);
    g.dispose();
    // the caller's seed outlives the gradient it seeded
    expect(await values(seed)).toEqual([10, 100]);
    kiln.dispose([x, seed, y]);
  }));

  it('two sources whose gradient is one tensor each get a tensor of their own', () => leavesNothing(async () => {
    const [a, b] = [t64([1, 2]), t64([3, 4])];
    const tape = new kiln.GradientTape();
    const y = tape.record(() => ops.add(a, b));
    const seed = t64([5, 6]);
    const [ga, gb] = tape.gradient(y, [a, b], { outputGradients: seed }) as Tensor[];
    expect(ga).not.toBe(gb);
    ga.dispose();
    expect(await values(gb)).toEqual([5, 6]);
    kiln.dispose([a, b, y, gb, seed]);
  }));

  it('an integer source has no gradient, even where unconnected ones are zeros', () => leavesNothing(async () => {
    const [x, k] = [t64([1, 2]), kiln.tensor([3, 4], [2], 'int32')];
    const tape = new kiln.GradientTape();
    const y = tape.record(() => kiln.tidy(() => ops.multiply(x, ops.cast(k, 'float64'))));
    const [gx, gk] = tape.gradient(y, [x, k], { unconnectedGradients: 'zero' });
    expect(await values(gx!)).toEqual([3, 4]);
    expect(gk).toBeNull();
    kiln.dispose([x, k, y, gx!]);
  }));

  it('a persistent tape may be disposed twice', () => leavesNothing(() => {
    const x = t64([1, 2]);
    const tape = new kiln.GradientTape({ persistent: true });
    const y = tape.record(() => ops.square(x));
    tape.dispose();
    expect(() => tape.dispose()).not.toThrow();
    kiln.dispose([x, y]);
  }));

  it('valueAndGrad refuses a function that returns no tensor', () => leavesNothing(() => {
    const w = variable([1, 2]);
    expect(() => kiln.valueAndGrad(() => 3 as unknown as Tensor, [w])).toThrow(/valueAndGrad: the function must return a Tensor, got/);
    w.dispose();
  }));

  it('float32 gradients stay float32', () => leavesNothing(async () => {
    const x = kiln.tensor([1, 2]);
    const g = kiln.grad((v) => ops.sum(ops.multiply(ops.cast(v, 'float64'), 2)))(x) as Tensor;
    expect(g.dtype).toBe('float32');
    expect(await values(g)).toEqual([2, 2]);
    kiln.dispose([x, g]);
  }));

  it('a training step with Variables and SGD leaves nothing behind', () => leavesNothing(async () => {
    const w = variable([1, -1]);
    const opt = new kiln.optimizers.SGD({ learningRate: 0.1 });
    const x = t64([2, 3]);
    for (let step = 0; step < 3; step++) {
      const { value, grads } = kiln.valueAndGrad(() => ops.sum(ops.square(ops.multiply(w, x))), [w]);
      opt.applyGradients([[grads[0], w]]);
      kiln.dispose([value, grads]);
    }
    // each step scales w by 1 - 0.1 · 2x²
    expect(await values(w.value)).toEqual([1 * (1 - 0.8) ** 3, -1 * (1 - 1.8) ** 3].map((v) => expect.closeTo(v, 12)));
    kiln.dispose([w, x]);
  }));
});
