import type { TensorInfo } from '../../contract.js';
import { sizeOf } from '../../contract.js';
import { FLOAT_FUNCTIONS } from './binary.js';
import { mathLibrary, mathUsedBy } from './math.js';
import { MAIN, WG, storage, type GpuContext } from './wgsl.js';

/** Rows up to this long are done one thread per row; longer ones one workgroup per row. */
const SHORT_ROW = 64;

/**
 * A row kernel in two passes over the row: a fold (`fold`, from `start`, combining with
 * `combine`), then a write of each element from the folded value `r`. Short rows take one
 * thread each; long rows a workgroup, folding strided slices and then a tree in workgroup memory.
 */
interface RowKernel {
  key: string;
  inputs: string[];
  /** The first fold, over element j of the row, into `r1`; and an optional second one into `r2`, which may read r1. */
  folds: { start: string; combine: string; term: string }[];
  /** The value written at element j, from r1 (and r2). */
  write: string;
}

function rowCode(decl: string, k: RowKernel, long: boolean): string {
  const bindings = [...k.inputs.map((name, b) => storage(b + 1, name, 'f32', 'read')), storage(k.inputs.length + 1, 'y', 'f32', 'write')];
  const functions = `fn combine0(a: f32, b: f32) -> f32 { return ${k.folds[0].combine}; }
${k.folds[1] ? `fn combine1(a: f32, b: f32) -> f32 { return ${k.folds[1].combine}; }` : ''}`;
  const head = `${decl}
${bindings.join('\n')}
${mathLibrary(mathUsedBy(FLOAT_FUNCTIONS + k.write + k.folds.map((f) => f.term + f.combine).join('')))}
${FLOAT_FUNCTIONS}
${functions}`;
  if (!long) {
    return `${head}
${MAIN}
  if (i >= p(0u)) { return; }
  let n = p(1u);
  let base = i * n;
  var r1 = ${k.folds[0].start};
  for (var j = base; j < base + n; j++) { r1 = combine0(r1, ${k.folds[0].term}); }
  ${k.folds[1] ? `var r2 = ${k.folds[1].start};
  for (var j = base; j < base + n; j++) { r2 = combine1(r2, ${k.folds[1].term}); }` : ''}
  for (var j = base; j < base + n; j++) { y[j] = ${k.write}; }
}`;
  }
  const fold = (f: RowKernel['folds'][number], c: number, into: string) => `
  var a${c} = ${f.start};
  for (var j = base + lid; j < base + n; j += ${WG}u) { a${c} = combine${c}(a${c}, ${f.term}); }
  partial[lid] = a${c};
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] = combine${c}(partial[lid], partial[lid + s]); }
    workgroupBarrier();
  }
  let ${into} = partial[0];
  workgroupBarrier();`;
  return `${head}
var<workgroup> partial: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p(0u)) { return; }
  let n = p(1u);
  let base = row * n;${fold(k.folds[0], 0, 'r1')}${k.folds[1] ? fold(k.folds[1], 1, 'r2') : ''}
  for (var j = base + lid; j < base + n; j += ${WG}u) { y[j] = ${k.write}; }
}`;
}

function runRows(ctx: GpuContext, k: RowKernel, inputs: readonly TensorInfo[], out: TensorInfo): void {
  const n = out.shape[out.shape.length - 1];
  const rows = sizeOf(out.shape) / n;
  const long = n > SHORT_ROW;
  const groups = long ? rows : Math.ceil(rows / WG);
  const x = Math.max(1, Math.min(groups, 65535));
  ctx.dispatch({
    key: `${k.key}:${long ? 'long' : 'short'}`,
    code: (decl) => rowCode(decl, k, long),
    bindings: [...inputs.map((t) => [ctx.buffer(t), 'read'] as const), [ctx.buffer(out), 'write'] as const],
    params: [rows, n],
    groups: [x, Math.ceil(groups / x), 1],
  });
}

// NaN wins the max, as the max reduction's does, so a row holding NaN stays NaN
const MAX = 'select(select(a, b, b > a), b, m_isnan(b) && !m_isnan(a))';

/**
 * Softmax (log-softmax) over the last axis, max-shifted, with the composition's functions
 * (m_exp, m_log, f_div): the row's max, Σ exp(x - max), then each output.
 */
export function softmax(ctx: GpuContext, x: TensorInfo, log: boolean, out: TensorInfo): void {
  runRows(ctx, {
    key: `softmax:${log}`,
    inputs: ['x'],
    folds: [
      { start: '-m_inf()', combine: MAX, term: 'x[j]' },
      { start: '0.0', combine: 'a + b', term: 'm_exp(x[j] - r1)' },
    ],
    write: log ? '(x[j] - r1) - m_log(r2)' : 'f_div(m_exp(x[j] - r1), r2)',
  }, [x], out);
}

/** Back through softmax from its output y: y·(dy - Σ dy·y); through log-softmax: dy - exp(y)·Σ dy. */
export function softmaxGrad(ctx: GpuContext, dy: TensorInfo, y: TensorInfo, log: boolean, out: TensorInfo): void {
  runRows(ctx, {
    key: `softmaxGrad:${log}`,
    inputs: ['dy', 'yv'],
    folds: [{ start: '0.0', combine: 'a + b', term: log ? 'dy[j]' : 'dy[j] * yv[j]' }],
    write: log ? 'dy[j] - m_exp(yv[j]) * r1' : 'yv[j] * (dy[j] - r1)',
  }, [dy, y], out);
}
