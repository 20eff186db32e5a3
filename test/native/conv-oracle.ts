/**
 * Float64 oracles for the convolution and pooling kernels, written as the contract states them
 * (backends/contract.ts: conv, convGrad, pool, poolGrad) and independently of every backend's
 * kernels. Each convolution value comes with the sum of its terms' magnitudes, the scale of the
 * rounding error a float32 GEMM may make.
 */
import type { ConvGeometry, FusedActivation, PoolGeometry, PoolOp } from '../../backends/contract.js';

export const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Every index of `dims`, row-major. */
export function indices(dims: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of dims) out = out.flatMap((p) => Array.from({ length: n }, (_, i) => [...p, i]));
  return out;
}

/** Deterministic values in [-1, 1). */
export function values(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export const ACT: Record<FusedActivation, (z: number) => number> = {
  linear: (z) => z,
  relu: (z) => (z <= 0 ? 0 : z),
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  tanh: Math.tanh,
};

/** dz = dy · act'(y) from the activation's output, relu's a select. */
export const DERIVE: Record<FusedActivation, (dy: number, y: number) => number> = {
  linear: (dy) => dy,
  relu: (dy, y) => (y > 0 ? dy : 0),
  sigmoid: (dy, y) => dy * y * (1 - y),
  tanh: (dy, y) => dy * (1 - y * y),
};

export interface ConvCase {
  x: number[];
  w: number[];
  geometry: ConvGeometry;
  /** The output's spatial size (the padding after is implied by it). */
  out: number[];
}

/**
 * For each sample n, output position o (row-major) and kernel position k (row-major), the
 * input position read, row-major over S, or -1 in the padding.
 */
function reads(c: ConvCase, window: readonly number[], dilations: readonly number[]): number[][] {
  const S = c.x.slice(1, -1);
  return indices(c.out).map((o) => indices(window).map((k) => {
    let s = 0;
    for (let a = 0; a < S.length; a++) {
      const i = o[a] * c.geometry.strides[a] + k[a] * dilations[a] - c.geometry.padsBefore[a];
      if (i < 0 || i >= S[a]) return -1;
      s = s * S[a] + i;
    }
    return s;
  }));
}

/** act(conv(x, w) + bias) and, per output element, Σ|terms| (bias included). */
export function convOracle(c: ConvCase, x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null,
  activation: FusedActivation): { out: Float64Array; scale: Float64Array } {
  const d = c.x.length - 2;
  const [N, C, F] = [c.x[0], c.x[d + 1], c.w[d + 1]];
  const G = c.geometry.groups;
  const [cg, fg] = [C / G, F / G];
  const [sSize, oSize] = [product(c.x.slice(1, -1)), product(c.out)];
  const taps = reads(c, c.w.slice(0, d), c.geometry.dilations);
  const out = new Float64Array(N * oSize * F);
  const scale = new Float64Array(out.length);
  for (let n = 0; n < N; n++) {
    taps.forEach((list, o) => {
      for (let f = 0; f < F; f++) {
        const c0 = Math.floor(f / fg) * cg;
        let sum = bias ? bias[f] : 0;
        let mag = Math.abs(sum);
        list.forEach((s, k) => {
          if (s < 0) return;
          for (let ch = 0; ch < cg; ch++) {
            const t = x[(n * sSize + s) * C + c0 + ch] * w[(k * cg + ch) * F + f];
            sum += t;
            mag += Math.abs(t);
          }
        });
        out[(n * oSize + o) * F + f] = ACT[activation](sum);
        scale[(n * oSize + o) * F + f] = mag;
      }
    });
  }
  return { out, scale };
}

export interface ConvGradOracle {
  dx: Float64Array;
  dxScale: Float64Array;
  dw: Float64Array;
  dwScale: Float64Array;
  dBias: Float64Array;
  dBiasScale: Float64Array;
}

/** convGrad from dy and y: dz = dy·act'(y), then every dz·w term into dx and dz·x term into dw. */
export function convGradOracle(c: ConvCase, dy: ArrayLike<number>, y: ArrayLike<number>, x: ArrayLike<number>,
  w: ArrayLike<number>, activation: FusedActivation): ConvGradOracle {
  const d = c.x.length - 2;
  const [N, C, F] = [c.x[0], c.x[d + 1], c.w[d + 1]];
  const G = c.geometry.groups;
  const [cg, fg] = [C / G, F / G];
  const [sSize, oSize] = [product(c.x.slice(1, -1)), product(c.out)];
  const taps = reads(c, c.w.slice(0, d), c.geometry.dilations);
  const r = {
    dx: new Float64Array(N * sSize * C), dxScale: new Float64Array(N * sSize * C),
    dw: new Float64Array(product(c.w)), dwScale: new Float64Array(product(c.w)),
    dBias: new Float64Array(F), dBiasScale: new Float64Array(F),
  };
  for (let n = 0; n < N; n++) {
    taps.forEach((list, o) => {
      for (let f = 0; f < F; f++) {
        const at = (n * oSize + o) * F + f;
        const g = DERIVE[activation](dy[at], y[at]);
        r.dBias[f] += g;
        r.dBiasScale[f] += Math.abs(g);
        const c0 = Math.floor(f / fg) * cg;
        list.forEach((s, k) => {
          if (s < 0) return;
          for (let ch = 0; ch < cg; ch++) {
            const xi = (n * sSize + s) * C + c0 + ch;
            const wi = (k * cg + ch) * F + f;
            r.dx[xi] += g * w[wi];
            r.dxScale[xi] += Math.abs(g * w[wi]);
            r.dw[wi] += g * x[xi];
            r.dwScale[wi] += Math.abs(g * x[xi]);
          }
        });
      }
    });
  }
  return r;
}

export interface PoolCase {
  x: number[];
  geometry: PoolGeometry;
  out: number[];
}

/**
 * pool, and poolGrad into dx from dy and pool's own output y: hit·(dy / ties) for max; dxScale
 * sums the magnitudes of each dx element's terms.
 */
export function poolOracle(p: PoolCase, op: PoolOp, x: ArrayLike<number>, dy: ArrayLike<number>): { y: Float64Array; dx: Float64Array; dxScale: Float64Array } {
  const d = p.x.length - 2;
  const [N, C] = [p.x[0], p.x[d + 1]];
  const [sSize, oSize] = [product(p.x.slice(1, -1)), product(p.out)];
  const c: ConvCase = { x: p.x, w: [...p.geometry.window, C, C], out: p.out, geometry: { ...p.geometry, dilations: p.geometry.window.map(() => 1), groups: 1 } };
  const windows = reads(c, p.geometry.window, c.geometry.dilations).map((list) => list.filter((s) => s >= 0));
  const y = new Float64Array(N * oSize * C);
  const dx = new Float64Array(N * sSize * C);
  const dxScale = new Float64Array(dx.length);
  for (let n = 0; n < N; n++) {
    windows.forEach((inside, o) => {
      for (let ch = 0; ch < C; ch++) {
        const xs = inside.map((s) => x[(n * sSize + s) * C + ch]);
        const at = (n * oSize + o) * C + ch;
        y[at] = op === 'avg' ? xs.reduce((a, b) => a + b, 0) / xs.length
          : xs.some((v) => Number.isNaN(v)) ? NaN : Math.max(...xs);
        const ties = xs.filter((v) => v === y[at]).length;
        inside.forEach((s, i) => {
          const t = op === 'avg' ? dy[at] / xs.length : (xs[i] === y[at] ? 1 : 0) * (dy[at] / ties);
          dx[(n * sSize + s) * C + ch] += t;
          dxScale[(n * sSize + s) * C + ch] += Math.abs(t);
        });
      }
    });
  }
  return { y, dx, dxScale };
}
