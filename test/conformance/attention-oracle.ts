/**
 * Scaled dot-product attention as a direct float64 loop, written from Keras's numpy backend
 * (keras/src/backend/numpy/nn.py): logits = q·k · scale + bias, masked logits (mask false, or
 * j > i when causal) replaced by -0.7 · 3.38953e38, a max-shifted softmax over the keys, and
 * the weighted sum of the values. Query head n reads key head floor(n / (N / K)).
 */

/** Row-major values of a [B, N, T, S]-broadcastable operand, with its own shape. */
export interface Broadcast {
  values: ArrayLike<number | boolean>;
  shape: readonly number[];
}

export interface AttentionCase {
  /** [B, T, N, H] */
  q: ArrayLike<number>;
  /** [B, S, K, H] */
  k: ArrayLike<number>;
  v: ArrayLike<number>;
  dims: { B: number; T: number; S: number; N: number; K: number; H: number };
  bias?: Broadcast;
  mask?: Broadcast;
  scale?: number;
  causal?: boolean;
}

export const KERAS_MASKED = -0.7 * 3.38953e38;

/** The element of `x` at logit position [b, n, t, s], broadcasting its size-1 and missing leading dims. */
function at(x: Broadcast, b: number, n: number, t: number, s: number): number | boolean {
  const idx = [b, n, t, s].slice(4 - x.shape.length);
  let flat = 0;
  x.shape.forEach((d, i) => (flat = flat * d + (d === 1 ? 0 : idx[i])));
  return x.values[flat];
}

const kept = (c: AttentionCase, b: number, n: number, t: number, s: number): boolean =>
  (!c.mask || Boolean(at(c.mask, b, n, t, s))) && (!c.causal || s <= t);

/** Calls f(b, n, t, p, qi, ki) for every query: p its softmax over the keys, qi and ki(s) the offsets of its q row and of key s's row. */
function eachQuery(c: AttentionCase, f: (b: number, n: number, t: number, p: Float64Array, qi: number, ki: (s: number) => number) => void): void {
  const { B, T, S, N, K, H } = c.dims;
  const G = N / K;
  const scale = c.scale ?? 1 / Math.sqrt(H);
  const logits = new Float64Array(S);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const ki = (s: number) => ((b * S + s) * K + Math.floor(n / G)) * H;
      for (let t = 0; t < T; t++) {
        const qi = ((b * T + t) * N + n) * H;
        for (let s = 0; s < S; s++) {
          let dot = 0;
          for (let h = 0; h < H; h++) dot += c.q[qi + h] * c.k[ki(s) + h];
          const l = dot * scale + (c.bias ? (at(c.bias, b, n, t, s) as number) : 0);
          logits[s] = kept(c, b, n, t, s) ? l : KERAS_MASKED;
        }
        const m = Math.max(...logits);
        let z = 0;
        for (let s = 0; s < S; s++) z += Math.exp(logits[s] - m);
        f(b, n, t, logits.map((l) => Math.exp(l - m) / z), qi, ki);
      }
    }
  }
}

/** The attention output [B, T, N, H], in float64. */
export function attentionOracle(c: AttentionCase): Float64Array {
  const { B, T, S, N, H } = c.dims;
  const out = new Float64Array(B * T * N * H);
  eachQuery(c, (_b, _n, _t, p, qi, ki) => {
    for (let h = 0; h < H; h++) {
      for (let s = 0; s < S; s++) out[qi + h] += p[s] * c.v[ki(s) + h];
    }
  });
  return out;
}

/**
 * The gradients of q, k and v given dy and the output y, in float64, written from the chain
 * rule through out = p · v, p = softmax(l), l = q · k · scale (masked logits are constants):
 * dv_s += p_s · dy, dl_s = p_s · (dy · v_s - dy · y), dq += scale · dl_s · k_s, dk_s += scale · dl_s · q.
 */
export function attentionGradOracle(c: AttentionCase, dy: ArrayLike<number>, y: ArrayLike<number>): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { S, H } = c.dims;
  const scale = c.scale ?? 1 / Math.sqrt(H);
  const dq = new Float64Array(c.q.length);
  const dk = new Float64Array(c.k.length);
  const dv = new Float64Array(c.v.length);
  eachQuery(c, (b, n, t, p, qi, ki) => {
    let dyY = 0;
    for (let h = 0; h < H; h++) dyY += dy[qi + h] * y[qi + h];
    for (let s = 0; s < S; s++) {
      let dp = 0;
      for (let h = 0; h < H; h++) dp += dy[qi + h] * c.v[ki(s) + h];
      const dl = kept(c, b, n, t, s) ? p[s] * (dp - dyY) : 0;
      for (let h = 0; h < H; h++) {
        dv[ki(s) + h] += p[s] * dy[qi + h];
        dq[qi + h] += scale * dl * c.k[ki(s) + h];
        dk[ki(s) + h] += scale * dl * c.q[qi + h];
      }
    }
  });
  return { dq, dk, dv };
}

/** Deterministic values in [-1, 1) (a 32-bit LCG), so that cases need no backend to draw them. */
export function pseudoRandom(count: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
