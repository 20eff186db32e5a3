import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/tensor.js';

/** `g` scaled so its L2 norm is at most `clipnorm` (Keras: `g * clipnorm / max(‖g‖, clipnorm)`). */
export function clipByNorm(g: Tensor, clipnorm: number): Tensor {
  const norm = ops.sqrt(ops.sum(ops.square(g)));
  return ops.divide(ops.multiply(g, clipnorm), ops.maximum(norm, clipnorm));
}

/** Each element of `g` clamped to [-clipvalue, clipvalue]. */
export function clipByValue(g: Tensor, clipvalue: number): Tensor {
  return ops.clip(g, -clipvalue, clipvalue);
}

/**
 * All gradients scaled by one factor so that their joint L2 norm is at most `clipnorm`. As in
 * Keras, `norm - norm` is added to the factor so that an infinite or NaN norm poisons every
 * gradient (a visible failure) instead of silently zeroing them.
 */
export function clipByGlobalNorm(grads: readonly Tensor[], clipnorm: number): Tensor[] {
  const squared = grads.map((g) => ops.sum(ops.square(g)));
  const norm = ops.sqrt(squared.reduce((a, b) => ops.add(a, b)));
  const scale = ops.add(ops.multiply(ops.minimum(ops.divide(1, norm), 1 / clipnorm), clipnorm), ops.subtract(norm, norm));
  // gradients of float32 and float64 variables meet at float64 in the norm; each keeps its own dtype
  return grads.map((g) => ops.multiply(g, ops.cast(scale, g.dtype)));
}
