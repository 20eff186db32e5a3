/**
 * Runs a backend's conv, convGrad, pool and poolGrad kernels on its buffers and lists every
 * element that differs from the float64 oracles (./conv-oracle.ts) by more than rounding can
 * explain: an empty list is a pass. Shared by test/native/conv.test.ts and the child processes
 * it starts for each GEMM micro-kernel family.
 */
import type { Backend, ConvGeometry, DType, FusedActivation, FusedKernels, PoolOp, TensorInfo, TypedArray } from '../../backends/contract.js';
import { type ConvCase, type PoolCase, convGradOracle, convOracle, poolOracle, product, values } from './conv-oracle.js';

export const EPS: Record<string, number> = { float32: 2 ** -24, float64: 2 ** -53 };

/** Buffers on one backend, freed together. */
export class Buffers {
  private readonly ids: number[] = [];
  constructor(readonly b: Backend, readonly dtype: DType) {}
  put(shape: number[], data: ArrayLike<number>): TensorInfo {
    const id = this.b.alloc(this.dtype, product(shape));
    this.b.write(id, (this.dtype === 'float32' ? Float32Array : Float64Array).from(data));
    this.ids.push(id);
    return { id, shape, dtype: this.dtype };
  }
  /** An output, filled with NaN so that an element never written shows. */
  out(shape: number[]): TensorInfo {
    return this.put(shape, new Float64Array(product(shape)).fill(NaN));
  }
  read(t: TensorInfo): TypedArray {
    return this.b.readSync!(t.id);
  }
  free(): void {
    this.ids.forEach((id) => this.b.free(id));
  }
}

/** A backend's convolution and pooling kernels; a backend without them fails here, by name. */
export function kernels(b: Backend): Pick<FusedKernels, 'conv' | 'convGrad' | 'pool' | 'poolGrad'> {
  const f = b.fused;
  if (!f?.conv || !f.convGrad || !f.pool || !f.poolGrad) throw new Error(`backend '${b.name}' has no fused conv and pool kernels`);
  return f as FusedKernels;
}

/** The values a dtype holds: float32 rounds. */
export const as = (dtype: DType, v: Float64Array): Float64Array => (dtype === 'float32' ? Float64Array.from(Float32Array.from(v)) : v);

/**
 * The elements where |got - want| > (k + 4)·eps·scale + 4·eps·|want|: beyond the rounding of k
 * terms summed with magnitudes `scale` (|want| when null) and of the result. Equal values
 * (infinities) and NaN for NaN pass.
 */
export function mismatches(what: string, got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number> | null, k: number, eps: number): string[] {
  if (got.length !== want.length) return [`${what}: ${got.length} elements, want ${want.length}`];
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const tol = (k + 4) * eps * (scale ? scale[i] : Math.abs(want[i])) + 4 * eps * Math.abs(want[i]) + 1e-300;
    const same = got[i] === want[i] || (Number.isNaN(want[i]) ? Number.isNaN(got[i]) : Math.abs(got[i] - want[i]) <= tol);
    if (!same) bad.push(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
  return bad;
}

/** conv(x [N, ...S, C], w [...K, C / groups, F]) with the output size the padding gives. */
export function convCase(x: number[], w: number[], o: { strides?: number[]; dilations?: number[]; pads?: number[][]; groups?: number } = {}): ConvCase {
  const d = x.length - 2;
  const strides = o.strides ?? Array(d).fill(1);
  const dilations = o.dilations ?? Array(d).fill(1);
  const pads = o.pads ?? Array.from({ length: d }, () => [0, 0]);
  const out = x.slice(1, -1).map((s, a) => Math.floor((s + pads[a][0] + pads[a][1] - (w[a] - 1) * dilations[a] - 1) / strides[a]) + 1);
  const geometry: ConvGeometry = { strides, dilations, padsBefore: pads.map((p) => p[0]), groups: o.groups ?? 1 };
  return { x, w, out, geometry };
}

/** A case's inputs: x, w, bias, dy and a y whose signs vary (relu's select sees both). */
export function convInputs(c: ConvCase, seed: number) {
  const d = c.x.length - 2;
  const F = c.w[d + 1];
  const outShape = [c.x[0], ...c.out, F];
  return {
    outShape,
    x: values(product(c.x), seed),
    w: values(product(c.w), seed + 1).map((v) => v / Math.sqrt(product(c.w) / F)),
    bias: values(F, seed + 2),
    dy: values(product(outShape), seed + 3),
    // in (0, 1) for sigmoid, an exact 0 now and then for relu
    y: values(product(outShape), seed + 4).map((v, i) => (i % 7 === 3 ? 0 : (v + 1) / 2.5)),
  };
}

export interface Wants {
  bias: boolean;
  dx: boolean;
  dw: boolean;
  dBias: boolean;
}
const ALL: Wants = { bias: true, dx: true, dw: true, dBias: true };

/** conv, then convGrad from a given dy and y, against the oracle: the mismatches of each output. */
export function checkConv(b: Backend, c: ConvCase, dtype: DType, activation: FusedActivation, seed = 1, wants: Wants = ALL): string[] {
  const buf = new Buffers(b, dtype);
  const v = convInputs(c, seed);
  const [x, w, bias, dy, y] = [v.x, v.w, v.bias, v.dy, v.y].map((a) => as(dtype, a));
  const d = c.x.length - 2;
  const F = c.w[d + 1];
  const eps = EPS[dtype];
  try {
    const tx = buf.put(c.x, x), tw = buf.put(c.w, w), tb = wants.bias ? buf.put([F], bias) : null;
    const out = buf.out(v.outShape);
    kernels(b).conv(tx, tw, tb, c.geometry, activation, out);
    const want = convOracle(c, x, w, wants.bias ? bias : null, activation);
    const bad = mismatches('conv', buf.read(out), want.out, want.scale, product(c.w.slice(0, d + 1)), eps);

    const tdx = wants.dx ? buf.out(c.x) : null, tdw = wants.dw ? buf.out(c.w) : null, tdb = wants.dBias ? buf.out([F]) : null;
    kernels(b).convGrad(buf.put(v.outShape, dy), buf.put(v.outShape, y), tx, tw, c.geometry, activation, tdx, tdw, tdb);
    const g = convGradOracle(c, dy, y, x, w, activation);
    const rows = v.outShape[0] * product(c.out);
    if (tdx) bad.push(...mismatches('dx', buf.read(tdx), g.dx, g.dxScale, product(c.w.slice(0, d)) * F, eps));
    if (tdw) bad.push(...mismatches('dw', buf.read(tdw), g.dw, g.dwScale, rows, eps));
    if (tdb) bad.push(...mismatches('dBias', buf.read(tdb), g.dBias, g.dBiasScale, rows, eps));
    return bad;
  } finally {
    buf.free();
  }
}

/** pool(x [N, ...S, C]) with the output size the padding gives. */
export function poolCase(x: number[], window: number[], strides: number[], pads: number[][]): PoolCase {
  return {
    x,
    out: x.slice(1, -1).map((s, a) => Math.floor((s + pads[a][0] + pads[a][1] - window[a]) / strides[a]) + 1),
    geometry: { window, strides, padsBefore: pads.map((p) => p[0]) },
  };
}

/** pool, then poolGrad from pool's own output, against the oracle. */
export function checkPool(b: Backend, p: PoolCase, op: PoolOp, dtype: DType, x: Float64Array): string[] {
  const shapeOut = [p.x[0], ...p.out, p.x[p.x.length - 1]];
  const dy = as(dtype, values(product(shapeOut), 9));
  const want = poolOracle(p, op, x, dy);
  const buf = new Buffers(b, dtype);
  try {
    const tx = buf.put(p.x, x), y = buf.out(shapeOut), dx = buf.out(p.x);
    kernels(b).pool(op, tx, p.geometry, y);
    const bad = mismatches('pool', buf.read(y), as(dtype, want.y), null, 0, EPS[dtype]);
    kernels(b).poolGrad(op, buf.put(shapeOut, dy), tx, y, p.geometry, dx);
    bad.push(...mismatches('poolGrad', buf.read(dx), want.dx, want.dxScale, product(p.geometry.window), EPS[dtype]));
    return bad;
  } finally {
    buf.free();
  }
}
