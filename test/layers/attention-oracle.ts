/**
 * Direct float64 loops for the attention layers' tests: nothing here calls kiln's ops. Tensors are
 * flat row-major arrays with their shapes; `allowed(b, t, s)` says whether query step t of sample
 * b may attend to key step s.
 */

export interface Flat {
  data: number[];
  shape: number[];
}

export type Allowed = (b: number, t: number, s: number) => boolean;

/** x [B, T, D] · w [D, …out] + bias [...out] → [B, T, prod(out)] as flat rows. */
function project(x: Flat, w: Flat, bias: Flat | null): Flat {
  const [B, T, D] = x.shape;
  const out = w.data.length / D;
  const data = new Array<number>(B * T * out).fill(0);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let o = 0; o < out; o++) {
        let acc = bias ? bias.data[o] : 0;
        for (let d = 0; d < D; d++) acc += x.data[(b * T + t) * D + d] * w.data[d * out + o];
        data[(b * T + t) * out + o] = acc;
      }
    }
  }
  return { data, shape: [B, T, out] };
}

/** Softmax over the allowed entries of `row`; all zero when none is allowed (Keras's masked softmax). */
export function maskedSoftmaxRow(row: number[], keep: boolean[]): number[] {
  const kept = row.filter((_, i) => keep[i]);
  if (kept.length === 0) return row.map(() => 0);
  const max = Math.max(...kept);
  const e = row.map((x, i) => (keep[i] ? Math.exp(x - max) : 0));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

export interface HeadWeights {
  wq: Flat; bq: Flat | null; wk: Flat; bk: Flat | null; wv: Flat; bv: Flat | null; wo: Flat; bo: Flat | null;
  /** Query heads, key/value heads (fewer for grouped-query attention), and the channels of each. */
  heads: number; kvHeads: number; keyDim: number; valueDim: number;
}

/**
 * Multi-head (or grouped-query) attention of query [B, T, Dq] over key [B, S, Dk] and value
 * [B, S, Dv]: output [B, T, E] and probabilities [B, heads, T, S].
 */
export function headAttentionLoop(query: Flat, value: Flat, key: Flat, w: HeadWeights, allowed: Allowed | null): { out: Flat; probs: Flat } {
  const [B, T] = query.shape;
  const S = value.shape[1];
  const { heads: N, kvHeads: K, keyDim: H, valueDim: Hv } = w;
  const q = project(query, w.wq, w.bq);
  const k = project(key, w.wk, w.bk);
  const v = project(value, w.wv, w.bv);
  const E = w.wo.data.length / (N * Hv);
  const probs = new Array<number>(B * N * T * S).fill(0);
  const heads = new Array<number>(B * T * N * Hv).fill(0);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const kv = Math.floor(n / (N / K));
      for (let t = 0; t < T; t++) {
        const scores: number[] = [];
        for (let s = 0; s < S; s++) {
          let acc = 0;
          for (let h = 0; h < H; h++) acc += q.data[((b * T + t) * N + n) * H + h] * k.data[((b * S + s) * K + kv) * H + h];
          scores.push(acc / Math.sqrt(H));
        }
        const p = maskedSoftmaxRow(scores, scores.map((_, s) => (allowed ? allowed(b, t, s) : true)));
        p.forEach((x, s) => (probs[((b * N + n) * T + t) * S + s] = x));
        for (let h = 0; h < Hv; h++) {
          let acc = 0;
          for (let s = 0; s < S; s++) acc += p[s] * v.data[((b * S + s) * K + kv) * Hv + h];
          heads[((b * T + t) * N + n) * Hv + h] = acc;
        }
      }
    }
  }
  const out = new Array<number>(B * T * E).fill(0);
  for (let bt = 0; bt < B * T; bt++) {
    for (let e = 0; e < E; e++) {
      let acc = w.bo ? w.bo.data[e] : 0;
      for (let j = 0; j < N * Hv; j++) acc += heads[bt * N * Hv + j] * w.wo.data[j * E + e];
      out[bt * E + e] = acc;
    }
  }
  return { out: { data: out, shape: [B, T, E] }, probs: { data: probs, shape: [B, N, T, S] } };
}

/**
 * keras.layers.Attention and AdditiveAttention: `score(b, t, s)` the raw score; masked keys get
 * score − 1e9 (Keras subtracts), rows the query mask drops give 0.
 */
export function denseAttentionLoop(query: Flat, value: Flat, key: Flat, score: (q: number[], k: number[]) => number, keyAllowed: Allowed | null, queryKept: ((b: number, t: number) => boolean) | null): { out: Flat; probs: Flat } {
  const [B, T, D] = query.shape;
  const [S, Dv] = [value.shape[1], value.shape[2]];
  const out = new Array<number>(B * T * Dv).fill(0);
  const probs = new Array<number>(B * T * S).fill(0);
  const row = (x: Flat, b: number, i: number): number[] => x.data.slice((b * x.shape[1] + i) * x.shape[2], (b * x.shape[1] + i + 1) * x.shape[2]);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const scores = Array.from({ length: S }, (_, s) => {
        const raw = score(row(query, b, t).slice(0, D), row(key, b, s));
        return keyAllowed && !keyAllowed(b, t, s) ? raw - 1e9 : raw;
      });
      const max = Math.max(...scores);
      const e = scores.map((x) => Math.exp(x - max));
      const sum = e.reduce((a, c) => a + c, 0);
      e.forEach((x, s) => (probs[(b * T + t) * S + s] = x / sum));
      for (let j = 0; j < Dv; j++) {
        let acc = 0;
        for (let s = 0; s < S; s++) acc += (e[s] / sum) * value.data[(b * S + s) * Dv + j];
        out[(b * T + t) * Dv + j] = queryKept && !queryKept(b, t) ? 0 : acc;
      }
    }
  }
  return { out: { data: out, shape: [B, T, Dv] }, probs: { data: probs, shape: [B, T, S] } };
}
