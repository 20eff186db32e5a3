/**
 * The one template of every elementwise kernel (unary, binary, where, cast): out[i] = f(inputs
 * at i), each input read where it broadcasts to out's position i. The families supply f as a
 * WGSL expression over `a`, `b`, `c`; this file supplies the indexing.
 */
import type { TensorInfo } from '../../contract.js';
import { sizeOf } from '../../contract.js';
import { MAIN, grid, storage, wgslType, type GpuContext } from './wgsl.js';
import { mathLibrary, mathUsedBy } from './math.js';

/**
 * How an input is read: `same` when it has out's size (then its layout is out's: broadcasting
 * only adds size-1 dims), `scalar` when it has one element, `strided` otherwise (its broadcast
 * strides over out's shape, zero along repeated dims).
 */
type Mode = 'same' | 'scalar' | 'strided';

const NAMES = ['a', 'b', 'c'];

function modeOf(x: TensorInfo, outSize: number): Mode {
  const n = sizeOf(x.shape);
  return n === outSize ? 'same' : n === 1 ? 'scalar' : 'strided';
}

/** Strides of `shape` over the positions of `outShape` (right-aligned, 0 where it repeats). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1) strides[outShape.length - shape.length + d] = stride;
    stride *= shape[d];
  }
  return strides;
}

/**
 * Runs `out[i] = expr` with inputs bound as a, b, c; `prelude` holds WGSL functions the expression
 * calls. `name` must identify `expr` and `prelude` (it keys the pipeline cache together with the
 * dtypes and read modes).
 */
export function elementwise(
  ctx: GpuContext, name: string, expr: string, xs: readonly TensorInfo[], out: TensorInfo, prelude = '',
): void {
  const n = sizeOf(out.shape);
  const rank = out.shape.length;
  const modes = xs.map((x) => modeOf(x, n));
  const strided = xs.map((_, k) => k).filter((k) => modes[k] === 'strided');
  // [n, rank, out shape, then the strides of each strided input]
  const params = [n, rank, ...out.shape];
  for (const k of strided) params.push(...broadcastStrides(xs[k].shape, out.shape));
  const key = `ew:${name}:${xs.map((x, k) => `${x.dtype}/${modes[k]}`).join(',')}:${out.dtype}:${rank}`;
  ctx.dispatch({
    key,
    code: (decl) => {
      const bindings = xs.map((x, k) => storage(k + 1, `x${k}`, wgslType(x.dtype), 'read'));
      bindings.push(storage(xs.length + 1, 'y', wgslType(out.dtype), 'write'));
      const args = xs.map((x, k) => `${NAMES[k]}: ${wgslType(x.dtype)}`).join(', ');
      const walk = strided.length === 0 ? '' : `
  var rem = i;
  ${strided.map((k) => `var o${k} = 0u;`).join(' ')}
  for (var d = ${rank}; d > 0; d--) {
    let size = p(1u + u32(d));
    let coord = rem % size;
    rem = rem / size;
    ${strided.map((k, s) => `o${k} += coord * p(${2 + rank * (s + 1)}u + u32(d) - 1u);`).join('\n    ')}
  }`;
      const reads = xs.map((_, k) => (modes[k] === 'same' ? `x${k}[i]` : modes[k] === 'scalar' ? `x${k}[0]` : `x${k}[o${k}]`));
      return `${decl}
${bindings.join('\n')}
${mathLibrary(mathUsedBy(expr + prelude))}
${prelude}
fn f(${args}) -> ${wgslType(out.dtype)} { return ${expr}; }
${MAIN}
  if (i >= p(0u)) { return; }${walk}
  y[i] = f(${reads.join(', ')});
}`;
    },
    bindings: [...xs.map((x) => [ctx.buffer(x), 'read'] as const), [ctx.buffer(out), 'write'] as const],
    params,
    groups: grid(n),
  });
}
