import type { DType, TypedArray } from '../backends/contract.js';

/** Elements shown per axis before eliding the middle with "...", as NumPy does for large arrays. */
const EDGE = 3;

function formatValue(v: number, dtype: DType): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (dtype === 'int32') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return Number.isInteger(v) && Math.abs(v) < 1e16 ? `${v}.` : String(Number(v.toPrecision(dtype === 'float32' ? 7 : 15)));
}

/** NumPy-like nested rendering, eliding long axes. */
export function formatTensor(data: TypedArray, shape: readonly number[], dtype: DType): string {
  if (shape.length === 0) return formatValue(data[0], dtype);
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const render = (dim: number, offset: number, indent: string): string => {
    const n = shape[dim];
    const idx = n > 2 * EDGE + 1 ? [...range(0, EDGE), -1, ...range(n - EDGE, n)] : range(0, n);
    if (dim === shape.length - 1) {
      return `[${idx.map((i) => (i < 0 ? '...' : formatValue(data[offset + i], dtype))).join(', ')}]`;
    }
    const sep = ',' + '\n'.repeat(shape.length - dim - 1) + indent + ' ';
    return `[${idx.map((i) => (i < 0 ? '...' : render(dim + 1, offset + i * strides[dim], indent + ' '))).join(sep)}]`;
  };
  return render(0, 0, '');
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}
