import type { ArgReduceOp, ReduceOp } from '../../backends/contract.js';
import { ENGINE, type Primitive } from '../engine.js';
import { fail, fmtShape } from '../errors.js';
import { isFloat } from '../dtype.js';
import { normalizeAxes, normalizeAxis, type Dim, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { add, divide, equal, greater, logicalNot, multiply, subtract } from './binary.js';
import { exp, isfinite, log, sqrt, square } from './unary.js';
import { cast, where } from './select.js';
import { BROADCAST_TO, product, reshape } from './movement.js';
import { stopGradient } from './stop-gradient.js';
import { CUMSUM } from './cumsum.js';

/** An axis, several, or null/undefined for all of them. */
export type Axis = number | readonly number[] | null | undefined;

interface ReduceAttrs {
  /** Sorted, unique, non-negative. */
  axes: readonly number[];
}

type ReduceGrad = NonNullable<Primitive<ReduceAttrs>['grad']>;

const keptShape = (shape: Shape, axes: readonly number[]): Dim[] => shape.map((d, i) => (axes.includes(i) ? 1 : d));
export const droppedShape = (shape: Shape, axes: readonly number[]): Dim[] => shape.filter((_, i) => !axes.includes(i));

/** A reduced result (or its gradient) spread back over the input's shape. */
function spread(y: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  return ENGINE.run(BROADCAST_TO, [reshape(y, keptShape(x.shape, axes))], { shape: x.shape });
}

function reducePrimitive(op: ReduceOp, grad: ReduceGrad): Primitive<ReduceAttrs> {
  return {
    name: op,
    infer([x], { axes }) {
      if ((op === 'max' || op === 'min') && axes.some((a) => x.shape[a] === 0)) {
        fail(op, `cannot take the ${op} over an empty axis: shape ${fmtShape(x.shape)}, axes ${JSON.stringify(axes)}`);
      }
      return { shape: droppedShape(x.shape, axes), dtype: x.dtype };
    },
    run: (backend, [x], out, { axes }) => backend.reduce(op, x, axes, out),
    grad,
  };
}

/** Like TF, a tie splits dy evenly among the positions that hold the extreme value. */
const extremeGrad: ReduceGrad = (dy, [x], out, { axes }) => {
  const hit = cast(equal(x, reshape(out, keptShape(x.shape, axes))), dy.dtype);
  const ties = sum(hit, axes, true);
  return [multiply(hit, divide(reshape(dy, keptShape(x.shape, axes)), ties))];
};

/**
 * dy times the product of the other elements. out / x would divide by zero, so zeros are
 * counted: with none that is the usual out / x; with one, only the zero's position gets the
 * product of the rest; with two or more, every position gets 0.
 */
const prodGrad: ReduceGrad = (dy, [x], _, { axes }) => {
  const isZero = equal(x, 0);
  const nonzero = where(isZero, 1, x);
  const rest = prod(nonzero, axes, true);
  const zeros = sum(isZero, axes, true);
  const others = where(isZero, where(equal(zeros, 1), rest, 0), where(equal(zeros, 0), divide(rest, nonzero), 0));
  return [multiply(others, reshape(dy, keptShape(x.shape, axes)))];
};

export const REDUCE: Record<ReduceOp, Primitive<ReduceAttrs>> = {
  sum: reducePrimitive('sum', (dy, [x], _, { axes }) => [spread(dy, x, axes)]),
  prod: reducePrimitive('prod', prodGrad),
  max: reducePrimitive('max', extremeGrad),
  min: reducePrimitive('min', extremeGrad),
};

function argPrimitive(op: ArgReduceOp): Primitive<{ axis: number }> {
  return {
    name: op,
    infer([x], { axis }) {
      if (x.shape[axis] === 0) fail(op, `cannot take the ${op} over an empty axis: shape ${fmtShape(x.shape)}, axis ${axis}`);
      return { shape: droppedShape(x.shape, [axis]), dtype: 'int32' };
    },
    run: (backend, [x], out, { axis }) => backend.argReduce(op, x, axis, out),
  };
}

export const ARG_REDUCE: Record<ArgReduceOp, Primitive<{ axis: number }>> = {
  argmax: argPrimitive('argmax'),
  argmin: argPrimitive('argmin'),
};

export { CUMSUM } from './cumsum.js';

export function checkKeepdims(op: string, keepdims: unknown): void {
  if (typeof keepdims !== 'boolean') fail(op, `keepdims must be a boolean, got ${JSON.stringify(keepdims)}`);
}


function reduceWith(op: ReduceOp, t: Tensor, axis: Axis, keepdims: boolean): Tensor {
  checkKeepdims(op, keepdims);
  const axes = normalizeAxes(op, axis, t.rank);
  if (axes.length === 0) return t;
  const out = ENGINE.run(REDUCE[op], [t], { axes });
  return keepdims ? reshape(out, keptShape(t.shape, axes)) : out;
}

/** bool counts as int32, as in NumPy. */
function numeric(x: TensorLike, op: string): Tensor {
  const t = asTensor(x, op);
  return t.dtype === 'bool' ? cast(t, 'int32') : t;
}

function floating(x: TensorLike, op: string): Tensor {
  const t = asTensor(x, op);
  return isFloat(t.dtype) ? t : cast(t, 'float32');
}

/**
 * The sum over `axis` (default: all axes); bool sums to int32.
 * @example
 * kiln.ops.sum(kiln.tensor([[1, 2], [3, 4]]), 1);   // [3, 7]
 */
export function sum(x: TensorLike, axis?: Axis, keepdims = false): Tensor {
  return reduceWith('sum', numeric(x, 'sum'), axis, keepdims);
}

export function prod(x: TensorLike, axis?: Axis, keepdims = false): Tensor {
  return reduceWith('prod', numeric(x, 'prod'), axis, keepdims);
}

/** The largest value over `axis`; an error over an empty axis, which has none. */
export function max(x: TensorLike, axis?: Axis, keepdims = false): Tensor {
  return reduceWith('max', asTensor(x, 'max'), axis, keepdims);
}

export function min(x: TensorLike, axis?: Axis, keepdims = false): Tensor {
  return reduceWith('min', asTensor(x, 'min'), axis, keepdims);
}

/** The number of elements over `axes`, as a number, or as a tensor when a size is unknown. */
function countOf(t: Tensor, axes: readonly number[], keepdims: boolean): number | Tensor {
  const n = product(axes.map((a) => (t.shape as Shape)[a]));
  // a symbolic axis of unknown size (the batch, usually) has no number to divide by: counting
  // ones of x's shape keeps the recorded graph right for every size
  return n ?? sum(where(equal(t, t), 1, 1), axes, keepdims);
}

/** The arithmetic mean over `axis`; integers average in float32. */
export function mean(x: TensorLike, axis?: Axis, keepdims = false): Tensor {
  const t = floating(x, 'mean');
  checkKeepdims('mean', keepdims);
  const axes = normalizeAxes('mean', axis, t.rank);
  return divide(sum(t, axes, keepdims), countOf(t, axes, keepdims));
}

/**
 * The population variance (keras.ops.var: divides by n); `kiln.ops.var` is the same function.
 * @example
 * kiln.ops.var(kiln.tensor([1, 2, 3, 4]));   // 1.25
 */
export function variance(x: TensorLike, axis?: Axis, keepdims = false): Tensor {
  const t = floating(x, 'variance');
  const axes = normalizeAxes('variance', axis, t.rank);
  return mean(square(subtract(t, mean(t, axes, true))), axes, keepdims);
}

/** The population standard deviation (keras.ops.std). */
export function std(x: TensorLike, axis?: Axis, keepdims = false): Tensor {
  return sqrt(variance(floating(x, 'std'), axis, keepdims));
}

function argReduce(op: ArgReduceOp, x: TensorLike, axis: number | null | undefined, keepdims: boolean): Tensor {
  const t = asTensor(x, op);
  checkKeepdims(op, keepdims);
  if (axis == null || t.rank === 0) {
    const out = ENGINE.run(ARG_REDUCE[op], [reshape(t, [-1])], { axis: 0 });
    return keepdims ? reshape(out, t.shape.map(() => 1)) : out;
  }
  if (typeof axis !== 'number') fail(op, `axis must be an integer or undefined, got ${JSON.stringify(axis)}`);
  const a = normalizeAxis(op, axis, t.rank);
  const out = ENGINE.run(ARG_REDUCE[op], [t], { axis: a });
  return keepdims ? reshape(out, keptShape(t.shape, [a])) : out;
}

/** The (first) index of the largest value along `axis`, or in the flattened tensor; int32. */
export const argmax = (x: TensorLike, axis?: number | null, keepdims = false): Tensor => argReduce('argmax', x, axis, keepdims);
export const argmin = (x: TensorLike, axis?: number | null, keepdims = false): Tensor => argReduce('argmin', x, axis, keepdims);

/** log(sum(exp(x))) over `axis`, shifted by the max so that large inputs do not overflow. */
export function logsumexp(x: TensorLike, axis?: Axis, keepdims = false): Tensor {
  const t = floating(x, 'logsumexp');
  checkKeepdims('logsumexp', keepdims);
  const axes = normalizeAxes('logsumexp', axis, t.rank);
  // an empty axis has no max to shift by, and its sum of nothing is exactly 0 (log: -inf)
  if (axes.some((a) => t.shape[a] === 0)) return log(sum(exp(t), axes, keepdims));
  const m = max(t, axes, true);
  // a row of -inf would make x - m NaN: shifting it by 0 gives log(0) = -inf, as it should. The
  // shift cancels out of the value, so its gradient (which would be 0) is not taken.
  const shift = stopGradient(where(isfinite(m), m, 0));
  return add(log(sum(exp(subtract(t, shift)), axes, keepdims)), keepdims ? shift : reshape(shift, droppedShape(shift.shape, axes)));
}

/** How many elements are true (non-zero) over `axes`, as int32. */
function countTrue(op: string, x: TensorLike, axis: Axis, keepdims: boolean): Tensor {
  const t = asTensor(x, op);
  checkKeepdims(op, keepdims);
  return sum(t.dtype === 'bool' ? t : cast(t, 'bool'), normalizeAxes(op, axis, t.rank), keepdims);
}

// counts rather than max/min: those refuse an empty axis, where any() is false and all() true

/** Whether any element over `axis` is true (non-zero); bool. */
export const any = (x: TensorLike, axis?: Axis, keepdims = false): Tensor => greater(countTrue('any', x, axis, keepdims), 0);

/** Whether every element over `axis` is true (non-zero); bool. */
export function all(x: TensorLike, axis?: Axis, keepdims = false): Tensor {
  return logicalNot(greater(countTrue('all', logicalNot(x), axis, keepdims), 0));
}

/** Running sums along `axis` (default: over the flattened tensor); bool sums to int32. */
export function cumsum(x: TensorLike, axis?: number | null): Tensor {
  let t = numeric(x, 'cumsum');
  if (axis != null && typeof axis !== 'number') fail('cumsum', `axis must be an integer or undefined, got ${JSON.stringify(axis)}`);
  if (axis == null || t.rank === 0) t = reshape(t, [-1]);
  const a = axis == null ? 0 : normalizeAxis('cumsum', axis, t.rank);
  return ENGINE.run(CUMSUM, [t], { axis: a, exclusive: false, reverse: false });
}
