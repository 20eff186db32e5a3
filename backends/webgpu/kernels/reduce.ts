import type { ArgReduceOp, DType, ReduceOp, TensorInfo } from '../../contract.js';
import { sizeOf } from '../../contract.js';
import { fillWords } from './creation.js';
import { mathLibrary } from './math.js';
import { strided } from './movement.js';
import { MAIN, WG, around, f32Word, storage, wgslType, type GpuContext } from './wgsl.js';

/** How two partial results combine, per op and WGSL type. max and min let NaN win, as NumPy's do. */
function combine(op: ReduceOp, t: string): string {
  switch (op) {
    case 'sum': return 'a + b';
    case 'prod': return 'a * b';
    case 'max': return t === 'f32' ? 'select(select(a, b, b > a), b, m_isnan(b) && !m_isnan(a))' : 'max(a, b)';
    case 'min': return t === 'f32' ? 'select(select(a, b, b < a), b, m_isnan(b) && !m_isnan(a))' : 'min(a, b)';
  }
}

/** The start of a reduction, as WGSL. */
function identity(op: ReduceOp, t: string): string {
  if (op === 'sum') return `${t}(0)`;
  if (op === 'prod') return `${t}(1)`;
  if (t === 'f32') return op === 'max' ? '-m_inf()' : 'm_inf()';
  if (t === 'i32') return op === 'max' ? 'i32(-2147483647 - 1)' : 'i32(2147483647)';
  return op === 'max' ? '0u' : '0xffffffffu';
}

/**
 * What an empty reduction stores: reference's start value as its typed array keeps it, so an
 * int32 or bool max or min of nothing is 0 (-Infinity stored as an integer).
 */
function emptyWord(op: ReduceOp, dtype: DType): number {
  if (op === 'sum') return 0;
  if (op === 'prod') return dtype === 'float32' ? f32Word(1) : 1;
  return dtype === 'float32' ? f32Word(op === 'max' ? -Infinity : Infinity) : 0;
}

function functions(op: ReduceOp, t: string): string {
  return `${mathLibrary([])}
fn combine(a: ${t}, b: ${t}) -> ${t} { return ${combine(op, t)}; }`;
}

/** Elements of a row each workgroup folds in one pass; longer rows take more passes. */
const CHUNK = WG * 16;
/** Rows up to this long are folded one thread per row. */
const SHORT_ROW = 64;

/**
 * Folds each row of the [rows, n] buffer `x` into `y`, in passes: a pass folds chunks of CHUNK
 * elements, one workgroup each (a strided loop, then a tree in workgroup memory), into a
 * [rows, chunks] scratch that the next pass folds, until one chunk is left per row.
 */
function reduceRows(ctx: GpuContext, op: ReduceOp, t: string, x: GPUBuffer, rows: number, n: number, y: GPUBuffer): void {
  if (n <= SHORT_ROW) {
    ctx.dispatch({
      key: `reduce:row:${op}:${t}`,
      code: (decl) => `${decl}
${storage(1, 'x', t, 'read')}
${storage(2, 'y', t, 'write')}
${functions(op, t)}
${MAIN}
  if (i >= p(0u)) { return; }
  let n = p(1u);
  var a = ${identity(op, t)};
  for (var k = 0u; k < n; k++) { a = combine(a, x[i * n + k]); }
  y[i] = a;
}`,
      bindings: [[x, 'read'], [y, 'write']],
      params: [rows, n],
      groups: groupsFor(Math.ceil(rows / WG)),
    });
    return;
  }
  const chunks = Math.ceil(n / CHUNK);
  const target = chunks === 1 ? y : ctx.scratch(rows * chunks * 4);
  ctx.dispatch({
    key: `reduce:tree:${op}:${t}`,
    code: (decl) => `${decl}
${storage(1, 'x', t, 'read')}
${storage(2, 'y', t, 'write')}
${functions(op, t)}
var<workgroup> partial: array<${t}, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  let n = p(1u);
  let chunks = p(2u);
  if (g >= p(0u) * chunks) { return; }
  let row = g / chunks;
  let start = (g % chunks) * ${CHUNK}u;
  let end = min(start + ${CHUNK}u, n);
  var a = ${identity(op, t)};
  for (var k = start + lid; k < end; k += ${WG}u) { a = combine(a, x[row * n + k]); }
  partial[lid] = a;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] = combine(partial[lid], partial[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) { y[g] = partial[0]; }
}`,
    bindings: [[x, 'read'], [target, 'write']],
    params: [rows, n, chunks],
    groups: groupsFor(rows * chunks),
  });
  if (chunks > 1) {
    reduceRows(ctx, op, t, target, rows, chunks, y);
    ctx.release(target);
  }
}

/** A grid of `count` workgroups, spilling into y past 65535. */
function groupsFor(count: number): [number, number, number] {
  const x = Math.max(1, Math.min(count, 65535));
  return [x, Math.ceil(count / x), 1];
}

/**
 * Reduces x over `axes`. Size-1 axes are dropped and neighbouring axes of one kind merged; then
 * - reduced axes last ([kept, reduced]): the rows fold in place;
 * - [outer, reduced, inner] with many columns (a bias gradient: the batch summed away): one thread
 *   per column walks its reduced run, reading neighbouring columns together;
 * - anything else: x is transposed into [kept, reduced] in a scratch buffer first.
 */
export function reduce(ctx: GpuContext, op: ReduceOp, x: TensorInfo, axes: readonly number[], out: TensorInfo): void {
  const t = wgslType(x.dtype);
  const rows = sizeOf(out.shape);
  const n = sizeOf(x.shape) / Math.max(rows, 1);
  if (sizeOf(x.shape) === 0) {
    fillWords(ctx, ctx.buffer(out), rows, emptyWord(op, x.dtype));
    return;
  }
  // x's dims, size-1 ones dropped, as runs of kept or reduced neighbours
  const runs: { reduced: boolean; size: number }[] = [];
  x.shape.forEach((size, d) => {
    if (size === 1) return;
    const reduced = axes.includes(d);
    const last = runs.at(-1);
    if (last?.reduced === reduced) last.size *= size;
    else runs.push({ reduced, size });
  });
  const pattern = runs.map((r) => (r.reduced ? 'R' : 'K')).join('');
  if (n === 1 || pattern === 'R' || pattern === 'KR') {
    reduceRows(ctx, op, t, ctx.buffer(x), rows, n, ctx.buffer(out));
    return;
  }
  if ((pattern === 'RK' || pattern === 'KRK') && rows >= WG) {
    const inner = runs.at(-1)!.size;
    ctx.dispatch({
      key: `reduce:column:${op}:${t}`,
      code: (decl) => `${decl}
${storage(1, 'x', t, 'read')}
${storage(2, 'y', t, 'write')}
${functions(op, t)}
${MAIN}
  if (i >= p(0u)) { return; }
  let n = p(1u);
  let inner = p(2u);
  let base = (i / inner) * n * inner + i % inner;
  var a = ${identity(op, t)};
  for (var k = 0u; k < n; k++) { a = combine(a, x[base + k * inner]); }
  y[i] = a;
}`,
      bindings: [[ctx.buffer(x), 'read'], [ctx.buffer(out), 'write']],
      params: [rows, n, inner],
      groups: groupsFor(Math.ceil(rows / WG)),
    });
    return;
  }
  // [kept, reduced]: kept axes in order, then reduced ones
  const perm = [...x.shape.keys()].filter((d) => !axes.includes(d)).concat(axes);
  const xStrides = x.shape.map((_, d) => sizeOf(x.shape.slice(d + 1)));
  const moved = ctx.scratch(sizeOf(x.shape) * 4);
  strided(ctx, ctx.buffer(x), 0, perm.map((d) => xStrides[d]), moved, perm.map((d) => x.shape[d]));
  reduceRows(ctx, op, t, moved, rows, n, ctx.buffer(out));
  ctx.release(moved);
}

/**
 * Index of the first extreme along `axis`, one thread per output walking its run; NaN counts as
 * the extreme and the first one wins, as NumPy's argmax says.
 */
export function argReduce(ctx: GpuContext, op: ArgReduceOp, x: TensorInfo, axis: number, out: TensorInfo): void {
  const t = wgslType(x.dtype);
  const [outer, n, inner] = around(x.shape, axis);
  const better = op === 'argmax' ? 'v > best' : 'v < best';
  const nan = t === 'f32' ? 'm_isnan(v)' : 'false';
  ctx.dispatch({
    key: `argReduce:${op}:${t}`,
    code: (decl) => `${decl}
${storage(1, 'x', t, 'read')}
${storage(2, 'y', 'i32', 'write')}
${mathLibrary([])}
${MAIN}
  if (i >= p(0u)) { return; }
  let n = p(1u);
  let inner = p(2u);
  let base = (i / inner) * n * inner + i % inner;
  var best = x[base];
  var at = 0u;
  for (var k = 0u; k < n; k++) {
    let v = x[base + k * inner];
    if (${nan}) { at = k; break; }
    if (${better}) { best = v; at = k; }
  }
  y[i] = i32(at);
}`,
    bindings: [[ctx.buffer(x), 'read'], [ctx.buffer(out), 'write']],
    params: [outer * inner, n, inner],
    groups: groupsFor(Math.ceil((outer * inner) / WG)),
  });
}

/** Running sums along `axis`, one thread per line, in the input's dtype. */
export function cumsum(ctx: GpuContext, x: TensorInfo, axis: number, exclusive: boolean, reverse: boolean, out: TensorInfo): void {
  const t = wgslType(x.dtype);
  const [outer, n, inner] = around(x.shape, axis);
  ctx.dispatch({
    key: `cumsum:${t}:${exclusive}:${reverse}`,
    code: (decl) => `${decl}
${storage(1, 'x', t, 'read')}
${storage(2, 'y', t, 'write')}
${MAIN}
  if (i >= p(0u)) { return; }
  let n = p(1u);
  let inner = p(2u);
  let base = (i / inner) * n * inner + i % inner;
  var acc = ${t}(0);
  for (var k = 0u; k < n; k++) {
    let at = base + ${reverse ? '(n - 1u - k)' : 'k'} * inner;
    let v = x[at];
    ${exclusive ? 'y[at] = acc;\n    acc += v;' : 'acc += v;\n    y[at] = acc;'}
  }
}`,
    bindings: [[ctx.buffer(x), 'read'], [ctx.buffer(out), 'write']],
    params: [outer * inner, n, inner],
    groups: groupsFor(Math.ceil((outer * inner) / WG)),
  });
}
