/**
 * The matmul kernel row and what is composed on it (dot, tensordot, einsum): NumPy's rank-1 and
 * batch-broadcast rules, size-0 dims (k = 0 gives zeros), every numeric dtype, special values,
 * non-contiguous operands, and the kernel's transpose flags (which only gradients set).
 */
import * as kiln from '../../index.js';
import type { DType } from '../../backends/contract.js';
import { matmulTransposed } from '../../src/ops/matmul.js';
import { LAYOUTS, OPS, checkOp, describeBackends, flatten, group, nest, type Expected } from './harness.js';

const { ops } = kiln;

const sizeOf = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** Deterministic small values with a fractional part, distinct per position. */
const vals = (shape: readonly number[], seed = 0) => Array.from({ length: sizeOf(shape) }, (_, i) => (((i + seed) * 37) % 19) / 4 - 2);

/**
 * The product in float64 by the generic Einstein sum: every label's every value, products of the
 * operands' elements, summed into the output's element. `specs` are one letter per axis.
 */
export function einsumRef(specs: string[], output: string, operands: { values: readonly number[]; shape: readonly number[] }[]): { value: Expected; shape: number[] } {
  const dims = new Map<string, number>();
  specs.forEach((s, k) => [...s].forEach((l, i) => dims.set(l, operands[k].shape[i])));
  const labels = [...dims.keys()];
  const outShape = [...output].map((l) => dims.get(l)!);
  const out = new Array<number>(sizeOf(outShape)).fill(0);
  const offset = (spec: string, shape: readonly number[], at: Map<string, number>) =>
    [...spec].reduce((o, l, i) => o * shape[i] + at.get(l)!, 0);
  const at = new Map<string, number>();
  const visit = (d: number): void => {
    if (d === labels.length) {
      let p = 1;
      specs.forEach((s, k) => (p *= operands[k].values[offset(s, operands[k].shape, at)]));
      out[offset(output, outShape, at)] += p;
      return;
    }
    for (let i = 0; i < dims.get(labels[d])!; i++) {
      at.set(labels[d], i);
      visit(d + 1);
    }
  };
  visit(0);
  return { value: nest(out, outShape), shape: outShape };
}

/** numpy.matmul in float64: rank-1 operands get a unit axis that is removed afterwards. */
function matmulRef(sa: number[], sb: number[], a: readonly number[], b: readonly number[]): { value: Expected; shape: number[] } {
  const A = sa.length === 1 ? [1, ...sa] : sa;
  const B = sb.length === 1 ? [...sb, 1] : sb;
  const rank = Math.max(A.length, B.length);
  const pa = [...new Array(rank - A.length).fill(1), ...A];
  const pb = [...new Array(rank - B.length).fill(1), ...B];
  const batch = pa.slice(0, -2).map((d, i) => (d === 1 ? pb[i] : d));
  const letters = 'abcdefgh'.slice(0, batch.length);
  // broadcast each operand's batch dims by repeating it, then let einsum do the sums
  const expand = (shape: number[], values: readonly number[]) => {
    const full = [...batch, ...shape.slice(-2)];
    const out: number[] = [];
    for (let k = 0; k < sizeOf(full); k++) {
      let rem = k;
      let src = 0;
      let stride = 1;
      for (let d = full.length - 1; d >= 0; d--) {
        const i = rem % full[d];
        rem = Math.floor(rem / full[d]);
        src += (shape[d] === 1 ? 0 : i) * stride;
        stride *= shape[d];
      }
      out.push(values[src]);
    }
    return { values: out, shape: full };
  };
  const r = einsumRef([`${letters}xy`, `${letters}yz`], `${letters}xz`, [expand(pa, a), expand(pb, b)]);
  const shape = [...batch, ...(sa.length === 1 ? [] : [A.at(-2)!]), ...(sb.length === 1 ? [] : [B.at(-1)!])];
  return { value: nest(flatten(r.value), shape), shape };
}

const SHAPES: [number[], number[]][] = [
  [[2, 3], [3, 4]],
  [[1, 1], [1, 1]],
  [[3], [3]],
  [[3], [3, 2]],
  [[2, 3], [3]],
  [[4, 2, 3], [3, 5]],
  [[3, 2], [4, 2, 5]],
  [[2, 1, 2, 3], [5, 3, 4]],
  [[3], [2, 3, 4]],
  [[2, 3, 4], [4]],
  [[2, 0], [0, 3]],
  [[0, 3], [3, 2]],
  [[2, 3], [3, 0]],
  [[0, 2, 3], [3, 4]],
  [[17, 33], [33, 9]],
];

describeBackends('matmul', () => {
  group('matmul', () => {
    for (const [sa, sb] of SHAPES) {
      const a = vals(sa);
      const b = vals(sb, 5);
      const want = matmulRef(sa, sb, a.map(Math.fround), b.map(Math.fround));
      checkOp(`[${sa}] @ [${sb}]`, () => ops.matmul(kiln.tensor(a, sa), kiln.tensor(b, sb)), want.value, { shape: want.shape, dtype: 'float32', kind: 'reduction' });
    }
    for (const dt of ['int32', 'float64'] as DType[]) {
      const a = vals([2, 3]).map((v) => (dt === 'int32' ? Math.round(v * 4) : v));
      const b = vals([3, 2], 3).map((v) => (dt === 'int32' ? Math.round(v * 4) : v));
      const want = matmulRef([2, 3], [3, 2], a, b);
      checkOp(dt, () => ops.matmul(kiln.tensor(a, [2, 3], dt), kiln.tensor(b, [3, 2], dt)), want.value, { dtype: dt, kind: 'reduction', requires: [dt] });
    }
    checkOp('int32 @ float32 is float32', () => ops.matmul(kiln.tensor([[1, 2]], [1, 2], 'int32'), kiln.tensor([[0.5], [0.25]])), [[1]], { dtype: 'float32' });
    checkOp('infinity propagates', () => ops.matmul(kiln.tensor([[1, Infinity]]), kiln.tensor([[0], [1]])), [[Infinity]]);
    checkOp('inf times 0 is NaN', () => ops.matmul(kiln.tensor([[Infinity, 1]]), kiln.tensor([[0], [1]])), [[NaN]]);
    checkOp('NaN propagates', () => ops.matmul(kiln.tensor([[NaN, 1], [1, 1]]), kiln.tensor([[1, 0], [0, 1]])), [[NaN, NaN], [1, 1]]);
    const a = vals([2, 3]);
    const b = vals([3, 4], 2);
    const want = matmulRef([2, 3], [3, 4], a.map(Math.fround), b.map(Math.fround)).value;
    for (const layout of LAYOUTS.slice(1)) {
      checkOp(`${layout.name} operands`, () => ops.matmul(layout.make(a, 2, 3, 'float32'), layout.make(b, 3, 4, 'float32')), want, { kind: 'reduction' });
    }
    checkOp('broadcastTo operand', () => ops.matmul(ops.broadcastTo(kiln.tensor([[1, 2]]), [3, 2]), kiln.tensor([[1], [10]])), [[21], [21], [21]]);
    // the kernel's transpose flags, which matmul's gradient sets
    for (const [tA, tB] of [[true, false], [false, true], [true, true]]) {
      const sa = tA ? [2, 3, 2] : [2, 2, 3];
      const sb = tB ? [1, 4, 3] : [1, 3, 4];
      const av = vals(sa);
      const bv = vals(sb, 1);
      const perm = (v: number[], s: number[], t: boolean) => (t ? transposeLast(v, s) : v);
      const ref = matmulRef([2, 2, 3], [1, 3, 4], perm(av, sa, tA).map(Math.fround), perm(bv, sb, tB).map(Math.fround));
      checkOp(`kernel transposeA=${tA} transposeB=${tB}`, () => matmulTransposed(kiln.tensor(av, sa), kiln.tensor(bv, sb), tA, tB), ref.value, { kind: 'reduction' });
    }
  });

  group('dot', () => {
    checkOp('scalar and vector', () => ops.dot(2, kiln.tensor([1, 2])), [2, 4]);
    checkOp('vector and scalar', () => ops.dot(kiln.tensor([1, 2]), kiln.tensor(3)), [3, 6]);
    checkOp('vectors', () => ops.dot(kiln.tensor([1, 2, 3]), kiln.tensor([4, 5, 6])), 32);
    checkOp('matrix and vector', () => ops.dot(kiln.tensor([[1, 2], [3, 4]]), kiln.tensor([1, 1])), [3, 7]);
    checkOp('vector and matrix', () => ops.dot(kiln.tensor([1, 1]), kiln.tensor([[1, 2], [3, 4]])), [4, 6]);
    checkOp('matrices', () => ops.dot(kiln.tensor([[1, 2], [3, 4]]), kiln.tensor([[5, 6], [7, 8]])), [[19, 22], [43, 50]]);
    checkOp('int32 vectors', () => ops.dot(kiln.tensor([1, 2], [2], 'int32'), kiln.tensor([3, 4], [2], 'int32')), 11, { dtype: 'int32' });
    const dots: [number[], number[], string[]][] = [
      [[2, 3, 4], [4], ['abc', 'c', 'ab']],
      [[2, 3], [4, 3, 5], ['ab', 'cbd', 'acd']],
      [[2, 2, 3], [2, 3, 2], ['abc', 'dce', 'abde']],
    ];
    for (const [sa, sb, spec] of dots) {
      const a = vals(sa);
      const b = vals(sb, 4);
      const want = einsumRef([spec[0], spec[1]], spec[2], [{ values: a.map(Math.fround), shape: sa }, { values: b.map(Math.fround), shape: sb }]);
      checkOp(`[${sa}] dot [${sb}]`, () => ops.dot(kiln.tensor(a, sa), kiln.tensor(b, sb)), want.value, { shape: want.shape, kind: 'reduction' });
    }
  });

  group('einsum', () => {
    const cases: [string, number[][]][] = [
      ['ij,jk->ik', [[2, 3], [3, 4]]],
      ['i,i->', [[4], [4]]],
      ['i,j->ij', [[2], [3]]],
      ['ij->ji', [[2, 3]]],
      ['ij->', [[2, 3]]],
      ['ij->j', [[2, 3]]],
      ['bij,bjk->bik', [[2, 2, 3], [2, 3, 2]]],
      ['bij,jk->bik', [[2, 2, 3], [3, 2]]],
      ['ij,ij->ij', [[2, 3], [2, 3]]],
      ['ijk,ikl->jl', [[2, 3, 2], [2, 2, 4]]],
      ['ij,jk,kl->il', [[2, 3], [3, 2], [2, 2]]],
      ['ij,kj->ik', [[2, 3], [4, 3]]],
      ['ii->i', [[3, 3]]],
      ['ii->', [[3, 3]]],
    ];
    for (const [subscripts, shapes] of cases) {
      const [lhs, output] = subscripts.split('->');
      const specs = lhs.split(',');
      const operands = shapes.map((s, k) => ({ values: vals(s, k * 3), shape: s }));
      const want = einsumRef(specs, output, operands.map((o) => ({ ...o, values: o.values.map(Math.fround) })));
      checkOp(subscripts, () => OPS.einsum(subscripts, ...operands.map((o) => kiln.tensor(o.values, o.shape))), want.value, { shape: want.shape, kind: 'reduction' });
    }
    checkOp('implicit output ij,jk', () => OPS.einsum('ij,jk', kiln.tensor([[1, 2]]), kiln.tensor([[3], [4]])), [[11]]);
    checkOp('implicit output ji is sorted', () => OPS.einsum('ji', kiln.tensor([[1, 2, 3], [4, 5, 6]])), [[1, 4], [2, 5], [3, 6]]);
    checkOp('ellipsis ...ij,...jk->...ik', () => OPS.einsum('...ij,...jk->...ik', kiln.tensor([[[1, 2]], [[3, 4]]]), kiln.tensor([[1], [1]])), [[[3]], [[7]]]);
    checkOp('int32', () => OPS.einsum('ij,j->i', kiln.tensor([[1, 2], [3, 4]], [2, 2], 'int32'), kiln.tensor([1, -1], [2], 'int32')), [-1, -1], { dtype: 'int32' });
    checkOp('size 0 contraction', () => OPS.einsum('ij,jk->ik', kiln.zeros([2, 0]), kiln.zeros([0, 2])), [[0, 0], [0, 0]]);
    checkOp('transposed operand', () => OPS.einsum('ij,jk->ik', ops.transpose(kiln.tensor([[1, 3], [2, 4]])), kiln.tensor([[1], [1]])), [[3], [7]]);
  });

  group('tensordot', () => {
    const a = vals([2, 3, 4]);
    const b = vals([4, 3, 2], 1);
    const want = einsumRef(['abc', 'cbd'], 'ad', [{ values: a.map(Math.fround), shape: [2, 3, 4] }, { values: b.map(Math.fround), shape: [4, 3, 2] }]);
    checkOp('axes pairs', () => OPS.tensordot(kiln.tensor(a, [2, 3, 4]), kiln.tensor(b, [4, 3, 2]), [[1, 2], [1, 0]]), want.value, { kind: 'reduction' });
    checkOp('axes 0 is the outer product', () => OPS.tensordot(kiln.tensor([1, 2]), kiln.tensor([3, 4]), 0), [[3, 4], [6, 8]]);
  });

});

/** Values of shape [..., r, c] laid out as [..., c, r]. */
function transposeLast(v: readonly number[], shape: readonly number[]): number[] {
  const [r, c] = shape.slice(-2);
  const out: number[] = [];
  for (let base = 0; base < v.length; base += r * c) {
    for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) out.push(v[base + i * c + j]);
  }
  return out;
}
