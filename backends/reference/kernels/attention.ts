import { ATTENTION_MASKED_LOGIT, type TypedArray } from '../../contract.js';

/** The sizes of q [B, T, N, H] and k [B, S, K, H], and where each kernel reads and writes. */
class Layout {
  readonly B: number;
  readonly T: number;
  readonly N: number;
  readonly H: number;
  readonly S: number;
  readonly K: number;
  readonly G: number;

  constructor(q: readonly number[], k: readonly number[], readonly mask: readonly number[] | null) {
    [this.B, this.T, this.N, this.H] = q;
    [, this.S, this.K] = k;
    this.G = this.N / this.K;
  }

  /** Element h of query t, head n: q, dq, y and dy. */
  q(b: number, t: number, n: number, h: number): number {
    return ((b * this.T + t) * this.N + n) * this.H + h;
  }

  /** Element h of key s in the key head that query head n reads: k, v, dk and dv. */
  k(b: number, s: number, n: number, h: number): number {
    return ((b * this.S + s) * this.K + Math.floor(n / this.G)) * this.H + h;
  }

  /** The mask's element for [b, n, t, s], its size-1 batch or head axis broadcast. */
  m(b: number, n: number, t: number, s: number): number {
    const [Bm, Nm] = this.mask!;
    return (((Bm === 1 ? 0 : b) * Nm + (Nm === 1 ? 0 : n)) * this.T + t) * this.S + s;
  }
}

/** Whether logit [b, n, t, s] takes part: the mask is true there and, when causal, s <= t. */
function kept(l: Layout, mask: TypedArray | null, causal: boolean, b: number, n: number, t: number, s: number): boolean {
  return (!mask || mask[l.m(b, n, t, s)] !== 0) && (!causal || s <= t);
}

/** The softmax p over the keys of query t in head n, masked logits at ATTENTION_MASKED_LOGIT. */
function probabilities(
  l: Layout, q: TypedArray, k: TypedArray, mask: TypedArray | null, scale: number, causal: boolean, b: number, n: number, t: number,
): number[] {
  const logits: number[] = [];
  for (let s = 0; s < l.S; s++) {
    let dot = 0;
    for (let h = 0; h < l.H; h++) dot += q[l.q(b, t, n, h)] * k[l.k(b, s, n, h)];
    logits.push(kept(l, mask, causal, b, n, t, s) ? dot * scale : ATTENTION_MASKED_LOGIT);
  }
  const max = Math.max(...logits);
  const e = logits.map((x) => Math.exp(x - max));
  const sum = e.reduce((a, x) => a + x, 0);
  return e.map((x) => x / sum);
}

/** out_t = Σ_s p_s · v_s for every batch, head and query. */
export function attention(
  q: TypedArray, qShape: readonly number[], k: TypedArray, kShape: readonly number[], v: TypedArray, mask: TypedArray | null,
  maskShape: readonly number[] | null, scale: number, causal: boolean, out: TypedArray,
): void {
  const l = new Layout(qShape, kShape, maskShape);
  for (let b = 0; b < l.B; b++) {
    for (let n = 0; n < l.N; n++) {
      for (let t = 0; t < l.T; t++) {
        const p = probabilities(l, q, k, mask, scale, causal, b, n, t);
        for (let h = 0; h < l.H; h++) {
          let acc = 0;
          for (let s = 0; s < l.S; s++) acc += p[s] * v[l.k(b, s, n, h)];
          out[l.q(b, t, n, h)] = acc;
        }
      }
    }
  }
}

/** attention's gradients (see the contract), the softmax recomputed per query; a null output is not wanted. */
export function attentionGrad(
  dy: TypedArray, y: TypedArray, q: TypedArray, qShape: readonly number[], k: TypedArray, kShape: readonly number[], v: TypedArray,
  mask: TypedArray | null, maskShape: readonly number[] | null, scale: number, causal: boolean,
  dq: TypedArray | null, dk: TypedArray | null, dv: TypedArray | null,
): void {
  const l = new Layout(qShape, kShape, maskShape);
  // dk and dv sum over queries and the heads of a group; dq is written whole for each query
  const dkSum = new Float64Array(k.length);
  const dvSum = new Float64Array(k.length);
  for (let b = 0; b < l.B; b++) {
    for (let n = 0; n < l.N; n++) {
      for (let t = 0; t < l.T; t++) {
        const p = probabilities(l, q, k, mask, scale, causal, b, n, t);
        let dyDotY = 0;
        for (let h = 0; h < l.H; h++) dyDotY += dy[l.q(b, t, n, h)] * y[l.q(b, t, n, h)];
        const dqRow = new Float64Array(l.H);
        for (let s = 0; s < l.S; s++) {
          let dp = 0;
          for (let h = 0; h < l.H; h++) dp += dy[l.q(b, t, n, h)] * v[l.k(b, s, n, h)];
          const dl = kept(l, mask, causal, b, n, t, s) ? p[s] * (dp - dyDotY) * scale : 0;
          for (let h = 0; h < l.H; h++) {
            dqRow[h] += dl * k[l.k(b, s, n, h)];
            dkSum[l.k(b, s, n, h)] += dl * q[l.q(b, t, n, h)];
            dvSum[l.k(b, s, n, h)] += p[s] * dy[l.q(b, t, n, h)];
          }
        }
        if (dq) for (let h = 0; h < l.H; h++) dq[l.q(b, t, n, h)] = dqRow[h];
      }
    }
  }
  if (dk) dk.set(dkSum);
  if (dv) dv.set(dvSum);
}
