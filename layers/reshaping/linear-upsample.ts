import * as ops from '../../src/ops/index.js';
import { tensor } from '../../src/creation.js';
import type { Tensor } from '../../src/tensor.js';

/**
 * `x` stretched `factor` times along `axis` by linear interpolation with half-pixel centers, as
 * keras.ops.image.resize's 'bilinear' does on every backend (TF and JAX resize, PyTorch's
 * align_corners=False): output j reads the input at (j + 0.5) / factor - 0.5, clamped to the
 * first and last elements, between its two neighbours. Applied per axis it is bilinear, which
 * is separable. Two gathers and a lerp of kiln ops, so gradients and backends come with them.
 */
export function upsampleLinear(x: Tensor, axis: number, factor: number): Tensor {
  const n = x.shape[axis];
  const lower: number[] = [];
  const upper: number[] = [];
  const weight: number[] = [];
  for (let j = 0; j < n * factor; j++) {
    const at = Math.min(Math.max((j + 0.5) / factor - 0.5, 0), n - 1);
    const i = Math.floor(at);
    lower.push(i);
    upper.push(Math.min(i + 1, n - 1));
    weight.push(at - i);
  }
  const w = tensor(weight, x.shape.map((_, k) => (k === axis ? n * factor : 1)), x.dtype);
  const a = ops.take(x, lower, axis);
  return ops.add(a, ops.multiply(ops.subtract(ops.take(x, upper, axis), a), w));
}
