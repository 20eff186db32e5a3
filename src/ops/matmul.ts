import { ENGINE, type Primitive } from '../engine.js';
import { fail, fmtShape } from '../errors.js';
import { broadcastShapes, normalizeAxis, type Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { TensorLike } from '../convert.js';
import { multiply, operands } from './binary.js';
import { product, reshape, transpose } from './movement.js';

interface MatmulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/**
 * Batched matrix products of rank >= 2 operands, either of them read transposed; the batch dims
 * broadcast. A transposed read is a flag for the kernel, not a copy, so gradients use them too.
 */
export const MATMUL: Primitive<MatmulAttrs> = {
  name: 'matmul',
  infer([a, b], { transposeA, transposeB }) {
    if (a.shape.length < 2 || b.shape.length < 2) {
      fail('matmul', `operands must have rank >= 2, got a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)}`);
    }
    if (a.dtype !== b.dtype) fail('matmul', `operands must share a dtype, got ${a.dtype} and ${b.dtype}`);
    if (a.dtype === 'bool') fail('matmul', 'expected numeric operands, got bool; cast them to a number dtype first');
    const [m, ka] = transposeA ? [a.shape.at(-1)!, a.shape.at(-2)!] : [a.shape.at(-2)!, a.shape.at(-1)!];
    const [kb, n] = transposeB ? [b.shape.at(-1)!, b.shape.at(-2)!] : [b.shape.at(-2)!, b.shape.at(-1)!];
    if (ka !== null && kb !== null && ka !== kb) {
      const t = (flag: boolean) => (flag ? ' (transposed)' : '');
      fail('matmul', `inner dimensions differ: a is ${fmtShape(a.shape)}${t(transposeA)}, b is ${fmtShape(b.shape)}${t(transposeB)}`);
    }
    const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
    return { shape: [...batch, m, n], dtype: a.dtype };
  },
  run: (backend, [a, b], out, { transposeA, transposeB }) => backend.matmul(a, b, transposeA, transposeB, out),
  // with op(X) = X or Xᵀ per flag, y = op(A)·op(B) gives d op(A) = dy·op(B)ᵀ and d op(B) = op(A)ᵀ·dy;
  // a transposed operand's gradient is the transpose of that, written as one product
  // (the input data of a first layer needs no gradient: skipping it saves a third of the backward pass)
  grad: (dy, [a, b], _, { transposeA: tA, transposeB: tB }, needs) => [
    !needs[0] ? null : tA ? matmulTransposed(b, dy, tB, true) : matmulTransposed(dy, b, false, !tB),
    !needs[1] ? null : tB ? matmulTransposed(dy, a, true, tA) : matmulTransposed(a, dy, !tA, false),
  ],
};

/** op(a)·op(b) for tensors of one dtype and rank >= 2, op = transpose where the flag is set. */
export function matmulTransposed(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  return ENGINE.run(MATMUL, [a, b], { transposeA, transposeB });
}

function numericOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const [ta, tb] = operands(op, a, b);
  if (ta.dtype === 'bool') fail(op, 'expected numeric operands, got bool; cast them to a number dtype first');
  return [ta, tb];
}

/**
 * The matrix product, as numpy.matmul: batch dims broadcast, and a rank-1 operand is a row
 * (for a) or column (for b) whose added axis is removed from the result.
 * @example
 * kiln.ops.matmul(kiln.tensor([[1, 2]]), kiln.tensor([[3], [4]]));   // [[11]]
 */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = numericOperands('matmul', a, b);
  if (ta.rank === 0 || tb.rank === 0) {
    fail('matmul', `operands must have rank >= 1 (use multiply for scalars), got a ${fmtShape(ta.shape)} and b ${fmtShape(tb.shape)}`);
  }
  const ka = ta.shape.at(-1)!;
  const kb = tb.rank === 1 ? tb.shape[0] : tb.shape.at(-2)!;
  if (ka !== null && kb !== null && ka !== kb) fail('matmul', `inner dimensions differ: a is ${fmtShape(ta.shape)}, b is ${fmtShape(tb.shape)}`);
  const a2 = ta.rank === 1 ? reshape(ta, [1, ka]) : ta;
  const b2 = tb.rank === 1 ? reshape(tb, [kb, 1]) : tb;
  const out = matmulTransposed(a2, b2, false, false);
  if (ta.rank > 1 && tb.rank > 1) return out;
  const shape: Dim[] = out.shape.slice(0, -2);
  if (ta.rank > 1) shape.push(out.shape.at(-2)!);
  if (tb.rank > 1) shape.push(out.shape.at(-1)!);
  return reshape(out, shape);
}

/**
 * Sums of products over the last `axes` axes of a and the first of b, or over the given pairs
 * of axes (numpy.tensordot); the result has a's free axes, then b's.
 */
export function tensordot(a: TensorLike, b: TensorLike, axes: number | readonly [number | readonly number[], number | readonly number[]] = 2): Tensor {
  const [ta, tb] = numericOperands('tensordot', a, b);
  let axA: number[];
  let axB: number[];
  if (typeof axes === 'number') {
    if (!Number.isInteger(axes) || axes < 0 || axes > ta.rank || axes > tb.rank) {
      fail('tensordot', `axes must be an integer in [0, ${Math.min(ta.rank, tb.rank)}] for a ${fmtShape(ta.shape)} and b ${fmtShape(tb.shape)}, got ${axes}`);
    }
    axA = Array.from({ length: axes }, (_, i) => ta.rank - axes + i);
    axB = Array.from({ length: axes }, (_, i) => i);
  } else if (Array.isArray(axes) && axes.length === 2) {
    const list = (v: number | readonly number[]) => (typeof v === 'number' ? [v] : [...v]);
    axA = list(axes[0]).map((x) => normalizeAxis('tensordot', x, ta.rank));
    axB = list(axes[1]).map((x) => normalizeAxis('tensordot', x, tb.rank));
  } else {
    return fail('tensordot', `axes must be an integer or a pair of axis lists, got ${JSON.stringify(axes)}`);
  }
  if (axA.length !== axB.length || new Set(axA).size !== axA.length || new Set(axB).size !== axB.length) {
    fail('tensordot', `expected as many unique axes for a as for b, got ${JSON.stringify(axA)} and ${JSON.stringify(axB)}`);
  }
  axA.forEach((x, i) => {
    const da = ta.shape[x] as Dim;
    const db = tb.shape[axB[i]] as Dim;
    if (da !== null && db !== null && da !== db) {
      fail('tensordot', `contracted axes differ: a ${fmtShape(ta.shape)} axis ${x} has ${da}, b ${fmtShape(tb.shape)} axis ${axB[i]} has ${db}`);
    }
  });
  const freeA = ta.shape.map((_, i) => i).filter((i) => !axA.includes(i));
  const freeB = tb.shape.map((_, i) => i).filter((i) => !axB.includes(i));
  const dimsA = freeA.map((i) => ta.shape[i] as Dim);
  const dimsB = freeB.map((i) => tb.shape[i] as Dim);
  const k = product(axA.map((i) => ta.shape[i]));
  const ma = reshape(transpose(ta, [...freeA, ...axA]), [product(dimsA), k]);
  const mb = reshape(transpose(tb, [...axB, ...freeB]), [k, product(dimsB)]);
  return reshape(matmulTransposed(ma, mb, false, false), [...dimsA, ...dimsB]);
}

/**
 * numpy.dot: a product with scalars, the inner product of vectors, the matrix product for rank
 * <= 2, and otherwise a sum over the last axis of a and the second-to-last of b.
 */
export function dot(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = numericOperands('dot', a, b);
  if (ta.rank === 0 || tb.rank === 0) return multiply(ta, tb);
  // matmul agrees with dot unless b has batch dims, which dot pairs with every row of a
  if (tb.rank <= 2 || ta.rank === 1) return matmul(ta, tb);
  return tensordot(ta, tb, [[ta.rank - 1], [tb.rank - 2]]);
}
