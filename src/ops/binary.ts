import type { BinaryOp, DType } from '../../backends/contract.js';
import { ENGINE, type Primitive } from '../engine.js';
import { fail } from '../errors.js';
import { isFloat, upcast } from '../dtype.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { cast, where } from './select.js';
import { floor, log, neg } from './unary.js';
import { zerosLike } from '../creation.js';

type Grad = NonNullable<Primitive['grad']>;

const COMPARISONS = new Set<BinaryOp>(['equal', 'less', 'lessEqual']);

function binaryPrimitive(op: BinaryOp, grad?: Grad): Primitive {
  return {
    name: op,
    infer([a, b]) {
      if (a.dtype !== b.dtype) fail(op, `operands must share a dtype, got ${a.dtype} and ${b.dtype}`);
      return { shape: broadcastShapes(op, a.shape, b.shape), dtype: COMPARISONS.has(op) ? 'bool' : a.dtype };
    },
    run: (backend, [a, b], out) => backend.binary(op, a, b, out),
    grad,
  };
}

/** One row per kernel op: its gradient rule, composed from ops. */
export const BINARY: Record<BinaryOp, Primitive> = {
  add: binaryPrimitive('add', (dy) => [dy, dy]),
  sub: binaryPrimitive('sub', (dy) => [dy, neg(dy)]),
  mul: binaryPrimitive('mul', (dy, [a, b]) => [multiply(dy, b), multiply(dy, a)]),
  // d(a/b)/db = -a/b² = -(a/b)/b: reuses the output instead of squaring b
  div: binaryPrimitive('div', (dy, [, b], out) => [divide(dy, b), neg(divide(multiply(dy, out), b))]),
  // log(a) is only taken where a > 0: elsewhere the exponent's gradient is 0, as in TF
  pow: binaryPrimitive('pow', (dy, [a, b], out) => [
    multiply(dy, multiply(b, power(a, subtract(b, 1)))),
    multiply(dy, where(greater(a, 0), multiply(out, log(where(greater(a, 0), a, 1))), 0)),
  ]),
  // ties send the whole gradient to `a`, as TF and Keras do
  maximum: binaryPrimitive('maximum', (dy, [a, b]) => [
    multiply(dy, cast(greaterEqual(a, b), dy.dtype)), multiply(dy, cast(less(a, b), dy.dtype)),
  ]),
  minimum: binaryPrimitive('minimum', (dy, [a, b]) => [
    multiply(dy, cast(lessEqual(a, b), dy.dtype)), multiply(dy, cast(greater(a, b), dy.dtype)),
  ]),
  mod: binaryPrimitive('mod', (dy, [a, b]) => [dy, neg(multiply(dy, floor(divide(a, b))))]),
  floorDiv: binaryPrimitive('floorDiv', (_, [a, b]) => [zerosLike(a), zerosLike(b)]),
  equal: binaryPrimitive('equal'),
  less: binaryPrimitive('less'),
  lessEqual: binaryPrimitive('lessEqual'),
};

/**
 * The two operands as tensors of one dtype. A plain JS number takes the other operand's dtype
 * when it fits (`add(intTensor, 2)` stays int32), as Keras's weak scalar types do.
 */
export function operands(op: string, a: TensorLike, b: TensorLike, minDtype?: DType): [Tensor, Tensor] {
  let ta: Tensor;
  let tb: Tensor;
  if (typeof a === 'number' && typeof b !== 'number') {
    tb = asTensor(b, op);
    ta = asTensor(a, op, weakDtype(a, tb.dtype));
  } else if (typeof b === 'number') {
    ta = asTensor(a, op);
    tb = asTensor(b, op, weakDtype(b, ta.dtype));
  } else {
    ta = asTensor(a, op);
    tb = asTensor(b, op);
  }
  let dt = upcast(ta.dtype, tb.dtype);
  if (minDtype) dt = upcast(dt, minDtype);
  return [ta.dtype === dt ? ta : cast(ta, dt), tb.dtype === dt ? tb : cast(tb, dt)];
}

function weakDtype(v: number, other: DType): DType {
  if (isFloat(other)) return other;
  return Number.isInteger(v) ? (other === 'bool' ? 'int32' : other) : 'float32';
}

/**
 * Runs kernel `op` for the public op `name`. Shapes are checked here, in the user's operand order,
 * so errors name what the user called even when `swap` reverses the operands (greater = less(b, a)).
 */
function arith(op: BinaryOp, a: TensorLike, b: TensorLike, name: string, minDtype?: DType, swap = false): Tensor {
  const [ta, tb] = operands(name, a, b, minDtype);
  broadcastShapes(name, ta.shape, tb.shape);
  return ENGINE.run(BINARY[op], swap ? [tb, ta] : [ta, tb], undefined);
}

/** bool operands of arithmetic count as int32, as in NumPy. */
function arithInt(op: BinaryOp, a: TensorLike, b: TensorLike, name: string): Tensor {
  return arith(op, a, b, name, 'int32');
}

export const add = (a: TensorLike, b: TensorLike): Tensor => arithInt('add', a, b, 'add');
export const subtract = (a: TensorLike, b: TensorLike): Tensor => arithInt('sub', a, b, 'subtract');
export const multiply = (a: TensorLike, b: TensorLike): Tensor => arithInt('mul', a, b, 'multiply');
/** True division: integer operands give float32, as keras.ops.divide does. */
export const divide = (a: TensorLike, b: TensorLike): Tensor => arith('div', a, b, 'divide', 'float32');
export const power = (a: TensorLike, b: TensorLike): Tensor => arithInt('pow', a, b, 'power');
export const maximum = (a: TensorLike, b: TensorLike): Tensor => arith('maximum', a, b, 'maximum');
export const minimum = (a: TensorLike, b: TensorLike): Tensor => arith('minimum', a, b, 'minimum');
/** Remainder with the sign of the divisor (Python's %). */
export const mod = (a: TensorLike, b: TensorLike): Tensor => arithInt('mod', a, b, 'mod');
export const floorDivide = (a: TensorLike, b: TensorLike): Tensor => arithInt('floorDiv', a, b, 'floorDivide');

export const equal = (a: TensorLike, b: TensorLike): Tensor => arith('equal', a, b, 'equal');
export const less = (a: TensorLike, b: TensorLike): Tensor => arith('less', a, b, 'less');
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => arith('lessEqual', a, b, 'lessEqual');
export const greater = (a: TensorLike, b: TensorLike): Tensor => arith('less', a, b, 'greater', undefined, true);
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => arith('lessEqual', a, b, 'greaterEqual', undefined, true);
/** not(equal) is exact: NaN != NaN is true, as it must be. */
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => logicalNot(arith('equal', a, b, 'notEqual'));

function asBool(x: TensorLike, op: string): Tensor {
  const t = asTensor(x, op);
  return t.dtype === 'bool' ? t : cast(t, 'bool');
}

/** On bools, minimum is AND and maximum is OR: no kernels of their own. */
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor =>
  arith('minimum', asBool(a, 'logicalAnd'), asBool(b, 'logicalAnd'), 'logicalAnd');
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor =>
  arith('maximum', asBool(a, 'logicalOr'), asBool(b, 'logicalOr'), 'logicalOr');
export const logicalNot = (x: TensorLike): Tensor => arith('equal', asBool(x, 'logicalNot'), false, 'logicalNot');
export const logicalXor = (a: TensorLike, b: TensorLike): Tensor =>
  logicalNot(arith('equal', asBool(a, 'logicalXor'), asBool(b, 'logicalXor'), 'logicalXor'));
