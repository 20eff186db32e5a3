import type { TensorInfo } from '../../contract.js';
import { sizeOf, stridesOf } from '../../contract.js';
import { broadcastStrides } from './elementwise.js';
import { MAIN, grid, storage, valueWord, type GpuContext } from './wgsl.js';

// Movement copies words and never looks at them, so every dtype is bound as array<u32>: one
// pipeline per rank serves float32, int32 and bool alike.

/**
 * out[i] = x[base + position(i) · strides], row-major over out's shape: transpose, slice and
 * broadcastTo are this walk with different strides (negative for a reversed slice).
 */
export function strided(
  ctx: GpuContext, x: GPUBuffer, base: number, strides: readonly number[], out: GPUBuffer, outShape: readonly number[],
): void {
  const n = sizeOf(outShape);
  const rank = outShape.length;
  ctx.dispatch({
    key: `strided:${rank}`,
    code: (decl) => `${decl}
${storage(1, 'x', 'u32', 'read')}
${storage(2, 'y', 'u32', 'write')}
${MAIN}
  if (i >= p(0u)) { return; }
  var rem = i;
  var at = pi(1u);
  for (var d = ${rank}u; d > 0u; d--) {
    let size = p(1u + d);
    at += i32(rem % size) * pi(${1 + rank}u + d);
    rem = rem / size;
  }
  y[i] = x[at];
}`,
    bindings: [[x, 'read'], [out, 'write']],
    params: [n, base >>> 0, ...outShape, ...strides.map((s) => s >>> 0)],
    groups: grid(n),
  });
}

export function transpose(ctx: GpuContext, x: TensorInfo, perm: readonly number[], out: TensorInfo): void {
  const xStrides = stridesOf(x.shape);
  strided(ctx, ctx.buffer(x), 0, perm.map((d) => xStrides[d]), ctx.buffer(out), out.shape);
}

export function slice(ctx: GpuContext, x: TensorInfo, begin: readonly number[], step: readonly number[], out: TensorInfo): void {
  const xStrides = stridesOf(x.shape);
  const base = begin.reduce((s, b, d) => s + b * xStrides[d], 0);
  strided(ctx, ctx.buffer(x), base, xStrides.map((s, d) => s * step[d]), ctx.buffer(out), out.shape);
}

export function broadcastTo(ctx: GpuContext, x: TensorInfo, out: TensorInfo): void {
  strided(ctx, ctx.buffer(x), 0, broadcastStrides(x.shape, out.shape), ctx.buffer(out), out.shape);
}

/** Each out position reads x `pads[d][0]` positions back along every axis, or `value` outside x. */
export function pad(
  ctx: GpuContext, x: TensorInfo, pads: readonly (readonly [number, number])[], value: number, out: TensorInfo,
): void {
  const n = sizeOf(out.shape);
  const rank = out.shape.length;
  // [n, value, out shape, pads before, x shape]
  const params = [n, valueWord(value, out.dtype), ...out.shape, ...pads.map(([before]) => before), ...x.shape];
  ctx.dispatch({
    key: `pad:${rank}`,
    code: (decl) => `${decl}
${storage(1, 'x', 'u32', 'read')}
${storage(2, 'y', 'u32', 'write')}
${MAIN}
  if (i >= p(0u)) { return; }
  var rem = i;
  var at = 0u;
  var stride = 1u;
  var inside = true;
  for (var d = ${rank}u; d > 0u; d--) {
    let size = p(1u + d);
    let c = i32(rem % size) - pi(${1 + rank}u + d);
    rem = rem / size;
    let xs = p(${1 + 2 * rank}u + d);
    inside = inside && c >= 0 && c < i32(xs);
    at += u32(c) * stride;
    stride *= xs;
  }
  y[i] = select(p(1u), x[at], inside);
}`,
    bindings: [[ctx.buffer(x), 'read'], [ctx.buffer(out), 'write']],
    params,
    groups: grid(n),
  });
}

/** Each input's rows go side by side into out's: around `axis` x is [outer, chunk], out [outer, row]. */
export function concat(ctx: GpuContext, xs: readonly TensorInfo[], axis: number, out: TensorInfo): void {
  const inner = sizeOf(out.shape.slice(axis + 1));
  const row = out.shape[axis] * inner;
  let offset = 0;
  for (const x of xs) {
    const chunk = x.shape[axis] * inner;
    const n = sizeOf(x.shape);
    if (n > 0) {
      ctx.dispatch({
        key: 'place',
        code: (decl) => `${decl}
${storage(1, 'x', 'u32', 'read')}
${storage(2, 'y', 'u32', 'write')}
${MAIN}
  if (i >= p(0u)) { return; }
  let chunk = p(1u);
  y[(i / chunk) * p(2u) + p(3u) + i % chunk] = x[i];
}`,
        bindings: [[ctx.buffer(x), 'read'], [ctx.buffer(out), 'write']],
        params: [n, chunk, row, offset],
        groups: grid(n),
      });
    }
    offset += chunk;
  }
}
