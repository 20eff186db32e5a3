import type { DType, TypedArray } from '../../backends/contract.js';
import { ENGINE } from '../engine.js';
import { fail, fmtShape } from '../errors.js';
import { checkDType, isFloat } from '../dtype.js';
import { normalizeAxis, type Dim, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { Variable } from '../variable.js';
import { SymbolicTensor } from '../symbolic.js';
import { asTensor, type TensorLike } from '../convert.js';
import { range } from '../creation.js';
import { add, equal, greaterEqual, less, logicalAnd, logicalNot, maximum, minimum, multiply, notEqual } from './binary.js';
import { floor } from './unary.js';
import { checkOnDevice } from '../deferred-checks.js';
import { cast, where } from './select.js';
import { broadcastTo, expandDims, moveaxis, product, reshape } from './movement.js';
import { GATHER } from './gather.js';

const isTensor = (x: unknown): x is Tensor | Variable | SymbolicTensor =>
  x instanceof Tensor || x instanceof Variable || x instanceof SymbolicTensor;

function flatValues(x: unknown): ArrayLike<unknown> {
  if (Array.isArray(x)) return x.flat(Infinity);
  if (ArrayBuffer.isView(x)) return x as unknown as TypedArray;
  return [x];
}

/**
 * `indices` as int32 in [0, n), for gather (whose kernels expect them in range). Negative indices
 * count from the end, as in NumPy. An index out of range, or not an integer, is an error naming
 * it. Indices given as JS arrays or typed arrays are checked here, on the host, before anything
 * runs. A tensor's indices are checked on the device (src/deferred-checks.ts) and clamped into
 * range for the gather, and the error is thrown by the next read of that backend: the same on
 * every backend, whether it can read synchronously or not (docs/indices.md). Float tensors are
 * cast, so `tensor([0, 2])` (float32 by default) works; their values must then be integers.
 */
function indexTensor(op: string, indices: TensorLike, n: Dim): Tensor {
  let values: ArrayLike<unknown> | null = null;
  if (!isTensor(indices)) {
    values = flatValues(indices);
    if (n !== null) checkIndices(op, values, n);
  }
  const given = asTensor(indices, op, values === null ? undefined : 'int32');
  if (given.dtype === 'bool') fail(op, 'indices must be integers, got a bool tensor');
  const t = cast(given, 'int32');
  if (n === null) return t;
  if (values !== null) return Array.prototype.some.call(values, (v) => (v as number) < 0) ? where(less(t, 0), add(t, n), t) : t;
  if (n === 0 && t.size !== 0) fail(op, 'cannot take from an axis of size 0');
  const wrapped = where(less(t, 0), add(t, n), t);
  const clamped = minimum(maximum(wrapped, 0), n - 1);
  if (given instanceof Tensor) {
    // an int32 index is bad exactly when clamping moves it; a float one also when it is not an
    // integer (NaN included), which the cast to int32 hides
    const bad = isFloat(given.dtype)
      ? logicalNot(logicalAnd(logicalAnd(greaterEqual(given, -n), less(given, n)), equal(floor(given), given)))
      : notEqual(clamped, wrapped);
    checkOnDevice(`${op} ${given.dtype} indices for an axis of size ${n}`, given, bad, (position, v) => fail(op, Number.isInteger(v)
      ? `index ${v} is out of range for an axis of size ${n} (valid: ${-n} to ${n - 1}; position ${position} of the indices, flattened)`
      : `indices must be integers, got ${v} at position ${position}`));
  }
  return clamped;
}

function checkIndices(op: string, values: ArrayLike<unknown>, n: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) fail(op, `indices must be integers, got ${String(v)} at position ${i}`);
    if (v < -n || v >= n) fail(op, `index ${v} is out of range for an axis of size ${n} (valid: ${-n} to ${n - 1})`);
  }
}

/**
 * Elements of `x` at `indices` along `axis` (default: of the flattened tensor), as numpy.take:
 * the result's shape is x.shape[:axis] + indices.shape + x.shape[axis+1:].
 * @example
 * kiln.ops.take(kiln.tensor([[1, 2], [3, 4]]), [1, 0], 1);   // [[2, 1], [4, 3]]
 */
export function take(x: TensorLike, indices: TensorLike, axis?: number | null): Tensor {
  let t = asTensor(x, 'take');
  if (axis != null && typeof axis !== 'number') fail('take', `axis must be an integer or undefined, got ${JSON.stringify(axis)}`);
  if (axis == null) t = reshape(t, [-1]);
  else if (t.rank === 0) fail('take', `cannot take along axis ${axis} of a scalar`);
  const a = axis == null ? 0 : normalizeAxis('take', axis, t.rank);
  return ENGINE.run(GATHER, [t, indexTensor('take', indices, (t.shape as Shape)[a])], { axis: a });
}

/**
 * Picks along `axis` the elements that `indices` (of x's rank) name, as numpy.take_along_axis;
 * the other axes of x and indices broadcast. `axis` undefined works on the flattened tensors.
 */
export function takeAlongAxis(x: TensorLike, indices: TensorLike, axis?: number | null): Tensor {
  const op = 'takeAlongAxis';
  let t = asTensor(x, op);
  if (axis == null) t = reshape(t, [-1]);
  else if (typeof axis !== 'number') fail(op, `axis must be an integer or undefined, got ${JSON.stringify(axis)}`);
  if (t.rank === 0) fail(op, 'cannot take along an axis of a scalar');
  const a = axis == null ? 0 : normalizeAxis(op, axis, t.rank);
  let idx = indexTensor(op, indices, (t.shape as Shape)[a]);
  if (axis == null) idx = reshape(idx, [-1]);
  if (idx.rank !== t.rank) fail(op, `indices must have the rank of x: x is ${fmtShape(t.shape)}, indices are ${fmtShape(idx.shape)}`);
  const batch = t.shape.map((d, i) => {
    if (i === a) return 1;
    const e = idx.shape[i];
    if (d !== e && d !== 1 && e !== 1) fail(op, `x ${fmtShape(t.shape)} and indices ${fmtShape(idx.shape)} do not broadcast outside axis ${a}`);
    return d === 1 ? e : d;
  });
  if (product(batch) === null || product(t.shape) === null || product(idx.shape) === null) {
    fail(op, `needs known shapes, got x ${fmtShape(t.shape)} and indices ${fmtShape(idx.shape)}`);
  }
  const n = t.shape[a];
  const k = idx.shape[a];
  // rows of the flattened x, each n long: row r's element j is at r * n + j
  const rows = product(batch)!;
  const xs = reshape(moveaxis(broadcastTo(t, batch.map((d, i) => (i === a ? n : d))), a, -1), [-1]);
  const is = moveaxis(broadcastTo(idx, batch.map((d, i) => (i === a ? k : d))), a, -1);
  const flat = add(reshape(is, [rows, k]), reshape(multiply(range(rows), n), [rows, 1]));
  return moveaxis(reshape(ENGINE.run(GATHER, [xs, flat], { axis: 0 }), is.shape), -1, a);
}

/**
 * One-hot vectors: a new axis (default last) of length `numClasses` holding 1 at each index and 0
 * elsewhere; indices outside [0, numClasses) give all zeros, as keras.ops.one_hot does.
 */
export function oneHot(indices: TensorLike, numClasses: number, options: { axis?: number; dtype?: DType } = {}): Tensor {
  const { axis = -1, dtype = 'float32' } = options;
  let t = asTensor(indices, 'oneHot');
  if (t.dtype === 'bool') fail('oneHot', 'indices must be integers, got a bool tensor');
  if (isFloat(t.dtype)) t = cast(t, 'int32');
  if (!Number.isInteger(numClasses) || numClasses < 0) fail('oneHot', `numClasses must be a non-negative integer, got ${numClasses}`);
  checkDType('oneHot', dtype);
  const a = normalizeAxis('oneHot', axis, t.rank + 1);
  const classes = reshape(range(numClasses), Array.from({ length: t.rank + 1 }, (_, i) => (i === a ? numClasses : 1)));
  return cast(equal(expandDims(t, a), classes), dtype);
}
