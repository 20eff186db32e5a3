/**
 * The recurrent ops' oracle: Keras 3's LSTM, GRU and SimpleRNN cells stepped over time in plain
 * float64 loops, one batch row and one unit at a time, with Keras's masking rules (a masked step
 * keeps the states; its output is the previous output, zeros before the first, or zeros with
 * zeroOutputForMask). Flat row-major arrays in, flat arrays out.
 */

export const ACT: Record<string, (v: number) => number> = {
  tanh: Math.tanh,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  relu: (v) => Math.max(v, 0),
  hard_sigmoid: (v) => Math.min(Math.max(v + 3, 0), 6) / 6,
  softsign: (v) => v / (1 + Math.abs(v)),
  linear: (v) => v,
};

export interface RnnCase {
  cell: 'lstm' | 'gru' | 'simpleRnn';
  B: number;
  T: number;
  U: number;
  /** [B, T, gates·U] */
  xProj: number[];
  /** [B, U] */
  h0: number[];
  /** [B, U], lstm only */
  c0?: number[];
  /** [U, gates·U] */
  kernel: number[];
  /** [3U], gru with resetAfter only */
  bias?: number[] | null;
  /** [B, T] */
  mask?: boolean[] | null;
  zeroOutputForMask?: boolean;
  activation?: string;
  recurrentActivation?: string;
  resetAfter?: boolean;
}

export const GATES = { lstm: 4, gru: 3, simpleRnn: 1 } as const;

/** Row `b` of h (length U) times columns [from, from + n) of the kernel [U, width]. */
function times(h: readonly number[], kernel: readonly number[], width: number, from: number, n: number): number[] {
  return Array.from({ length: n }, (_, j) => h.reduce((s, hk, k) => s + hk * kernel[k * width + from + j], 0));
}

/**
 * The results, and the record the fused kernels write (the contract's lstm): per step the
 * output, the states, then lstm's activated gates i, f, g, o, or gru's z, r, hh and inner
 * (resetAfter: h·U_h + b_h; before: (r·h)·U_h).
 */
export function oracle(c: RnnCase): { outputs: number[]; h: number[]; c: number[]; record: number[] } {
  const { B, T, U } = c;
  const G = GATES[c.cell];
  const act = ACT[c.activation ?? 'tanh'];
  const rec = ACT[c.recurrentActivation ?? 'sigmoid'];
  const outputs: number[] = [];
  const hs: number[] = [];
  const cs: number[] = [];
  const record: number[] = [];
  for (let b = 0; b < B; b++) {
    let h = c.h0.slice(b * U, (b + 1) * U);
    let cell = c.c0 ? c.c0.slice(b * U, (b + 1) * U) : [];
    let out = new Array<number>(U).fill(0);
    for (let t = 0; t < T; t++) {
      const x = c.xProj.slice((b * T + t) * G * U, (b * T + t + 1) * G * U);
      let hNext: number[];
      let cNext = cell;
      let extras: number[][] = [];
      if (c.cell === 'lstm') {
        const z = times(h, c.kernel, G * U, 0, G * U).map((v, j) => v + x[j]);
        cNext = cell.map((cj, j) => rec(z[U + j]) * cj + rec(z[j]) * act(z[2 * U + j]));
        hNext = cNext.map((cj, j) => rec(z[3 * U + j]) * act(cj));
        extras = [0, 1, 2, 3].map((k) => z.slice(k * U, (k + 1) * U).map(k === 2 ? act : rec));
      } else if (c.cell === 'gru') {
        const bias = c.bias ?? new Array<number>(3 * U).fill(0);
        let z: number[], r: number[], hh: number[], inner: number[];
        if (c.resetAfter) {
          const all = times(h, c.kernel, 3 * U, 0, 3 * U).map((v, j) => v + bias[j]);
          z = all.slice(0, U).map((v, j) => rec(x[j] + v));
          r = all.slice(U, 2 * U).map((v, j) => rec(x[U + j] + v));
          inner = all.slice(2 * U);
          hh = inner.map((v, j) => act(x[2 * U + j] + r[j] * v));
        } else {
          const zr = times(h, c.kernel, 3 * U, 0, 2 * U);
          z = zr.slice(0, U).map((v, j) => rec(x[j] + v));
          r = zr.slice(U).map((v, j) => rec(x[U + j] + v));
          inner = times(h.map((v, j) => r[j] * v), c.kernel, 3 * U, 2 * U, U);
          hh = inner.map((v, j) => act(x[2 * U + j] + v));
        }
        hNext = h.map((v, j) => z[j] * v + (1 - z[j]) * hh[j]);
        extras = [z, r, hh, inner];
      } else {
        hNext = times(h, c.kernel, U, 0, U).map((v, j) => act(v + x[j]));
      }
      if (!c.mask || c.mask[b * T + t]) {
        h = hNext;
        cell = cNext;
        out = hNext;
      } else if (c.zeroOutputForMask) {
        out = new Array<number>(U).fill(0);
      }
      outputs.push(...out);
      record.push(...out, ...h, ...(c.cell === 'lstm' ? cell : []), ...extras.flat());
    }
    hs.push(...h);
    cs.push(...cell);
  }
  return { outputs, h: hs, c: cs, record };
}

/** Deterministic values in [-1, 1) (a small LCG), so a case needs no tensors to build. */
export function values(n: number, seed: number, scale = 1): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return scale * (s / 2 ** 31 - 1);
  });
}

/** A case of `cell` with drawn tensors; `over` sets anything else. */
export function drawCase(cell: RnnCase['cell'], B: number, T: number, U: number, seed: number, over: Partial<RnnCase> = {}): RnnCase {
  const G = GATES[cell];
  return {
    cell, B, T, U,
    xProj: values(B * T * G * U, seed, 1.5),
    h0: values(B * U, seed + 1, 0.8),
    c0: cell === 'lstm' ? values(B * U, seed + 2, 0.8) : undefined,
    kernel: values(U * G * U, seed + 3, 1 / Math.sqrt(U)),
    bias: cell === 'gru' && (over.resetAfter ?? true) ? values(3 * U, seed + 4, 0.5) : null,
    resetAfter: cell === 'gru' ? true : undefined,
    ...over,
  };
}

/** A mask with a masked first step, an all-false row (when B > 1) and a mix elsewhere. */
export function mixedMask(B: number, T: number): boolean[] {
  return Array.from({ length: B * T }, (_, i) => {
    const b = Math.floor(i / T);
    const t = i % T;
    if (b === 1) return false;
    if (b === 0) return t !== 0 && t !== T - 2;
    return (b + t) % 3 !== 0;
  });
}
