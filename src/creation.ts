import type { DType } from '../backends/contract.js';
import { typedArrayFor } from '../backends/contract.js';
import { checkAllocation } from './limits.js';
import { ENGINE } from './engine.js';
import { fail } from './errors.js';
import { checkDType } from './dtype.js';
import { checkShape } from './shape.js';
import type { Tensor } from './tensor.js';
import { tensorFrom } from './convert.js';
import { filled } from './ops/fill.js';

/**
 * A tensor from a number, boolean, nested array or typed array.
 * @example
 * const t = kiln.tensor([[1, 2], [3, 4]]);      // float32 [2,2]
 * const i = kiln.tensor([1, 2, 3], [3], 'int32');
 */
export function tensor(values: unknown, shape?: readonly number[], dtype?: DType): Tensor {
  return tensorFrom(values, shape, dtype, 'tensor');
}

/**
 * A tensor of `shape` filled with `value`, converted to `dtype` as cast converts (bool: value != 0).
 * Made on the device by the fill kernel: nothing is uploaded.
 */
export function fill(shape: readonly number[], value: number | boolean, dtype?: DType, op = 'fill'): Tensor {
  const s = checkShape(op, shape) as number[];
  const dt = dtype === undefined ? (typeof value === 'boolean' ? 'bool' : 'float32') : checkDType(op, dtype);
  if (typeof value !== 'number' && typeof value !== 'boolean') fail(op, `expected a number or boolean value, got ${typeof value}`);
  checkAllocation(op, s, dt);
  return filled(s, Number(value), dt);
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return fill(shape, 0, dtype, 'zeros');
}

export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return fill(shape, 1, dtype, 'ones');
}

export function zerosLike(x: { shape: readonly number[]; dtype: DType }, dtype?: DType): Tensor {
  return fill(x.shape, 0, dtype ?? x.dtype);
}

export function onesLike(x: { shape: readonly number[]; dtype: DType }, dtype?: DType): Tensor {
  return fill(x.shape, 1, dtype ?? x.dtype);
}

export function fullLike(x: { shape: readonly number[]; dtype: DType }, value: number, dtype?: DType): Tensor {
  return fill(x.shape, value, dtype ?? x.dtype);
}

/**
 * Evenly spaced values in [start, stop) (keras.ops.arange): `range(5)` is 0…4.
 * The dtype is int32 when every argument is an integer, float32 otherwise.
 */
export function range(start: number, stop?: number, step = 1, dtype?: DType): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  for (const [n, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail('range', `${n} must be a finite number, got ${v}`);
  }
  if (step === 0) fail('range', 'step must not be 0');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dt = dtype ?? ([start, stop, step].every(Number.isInteger) ? 'int32' : 'float32');
  const data = typedArrayFor(checkDType('range', dt), checkAllocation('range', [n], dt));
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return ENGINE.upload(data, [n], dt);
}

/** An identity matrix with `n` rows and `m` columns (default n), ones on diagonal `k`. */
export function eye(n: number, m = n, k = 0, dtype: DType = 'float32'): Tensor {
  checkShape('eye', [n, m]);
  if (!Number.isInteger(k)) fail('eye', `k must be an integer, got ${k}`);
  const data = typedArrayFor(checkDType('eye', dtype), checkAllocation('eye', [n, m], dtype));
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < m) data[i * m + j] = 1;
  }
  return ENGINE.upload(data, [n, m], dtype);
}
