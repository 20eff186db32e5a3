import type { TensorInfo } from '../../contract.js';
import { sizeOf } from '../../contract.js';
import { fillWords } from './creation.js';
import { MAIN, around, grid, storage, wgslType, type GpuContext } from './wgsl.js';

/**
 * out[o, t, i] = x[o, indices[t], i]: one thread per output element. Words are copied, so every
 * dtype is bound as u32. Core checks the indices where it can; one out of range here reads 0
 * rather than another row.
 */
export function gather(ctx: GpuContext, x: TensorInfo, indices: TensorInfo, axis: number, out: TensorInfo): void {
  const n = sizeOf(out.shape);
  const [, rows, inner] = around(x.shape, axis);
  const count = sizeOf(indices.shape);
  ctx.dispatch({
    key: 'gather',
    code: (decl) => `${decl}
${storage(1, 'x', 'u32', 'read')}
${storage(2, 'ix', 'i32', 'read')}
${storage(3, 'y', 'u32', 'write')}
${MAIN}
  if (i >= p(0u)) { return; }
  let inner = p(1u);
  let count = p(2u);
  let rows = p(3u);
  let r = i / inner;
  let t = ix[r % count];
  if (t < 0 || u32(t) >= rows) { y[i] = 0u; return; }
  y[i] = x[((r / count) * rows + u32(t)) * inner + i % inner];
}`,
    bindings: [[ctx.buffer(x), 'read'], [ctx.buffer(indices), 'read'], [ctx.buffer(out), 'write']],
    params: [n, inner, count, rows],
    groups: grid(n),
  });
}

/** Up to this many indices, each output element sums its own updates; past it, one thread per column. */
const PER_ELEMENT_MAX_COUNT = 32;

/**
 * gather's adjoint, deterministically: WGSL has no float atomics, and atomics would add in
 * whatever order threads arrive. Either way each output element gets its updates added in index
 * order t = 0, 1, … onto 0, in its dtype, as reference's loop does, so the results are
 * reference's to the bit.
 * - Few indices: one thread per output element scans all of them for its row (work n · count,
 *   all of it parallel).
 * - Many: out is zeroed, then one thread per column (o, i) walks the indices in order and adds
 *   each update into its row; no two threads share an element (work = the updates, parallel over
 *   outer · inner columns).
 */
export function scatterAdd(ctx: GpuContext, updates: TensorInfo, indices: TensorInfo, axis: number, out: TensorInfo): void {
  const n = sizeOf(out.shape);
  const [outer, rows, inner] = around(out.shape, axis);
  const count = sizeOf(indices.shape);
  const t = wgslType(out.dtype);
  const bindings = [[ctx.buffer(updates), 'read'], [ctx.buffer(indices), 'read'], [ctx.buffer(out), 'write']] as const;
  const decls = `${storage(1, 'up', t, 'read')}
${storage(2, 'ix', 'i32', 'read')}
${storage(3, 'y', t, 'write')}`;
  if (count <= PER_ELEMENT_MAX_COUNT) {
    ctx.dispatch({
      key: `scatterAdd:element:${t}`,
      code: (decl) => `${decl}
${decls}
${MAIN}
  if (i >= p(0u)) { return; }
  let inner = p(1u);
  let count = p(2u);
  let rows = p(3u);
  let row = i32((i / inner) % rows);
  let first = (i / (inner * rows)) * count * inner + i % inner;
  var acc = ${t}(0);
  for (var k = 0u; k < count; k++) {
    if (ix[k] == row) { acc += up[first + k * inner]; }
  }
  y[i] = acc;
}`,
      bindings,
      params: [n, inner, count, rows],
      groups: grid(n),
    });
    return;
  }
  fillWords(ctx, ctx.buffer(out), n, 0);
  const columns = outer * inner;
  ctx.dispatch({
    key: `scatterAdd:column:${t}`,
    code: (decl) => `${decl}
${decls}
${MAIN}
  if (i >= p(0u)) { return; }
  let inner = p(1u);
  let count = p(2u);
  let rows = p(3u);
  let o = i / inner;
  let c = i % inner;
  for (var k = 0u; k < count; k++) {
    let r = ix[k];
    if (r >= 0 && u32(r) < rows) {
      let to = (o * rows + u32(r)) * inner + c;
      y[to] = y[to] + up[(o * count + k) * inner + c];
    }
  }
}`,
    bindings,
    params: [columns, inner, count, rows],
    groups: grid(columns),
  });
}
