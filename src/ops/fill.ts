import type { DType } from '../../backends/contract.js';
import { ENGINE, type Primitive } from '../engine.js';
import type { Tensor } from '../tensor.js';

/**
 * A tensor of one value, made by the backend's fill kernel: constants (zeros, ones, a scalar
 * operand such as the 2 of `multiply(x, 2)`, the tape's gradient seed, optimizer slots) cost no
 * host array and no upload, which matters on a backend whose memory the CPU cannot see.
 */
export const FILL: Primitive<{ shape: readonly number[]; dtype: DType; value: number }> = {
  name: 'fill',
  infer: (_, { shape, dtype }) => ({ shape, dtype }),
  run: (backend, _, out, { value }) => backend.fill(value, out),
};

/** `value` (converted as cast converts) in every element of a new tensor; shape and dtype already checked. */
export function filled(shape: readonly number[], value: number, dtype: DType): Tensor {
  return ENGINE.run(FILL, [], { shape, dtype, value });
}
