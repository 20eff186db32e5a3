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

/** The attention output [B, T, N, H], in float64. */
export function attentionOracle(c: AttentionCase): Float64Array {
  const { B, T, S, N, K, H } = c.dims;
  const G = N / K;
  const scale = c.scale ?? 1 / Math.sqrt(H);
  const out = new Float64Array(B * T * N * H);
  const logits = new Float64Array(S);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const kh = Math.floor(n / G);
      for (let t = 0; t < T; t++) {
        for (let s = 0; s < S; s++) {
          let dot = 0;
          for (let h = 0; h < H; h++) dot += c.q[((b * T + t) * N + n) * H + h] * c.k[((b * S + s) * K + kh) * H + h];
          let l = dot * scale;
          if (c.bias) l += at(c.bias, b, n, t, s) as number;
          const kept = (!c.mask || Boolean(at(c.mask, b, n, t, s))) && (!c.causal || s <= t);
          logits[s] = kept ? l : KERAS_MASKED;
        }
        const m = Math.max(...logits);
        let z = 0;
        for (let s = 0; s < S; s++) z += Math.exp(logits[s] - m);
        for (let h = 0; h < H; h++) {
          let acc = 0;
          for (let s = 0; s < S; s++) acc += (Math.exp(logits[s] - m) / z) * c.v[((b * S + s) * K + kh) * H + h];
          out[((b * T + t) * N + n) * H + h] = acc;
        }
      }
    }
  }
  return out;
}

/** Deterministic values in [-1, 1) (a 32-bit LCG), so that cases need no backend to draw them. */
export function pseudoRandom(count: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
