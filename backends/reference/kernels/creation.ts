import type { DType, TypedArray } from '../../contract.js';

/**
 * Every element of out set to `value` as cast converts it: a typed-array store for numbers
 * (float32 rounds, int32 truncates toward zero and wraps, NaN gives 0), and `value != 0` for
 * bool, whose Uint8Array store would otherwise keep 2 as 2.
 */
export function fill(value: number, out: TypedArray, dtype: DType): void {
  out.fill(dtype === 'bool' ? (value !== 0 ? 1 : 0) : value);
}
