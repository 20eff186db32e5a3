import type { DType, UnaryOp } from '../../backends/contract.js';
import { ENGINE, type Primitive } from '../engine.js';
import { fail } from '../errors.js';
import { isFloat } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { add, divide, equal, greater, less, logicalNot, multiply, subtract } from './binary.js';
import { cast } from './select.js';

type Grad = NonNullable<Primitive['grad']>;

function unaryPrimitive(op: UnaryOp, grad?: Grad): Primitive {
  return {
    name: op,
    infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
    run: (backend, [x], out) => backend.unary(op, x, out),
    grad,
  };
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** One row per kernel op: its gradient rule, composed from ops. */
export const UNARY: Record<UnaryOp, Primitive> = {
  neg: unaryPrimitive('neg', (dy) => [neg(dy)]),
  abs: unaryPrimitive('abs', (dy, [x]) => [multiply(dy, sign(x))]),
  sqrt: unaryPrimitive('sqrt', (dy, _, y) => [divide(dy, multiply(y, 2))]),
  exp: unaryPrimitive('exp', (dy, _, y) => [multiply(dy, y)]),
  expm1: unaryPrimitive('expm1', (dy, _, y) => [multiply(dy, add(y, 1))]),
  log: unaryPrimitive('log', (dy, [x]) => [divide(dy, x)]),
  log1p: unaryPrimitive('log1p', (dy, [x]) => [divide(dy, add(x, 1))]),
  sin: unaryPrimitive('sin', (dy, [x]) => [multiply(dy, cos(x))]),
  cos: unaryPrimitive('cos', (dy, [x]) => [neg(multiply(dy, sin(x)))]),
  tanh: unaryPrimitive('tanh', (dy, _, y) => [multiply(dy, subtract(1, multiply(y, y)))]),
  erf: unaryPrimitive('erf', (dy, [x]) => [multiply(dy, multiply(exp(neg(multiply(x, x))), TWO_OVER_SQRT_PI))]),
  // piecewise constant: zero gradient almost everywhere
  floor: unaryPrimitive('floor', (dy) => [multiply(dy, 0)]),
  round: unaryPrimitive('round', (dy) => [multiply(dy, 0)]),
};

/** Ops defined on every dtype (bool counts as int32, as NumPy does for arithmetic). */
function exact(op: UnaryOp, x: TensorLike, name: string): Tensor {
  let t = asTensor(x, name);
  if (t.dtype === 'bool') t = cast(t, 'int32');
  return ENGINE.run(UNARY[op], [t], undefined);
}

/** Transcendental ops: integer inputs are computed in float32, as keras.ops does. */
function floating(op: UnaryOp, x: TensorLike, name: string): Tensor {
  const t = asTensor(x, name);
  return ENGINE.run(UNARY[op], [isFloat(t.dtype) ? t : cast(t, 'float32')], undefined);
}

/** Rounding ops are the identity on integers. */
function rounding(op: UnaryOp, x: TensorLike, name: string): Tensor {
  const t = asTensor(x, name);
  if (t.dtype === 'bool') fail(name, 'expected a numeric tensor, got bool');
  return isFloat(t.dtype) ? ENGINE.run(UNARY[op], [t], undefined) : t;
}

export const neg = (x: TensorLike): Tensor => exact('neg', x, 'negative');
export const negative = neg;
export const abs = (x: TensorLike): Tensor => exact('abs', x, 'abs');
export const sqrt = (x: TensorLike): Tensor => floating('sqrt', x, 'sqrt');
export const exp = (x: TensorLike): Tensor => floating('exp', x, 'exp');
export const expm1 = (x: TensorLike): Tensor => floating('expm1', x, 'expm1');
export const log = (x: TensorLike): Tensor => floating('log', x, 'log');
export const log1p = (x: TensorLike): Tensor => floating('log1p', x, 'log1p');
export const sin = (x: TensorLike): Tensor => floating('sin', x, 'sin');
export const cos = (x: TensorLike): Tensor => floating('cos', x, 'cos');
export const tanh = (x: TensorLike): Tensor => floating('tanh', x, 'tanh');
export const erf = (x: TensorLike): Tensor => floating('erf', x, 'erf');
export const floor = (x: TensorLike): Tensor => rounding('floor', x, 'floor');
/** Round half to even, as NumPy and Keras do. */
export const round = (x: TensorLike): Tensor => rounding('round', x, 'round');

// composed from the primitives above

export function ceil(x: TensorLike): Tensor {
  const t = asTensor(x, 'ceil');
  return isFloat(t.dtype) ? neg(floor(neg(t))) : rounding('floor', t, 'ceil');
}

/** -1, 0 or 1 (0 for NaN is not NumPy's nan, but NaN gradients through sign would be worse). */
export function sign(x: TensorLike): Tensor {
  const t = asTensor(x, 'sign');
  const dt: DType = t.dtype === 'bool' ? 'int32' : t.dtype;
  return subtract(cast(greater(t, 0), dt), cast(less(t, 0), dt));
}

export function square(x: TensorLike): Tensor {
  const t = asTensor(x, 'square');
  return multiply(t, t);
}

export const reciprocal = (x: TensorLike): Tensor => divide(1, x);
export const rsqrt = (x: TensorLike): Tensor => divide(1, sqrt(x));

/** NaN is the one value not equal to itself. */
export function isnan(x: TensorLike): Tensor {
  const t = asTensor(x, 'isnan');
  return logicalNot(equal(t, t));
}

/** x - x is NaN exactly when x is NaN or ±inf. */
export function isfinite(x: TensorLike): Tensor {
  const t = asTensor(x, 'isfinite');
  if (!isFloat(t.dtype)) return equal(t, t);
  const d = subtract(t, t);
  return equal(d, d);
}

export function isinf(x: TensorLike): Tensor {
  const t = asTensor(x, 'isinf');
  return isFloat(t.dtype) ? equal(abs(t), Infinity) : logicalNot(equal(t, t));
}
