import type { DType, TypedArray } from '../backends/contract.js';
import { typedArrayFor, sizeOf } from '../backends/contract.js';
import { ENGINE } from './engine.js';
import { fail, fmtShape } from './errors.js';
import { checkDType, dtypeOfArray } from './dtype.js';
import { checkShape } from './shape.js';
import { checkAllocation } from './limits.js';
import { filled } from './ops/fill.js';
import { SymbolicTensor } from './symbolic.js';
import { Tensor } from './tensor.js';
import { Variable, describe } from './variable.js';

/** Anything an op accepts where it wants a tensor. */
export type TensorLike = Tensor | Variable | number | boolean | TypedArray | NestedInput;
export type NestedInput = readonly (number | boolean | NestedInput)[];

/**
 * `x` as a tensor: tensors pass through, a Variable gives its value, a number or boolean is made
 * on the device by the fill kernel and arrays are uploaded (as `dtype`, else float32, or bool for
 * booleans). Symbolic tensors pass through.
 */
export function asTensor(x: TensorLike, op: string, dtype?: DType): Tensor {
  // checked here, at the public op, so the error names what the user called
  if (x instanceof Tensor) {
    x.dataHandle(op);
    return x;
  }
  if (x instanceof Variable) return x.value.dataHandle(op) && x.value;
  if (x instanceof SymbolicTensor) return x as unknown as Tensor;
  return tensorFrom(x, undefined, dtype, op);
}

/** Builds a tensor from numbers, booleans, nested arrays or typed arrays (see kiln.tensor). */
export function tensorFrom(values: unknown, shape?: readonly number[], dtype?: DType, op = 'tensor'): Tensor {
  if (dtype !== undefined) checkDType(op, dtype);
  let flat: ArrayLike<number | boolean>;
  let inferred: number[];
  if (typeof values === 'number' || typeof values === 'boolean') {
    flat = [values];
    inferred = [];
  } else if (ArrayBuffer.isView(values) && !(values instanceof DataView)) {
    flat = values as unknown as ArrayLike<number>;
    inferred = [flat.length];
  } else if (Array.isArray(values)) {
    inferred = nestedShape(values, op);
    flat = (values as unknown[]).flat(Infinity) as (number | boolean)[];
  } else {
    return fail(op, `expected a number, boolean, (nested) array or typed array, got ${describe(values)}`);
  }
  const outShape = shape === undefined ? inferred : checkShape(op, shape) as number[];
  if (sizeOf(outShape) !== flat.length) {
    fail(op, `shape ${fmtShape(outShape)} needs ${sizeOf(outShape)} values, got ${flat.length}`);
  }
  const outDtype = dtype ?? dtypeOfArray(flat) ?? (flat.length > 0 && typeof flat[0] === 'boolean' ? 'bool' : 'float32');
  // a single number (the 2 of multiply(x, 2), every step) is made by the fill kernel: no upload
  if (typeof values === 'number' || typeof values === 'boolean') {
    checkAllocation(op, outShape, outDtype);
    return filled(outShape, outDtype === 'bool' ? (values ? 1 : 0) : Number(values), outDtype);
  }
  if (ArrayBuffer.isView(values) && !(values instanceof BigInt64Array || values instanceof BigUint64Array)) {
    return ENGINE.upload(typedValues(values as unknown as TypedArray, outDtype), outShape, outDtype, op);
  }
  const data = typedArrayFor(outDtype, flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v !== 'number' && typeof v !== 'boolean') fail(op, `element ${i} is ${describe(v)}; expected numbers or booleans`);
    data[i] = outDtype === 'bool' ? (v ? 1 : 0) : Number(v);
  }
  return ENGINE.upload(data, outShape, outDtype, op);
}

/**
 * A typed array's values as `dtype` stores them: the array itself when its type is the dtype's (the
 * backend's write makes the one copy, so the tensor never aliases the caller's memory), else one
 * converting copy by TypedArray.set (float to int truncates, as cast does). bool is 0 or 1.
 */
function typedValues(a: TypedArray, dtype: DType): TypedArray {
  if (dtype === 'bool') return Uint8Array.from(a as ArrayLike<number>, (v) => (v ? 1 : 0));
  if (dtypeOfArray(a) === dtype) return a;
  const out = typedArrayFor(dtype, a.length);
  out.set(a);
  return out;
}

function nestedShape(values: readonly unknown[], op: string): number[] {
  const shape: number[] = [];
  let level: unknown = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  const check = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) fail(op, `ragged nested array: ${path} is an array, expected a value at depth ${depth}`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      fail(op, `ragged nested array: ${path} has ${Array.isArray(v) ? `length ${v.length}` : 'no array'}, expected length ${shape[depth]}`);
    }
    v.forEach((e, i) => check(e, depth + 1, `${path}[${i}]`));
  };
  check(values, 0, 'values');
  return shape;
}
