import type { DType } from '../../backends/contract.js';
import { ENGINE, type Primitive } from '../engine.js';
import { fail } from '../errors.js';
import { checkDType, isFloat, upcast } from '../dtype.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { zerosLike } from '../creation.js';
import { operands } from './binary.js';

export const CAST: Primitive<DType> = {
  name: 'cast',
  infer: ([x], dtype) => ({ shape: x.shape, dtype }),
  run: (backend, [x], out) => backend.cast(x, out),
  // only float-to-float casts carry gradient; the rest are steps
  grad: (dy, [x]) => [isFloat(x.dtype) ? cast(dy, x.dtype) : null],
};

export const WHERE: Primitive = {
  name: 'where',
  infer([c, a, b]) {
    if (c.dtype !== 'bool') fail('where', `condition must be bool, got ${c.dtype}`);
    if (a.dtype !== b.dtype) fail('where', `branches must share a dtype, got ${a.dtype} and ${b.dtype}`);
    return { shape: broadcastShapes('where', broadcastShapes('where', c.shape, a.shape), b.shape), dtype: a.dtype };
  },
  run: (backend, [c, a, b], out) => backend.where(c, a, b, out),
  grad: (dy, [c]) => {
    const zero = zerosLike(dy);
    return [null, where(c, dy, zero), where(c, zero, dy)];
  },
};

/** `x` converted to `dtype` (float to int truncates toward zero; anything to bool is x != 0). */
export function cast(x: TensorLike, dtype: DType): Tensor {
  const t = asTensor(x, 'cast');
  checkDType('cast', dtype);
  return t.dtype === dtype ? t : ENGINE.run(CAST, [t], dtype);
}

/** Elementwise `condition ? x : y` with broadcasting; a non-bool condition means `!= 0`. */
export function where(condition: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  let c = asTensor(condition, 'where');
  if (c.dtype !== 'bool') c = cast(c, 'bool');
  const [a, b] = operands('where', x, y);
  return ENGINE.run(WHERE, [c, a, b], undefined);
}

/** The dtype `x` and `y` meet at. */
export function resultType(...dtypes: DType[]): DType {
  return dtypes.reduce(upcast);
}
