import type { TensorInfo } from '../../contract.js';
import { sizeOf } from '../../contract.js';
import { MAIN, grid, storage, valueWord, type GpuContext } from './wgsl.js';

/** Sets the first `n` words of `buffer` to `word` (any dtype: the word is already its bits). */
export function fillWords(ctx: GpuContext, buffer: GPUBuffer, n: number, word: number): void {
  ctx.dispatch({
    key: 'fill',
    code: (decl) => `${decl}
${storage(1, 'y', 'u32', 'write')}
${MAIN}
  if (i >= p(0u)) { return; }
  y[i] = p(1u);
}`,
    bindings: [[buffer, 'write']],
    params: [n, word >>> 0],
    groups: grid(n),
  });
}

/** Every element of out = value, converted to out.dtype as cast converts (bool: value != 0). */
export function fill(ctx: GpuContext, value: number, out: TensorInfo): void {
  fillWords(ctx, ctx.buffer(out), sizeOf(out.shape), valueWord(value, out.dtype));
}
