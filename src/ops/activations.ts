import { isFloat } from '../dtype.js';
import { fail } from '../errors.js';
import { normalizeAxes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { add, divide, greater, greaterEqual, lessEqual, multiply } from './binary.js';
import { abs, erf, exp, expm1, log1p, neg, tanh } from './unary.js';
import { cast, where } from './select.js';
import type { Axis } from './reduce.js';
import { fusedSoftmax } from '../fused/softmax.js';

function floating(x: TensorLike, op: string): Tensor {
  const t = asTensor(x, op);
  return isFloat(t.dtype) ? t : cast(t, 'float32');
}

function checkNumber(op: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(op, `${name} must be a finite number, got ${JSON.stringify(v)}`);
}

/**
 * max(x, 0). Not maximum(x, 0): its tie rule would pass the whole gradient at 0, where relu's
 * gradient is 0 (as in TF and JAX). Written as x <= 0 ? 0 : x so that NaN stays NaN.
 */
export function relu(x: TensorLike): Tensor {
  const t = asTensor(x, 'relu');
  return where(lessEqual(t, 0), 0, t);
}

/** min(max(x, 0), 6); the gradient is 0 at both kinks, as TF's Relu6Grad, and NaN stays NaN. */
export function relu6(x: TensorLike): Tensor {
  const t = asTensor(x, 'relu6');
  return where(lessEqual(t, 0), 0, where(greaterEqual(t, 6), 6, t));
}

/** x for x > 0, else negativeSlope·x (Keras 3's default slope is 0.2). */
export function leakyRelu(x: TensorLike, negativeSlope = 0.2): Tensor {
  checkNumber('leakyRelu', 'negativeSlope', negativeSlope);
  const t = floating(x, 'leakyRelu');
  return where(greater(t, 0), t, multiply(t, negativeSlope));
}

/** x for x > 0, else alpha·(exp(x) - 1). */
export function elu(x: TensorLike, alpha = 1): Tensor {
  checkNumber('elu', 'alpha', alpha);
  const t = floating(x, 'elu');
  // expm1 only sees x <= 0, and 0 elsewhere: on the discarded branch a large x would overflow to
  // inf, or a NaN pass through, and either times where's zero gradient is NaN. The test is x <= 0
  // so that NaN takes the x branch (gradient 1, as TF's EluGrad).
  const negative = lessEqual(t, 0);
  return where(negative, multiply(expm1(where(negative, t, 0)), alpha), t);
}

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

export function selu(x: TensorLike): Tensor {
  return multiply(elu(floating(x, 'selu'), SELU_ALPHA), SELU_SCALE);
}

/**
 * 1 / (1 + exp(-x)), from exp(-|x|) so that nothing overflows: 1 / (1 + e) for x >= 0 and
 * e / (1 + e) below. -|x| is a where, not abs, whose gradient at 0 would be 0.
 */
export function sigmoid(x: TensorLike): Tensor {
  const t = floating(x, 'sigmoid');
  const pos = greaterEqual(t, 0);
  const e = exp(where(pos, neg(t), t));
  const denom = add(e, 1);
  return where(pos, divide(1, denom), divide(e, denom));
}

/** Keras 3: relu6(x + 3) / 6. */
export function hardSigmoid(x: TensorLike): Tensor {
  return divide(relu6(add(floating(x, 'hardSigmoid'), 3)), 6);
}

/** x · sigmoid(x) (also called swish). */
export function silu(x: TensorLike): Tensor {
  const t = floating(x, 'silu');
  return multiply(t, sigmoid(t));
}

/** x · hardSigmoid(x) (also called hard swish). */
export function hardSilu(x: TensorLike): Tensor {
  const t = floating(x, 'hardSilu');
  return multiply(t, hardSigmoid(t));
}

/** log(1 + exp(x)) = log1p(exp(-|x|)) + max(x, 0), which never overflows. */
export function softplus(x: TensorLike): Tensor {
  const t = floating(x, 'softplus');
  const pos = greaterEqual(t, 0);
  // both halves switch on the same x >= 0 test, so at 0 their gradients (-1/2 and 1) add up right
  return add(log1p(exp(where(pos, neg(t), t))), where(pos, t, 0));
}

export function softsign(x: TensorLike): Tensor {
  const t = floating(x, 'softsign');
  return divide(t, add(abs(t), 1));
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Gaussian error linear unit; `approximate` (Keras 3's default) is the tanh form, else erf. */
export function gelu(x: TensorLike, approximate = true): Tensor {
  if (typeof approximate !== 'boolean') fail('gelu', `approximate must be a boolean, got ${JSON.stringify(approximate)}`);
  const t = floating(x, 'gelu');
  const inner = approximate
    ? tanh(multiply(add(t, multiply(multiply(multiply(t, t), t), 0.044715)), SQRT_2_OVER_PI))
    : erf(multiply(t, Math.SQRT1_2));
  return multiply(multiply(t, 0.5), add(inner, 1));
}

/**
 * exp(x) / sum(exp(x)) over `axis` (default last), max-shifted so that large inputs are exact.
 * @example
 * kiln.ops.softmax(kiln.tensor([1000, 1000]));   // [0.5, 0.5]
 */
export function softmax(x: TensorLike, axis: Axis = -1): Tensor {
  const t = floating(x, 'softmax');
  return fusedSoftmax(t, normalizeAxes('softmax', axis, t.rank), false);
}

/** log(softmax(x)), computed as (x - max) - log(sum(exp(x - max))). */
export function logSoftmax(x: TensorLike, axis: Axis = -1): Tensor {
  const t = floating(x, 'logSoftmax');
  return fusedSoftmax(t, normalizeAxes('logSoftmax', axis, t.rank), true);
}
