import type { FusedActivation, TensorInfo } from '../../contract.js';
import { sizeOf } from '../../contract.js';
import { activate } from './activation.js';
import { FLOAT_FUNCTIONS } from './binary.js';
import { broadcastStrides } from './elementwise.js';
import { mathLibrary, mathUsedBy } from './math.js';
import { storage, wgslType, type Access, type GpuContext } from './wgsl.js';

/** What the fused dense kernel adds after the product: a bias per column, then an activation. */
export interface Epilogue {
  bias: TensorInfo | null;
  activation: FusedActivation;
}

/** Each thread computes an R x R block of out (register blocking). */
const R = 4;
/** Depth of the tiles of a and b staged in workgroup memory per step along k. */
const DEPTH = 16;

/**
 * Threads per side of a workgroup, from the adapter's limits: T x T threads compute a
 * (R·T) x (R·T) tile of out, staging DEPTH-deep slices of a and b in workgroup memory. WebGPU
 * guarantees 256 invocations and 16 KiB, enough for T = 16 (64 x 64 tiles, 8 KiB).
 */
function threadsPerSide(limits: GPUSupportedLimits): number {
  for (const t of [16, 8]) {
    if (t * t <= limits.maxComputeInvocationsPerWorkgroup && 2 * DEPTH * R * t * 4 <= limits.maxComputeWorkgroupStorageSize) return t;
  }
  return 4;
}

const range = (n: number) => [...Array(n).keys()];

/**
 * The tiled kernel. Loading a tile, consecutive threads read consecutive addresses: along k when
 * the operand's k is its fast axis (a not transposed, b transposed), along rows or columns
 * otherwise. Every product of the real sum is taken in order along k, padding only feeds
 * outputs outside out, so NaN and Inf travel as in reference's loop.
 */
function code(decl: string, t: string, side: number, transposeA: boolean, transposeB: boolean, epilogue?: Epilogue): string {
  const tile = R * side;
  const threads = side * side;
  const loads = (tile * DEPTH) / threads;
  // a's tile is [DEPTH][tile] (p, i); b's is [DEPTH][tile] (p, j)
  const aIndex = transposeA ? [`e % ${tile}u`, `e / ${tile}u`] : [`e / ${DEPTH}u`, `e % ${DEPTH}u`];
  const bIndex = transposeB ? [`e / ${DEPTH}u`, `e % ${DEPTH}u`] : [`e % ${tile}u`, `e / ${tile}u`];
  const acc = range(R).flatMap((r) => range(R).map((c) => `c${r}${c}`));
  // the product is stored as float32 before the bias is added, as the composed matmul-then-add rounds it
  const result = (v: string, col: string) => (epilogue ? `act(${epilogue.bias ? `${v} + bias[${col}]` : v})` : v);
  return `${decl}
${storage(1, 'a', t, 'read')}
${storage(2, 'b', t, 'read')}
${storage(3, 'y', t, 'write')}
${epilogue?.bias ? storage(4, 'bias', t, 'read') : ''}
${epilogue ? `${mathLibrary(mathUsedBy(FLOAT_FUNCTIONS + activate(epilogue.activation)))}\n${FLOAT_FUNCTIONS}\n${activate(epilogue.activation)}` : ''}
var<workgroup> As: array<array<${t}, ${tile}>, ${DEPTH}>;
var<workgroup> Bs: array<array<${t}, ${tile}>, ${DEPTH}>;
@compute @workgroup_size(${side}, ${side})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m = p(0u);
  let n = p(1u);
  let k = p(2u);
  let aI = p(3u);
  let aP = p(4u);
  let bP = p(5u);
  let bJ = p(6u);
  let rank = p(7u);
  let batch = wid.z + p(8u);
  var aBase = 0u;
  var bBase = 0u;
  var rem = batch;
  for (var d = rank; d > 0u; d--) {
    let size = p(8u + d);
    let c = rem % size;
    rem = rem / size;
    aBase += c * p(8u + rank + d);
    bBase += c * p(8u + 2u * rank + d);
  }
  let row0 = wid.y * ${tile}u;
  let col0 = wid.x * ${tile}u;
  let tid = lid.y * ${side}u + lid.x;
  ${acc.map((v) => `var ${v} = ${t}(0);`).join(' ')}
  for (var p0 = 0u; p0 < k; p0 += ${DEPTH}u) {
    for (var l = 0u; l < ${loads}u; l++) {
      let e = tid + l * ${threads}u;
      let ai = ${aIndex[0]};
      let ap = ${aIndex[1]};
      let gi = row0 + ai;
      let gpa = p0 + ap;
      As[ap][ai] = select(${t}(0), a[aBase + gi * aI + gpa * aP], gi < m && gpa < k);
      let bj = ${bIndex[0]};
      let bp = ${bIndex[1]};
      let gj = col0 + bj;
      let gpb = p0 + bp;
      Bs[bp][bj] = select(${t}(0), b[bBase + gpb * bP + gj * bJ], gj < n && gpb < k);
    }
    workgroupBarrier();
    for (var q = 0u; q < ${DEPTH}u; q++) {
      ${range(R).map((r) => `let a${r} = As[q][lid.y * ${R}u + ${r}u];`).join(' ')}
      ${range(R).map((c) => `let b${c} = Bs[q][lid.x * ${R}u + ${c}u];`).join(' ')}
      ${range(R).map((r) => range(R).map((c) => `c${r}${c} += a${r} * b${c};`).join(' ')).join('\n      ')}
    }
    workgroupBarrier();
  }
  let outBase = batch * m * n;
  ${range(R).flatMap((r) => range(R).map((c) => `if (row0 + lid.y * ${R}u + ${r}u < m && col0 + lid.x * ${R}u + ${c}u < n) { y[outBase + (row0 + lid.y * ${R}u + ${r}u) * n + col0 + lid.x * ${R}u + ${c}u] = ${result(`c${r}${c}`, `col0 + lid.x * ${R}u + ${c}u`)}; }`)).join('\n  ')}
}`;
}

/**
 * Batched matrix product: a [...batchA, m, k] (or [..., k, m]), b [...batchB, k, n] (or
 * [..., n, k]), batch dims broadcast to out's [...batch, m, n]. The transposes are index
 * arithmetic: no copy is made. Float32 sums in float32 (reference sums in float64: the
 * difference is the reduction tolerance); int32 products and sums wrap.
 */
export function matmul(
  ctx: GpuContext, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, out: TensorInfo, epilogue?: Epilogue,
): void {
  const rank = out.shape.length;
  const m = out.shape[rank - 2];
  const n = out.shape[rank - 1];
  const k = a.shape[a.shape.length - (transposeA ? 2 : 1)];
  const batchShape = out.shape.slice(0, -2);
  const aStrides = broadcastStrides(a.shape.slice(0, -2), batchShape).map((s) => s * m * k);
  const bStrides = broadcastStrides(b.shape.slice(0, -2), batchShape).map((s) => s * k * n);
  const side = threadsPerSide(ctx.limits);
  const tile = R * side;
  const t = wgslType(out.dtype);
  const batches = sizeOf(batchShape);
  const bindings: [GPUBuffer, Access][] = [[ctx.buffer(a), 'read'], [ctx.buffer(b), 'read'], [ctx.buffer(out), 'write']];
  if (epilogue?.bias) bindings.push([ctx.buffer(epilogue.bias), 'read']);
  // WebGPU guarantees 65535 workgroups per dimension: more batches take more launches
  for (let first = 0; first < batches; first += 65535) {
    ctx.dispatch({
      key: `matmul:${t}:${side}:${transposeA}:${transposeB}${epilogue ? `:${epilogue.activation}:${epilogue.bias !== null}` : ''}`,
      code: (decl) => code(decl, t, side, transposeA, transposeB, epilogue),
      bindings,
      params: [
        m, n, k, transposeA ? 1 : k, transposeA ? m : 1, transposeB ? 1 : n, transposeB ? k : 1,
        batchShape.length, first, ...batchShape, ...aStrides, ...bStrides,
      ],
      groups: [Math.ceil(n / tile), Math.ceil(m / tile), Math.min(65535, batches - first)],
    });
  }
}
