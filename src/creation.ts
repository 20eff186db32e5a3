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
import { CUMSUM } from './ops/cumsum.js';
import { add, multiply } from './ops/binary.js';

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
  checkAllocation('range', [n], checkDType('range', dt));
  // integer counts (the row offsets, class ids and causal masks ops build every step) are made on
  // the device, exactly; floats are computed here, start + i·step rounded once, and uploaded
  if (dt === 'int32' && Number.isInteger(start) && Number.isInteger(step)) return deviceRange(n, start, step);
  const data = typedArrayFor(dt, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return ENGINE.upload(data, [n], dt);
}

/** start + i·step for i < n in int32: the exclusive running sum of ones, scaled and shifted. */
function deviceRange(n: number, start: number, step: number): Tensor {
  return ENGINE.tidy(() => {
    let t = ENGINE.run(CUMSUM, [filled([n], 1, 'int32')], { axis: 0, exclusive: true, reverse: false });
    if (step !== 1) t = multiply(t, step);
    return start === 0 ? t : add(t, start);
  });
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
