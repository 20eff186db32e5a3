/**
 * Recurrent layers written out as plain loops over numbers (float64), independent of kiln's ops:
 * the oracle the recurrent tests compare against. Gate orders as Keras: LSTM i, f, c, o; GRU z, r, h.
 */
import type * as kiln from '../../index.js';

export type Mat = number[][];
type Step = (x: number[], states: Mat) => [number[], Mat];

export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** x · W for a vector x [n] and W [n, m]. */
export function vecMat(x: number[], w: Mat): number[] {
  const out = new Array<number>(w[0]?.length ?? 0).fill(0);
  x.forEach((xi, i) => w[i].forEach((wij, j) => (out[j] += xi * wij)));
  return out;
}

const add = (a: number[], b: number[] | null): number[] => (b ? a.map((v, i) => v + b[i]) : a);
const cols = (w: Mat, from: number, to: number): Mat => w.map((row) => row.slice(from, to));

/** A tensor as nested arrays (rank 1 to 3). */
export function nested(t: kiln.Tensor): any {
  const data = Array.from(t.dataSync() as ArrayLike<number>);
  const shape = [...t.shape];
  const build = (offset: number, dims: number[]): any => {
    if (dims.length === 1) return data.slice(offset, offset + dims[0]);
    const inner = dims.slice(1).reduce((a, b) => a * b, 1);
    return Array.from({ length: dims[0] }, (_, i) => build(offset + i * inner, dims.slice(1)));
  };
  return shape.length === 0 ? data[0] : build(0, shape);
}

export function simpleStep(kernel: Mat, recurrent: Mat, bias: number[] | null, act: (v: number) => number = Math.tanh): Step {
  return (x, [h]) => {
    const out = add(add(vecMat(x, kernel), vecMat(h, recurrent)), bias).map(act);
    return [out, [out]];
  };
}

export function lstmStep(kernel: Mat, recurrent: Mat, bias: number[] | null): Step {
  const u = recurrent.length;
  return (x, [h, c]) => {
    const z = add(add(vecMat(x, kernel), vecMat(h, recurrent)), bias);
    const gate = (g: number) => z.slice(g * u, (g + 1) * u);
    const [i, f, o] = [gate(0), gate(1), gate(3)].map((v) => v.map(sigmoid));
    const cNew = c.map((cj, j) => f[j] * cj + i[j] * Math.tanh(gate(2)[j]));
    const hNew = cNew.map((cj, j) => o[j] * Math.tanh(cj));
    return [hNew, [hNew, cNew]];
  };
}

/** bias: [input, recurrent] rows when resetAfter, one row otherwise. */
export function gruStep(kernel: Mat, recurrent: Mat, bias: Mat | null, resetAfter: boolean): Step {
  const u = recurrent.length;
  return (x, [h]) => {
    const xp = add(vecMat(x, kernel), bias ? bias[0] : null);
    let z: number[], cand: number[];
    if (resetAfter) {
      const hp = add(vecMat(h, recurrent), bias ? bias[1] : null);
      z = xp.slice(0, u).map((v, j) => sigmoid(v + hp[j]));
      const r = xp.slice(u, 2 * u).map((v, j) => sigmoid(v + hp[u + j]));
      cand = xp.slice(2 * u).map((v, j) => Math.tanh(v + r[j] * hp[2 * u + j]));
    } else {
      const hp = vecMat(h, cols(recurrent, 0, 2 * u));
      z = xp.slice(0, u).map((v, j) => sigmoid(v + hp[j]));
      const r = xp.slice(u, 2 * u).map((v, j) => sigmoid(v + hp[u + j]));
      const rh = vecMat(h.map((hj, j) => r[j] * hj), cols(recurrent, 2 * u, 3 * u));
      cand = xp.slice(2 * u).map((v, j) => Math.tanh(v + rh[j]));
    }
    const hNew = h.map((hj, j) => z[j] * hj + (1 - z[j]) * cand[j]);
    return [hNew, [hNew]];
  };
}

/** Two cells one after the other at each step, their states flat in order. */
export function stackedStep(first: Step, firstStates: number, second: Step): Step {
  return (x, states) => {
    const [y, s1] = first(x, states.slice(0, firstStates));
    const [out, s2] = second(y, states.slice(firstStates));
    return [out, [...s1, ...s2]];
  };
}

export interface RefOptions {
  mask?: boolean[][];
  goBackwards?: boolean;
  zeroOutputForMask?: boolean;
}

/**
 * Runs `step` over each sample of x [batch][time][features] from `initial` [state][batch][size]:
 * a masked step keeps the states and repeats the previous output (zeros at first), or outputs
 * zeros. Outputs come in the order the steps ran.
 */
export function runRef(step: Step, x: number[][][], initial: Mat[], outputSize: number, options: RefOptions = {}): { outputs: number[][][]; last: Mat; states: Mat[] } {
  const outputs: number[][][] = [];
  const last: Mat = [];
  const finals: Mat[] = initial.map(() => []);
  x.forEach((seq, b) => {
    let states = initial.map((s) => s[b]);
    let previous = new Array<number>(outputSize).fill(0);
    const outs: number[][] = [];
    const order = seq.map((_, t) => t);
    if (options.goBackwards) order.reverse();
    for (const t of order) {
      let [out, next] = step(seq[t], states);
      if (options.mask && !options.mask[b][t]) {
        out = options.zeroOutputForMask ? out.map(() => 0) : previous;
        next = states;
      }
      outs.push(out);
      previous = out;
      states = next;
    }
    outputs.push(outs);
    last.push(previous);
    states.forEach((s, i) => finals[i].push(s));
  });
  return { outputs, last, states: finals };
}

/** Every number of nested arrays, flat, for toBeCloseTo-style comparisons. */
export const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);

export function expectClose(actual: unknown, expected: unknown, tol: number, what = ''): void {
  const a = flat(actual);
  const e = flat(expected);
  if (a.length !== e.length) throw new Error(`${what}: ${a.length} values, expected ${e.length}`);
  a.forEach((v, i) => {
    if (!(Math.abs(v - e[i]) <= tol * (1 + Math.abs(e[i])))) throw new Error(`${what}[${i}]: got ${v}, expected ${e[i]} (tolerance ${tol})`);
  });
}

/**
 * Keras's implementation 1, used under recurrent dropout: each gate g takes its own masked copy
 * of the input (dp[g]) and of the previous h (rec[g]); c and the GRU's mix use the unmasked ones.
 */
export function lstmStepPerGate(kernel: Mat, recurrent: Mat, bias: number[], dp: Mat, rec: Mat): Step {
  const u = recurrent.length;
  return (x, [h, c]) => {
    const z = [0, 1, 2, 3].flatMap((g) => {
      const xg = vecMat(x.map((v, i) => v * dp[g][i]), cols(kernel, g * u, (g + 1) * u));
      const hg = vecMat(h.map((v, i) => v * rec[g][i]), cols(recurrent, g * u, (g + 1) * u));
      return xg.map((v, j) => v + hg[j] + bias[g * u + j]);
    });
    const gate = (g: number) => z.slice(g * u, (g + 1) * u);
    const [i, f, o] = [gate(0), gate(1), gate(3)].map((v) => v.map(sigmoid));
    const cNew = c.map((cj, j) => f[j] * cj + i[j] * Math.tanh(gate(2)[j]));
    const hNew = cNew.map((cj, j) => o[j] * Math.tanh(cj));
    return [hNew, [hNew, cNew]];
  };
}

export function gruStepPerGate(kernel: Mat, recurrent: Mat, bias: number[], dp: Mat, rec: Mat): Step {
  const u = recurrent.length;
  return (x, [h]) => {
    const xs = [0, 1, 2].map((g) => vecMat(x.map((v, i) => v * dp[g][i]), cols(kernel, g * u, (g + 1) * u)).map((v, j) => v + bias[g * u + j]));
    const hs = [0, 1].map((g) => vecMat(h.map((v, i) => v * rec[g][i]), cols(recurrent, g * u, (g + 1) * u)));
    const z = xs[0].map((v, j) => sigmoid(v + hs[0][j]));
    const r = xs[1].map((v, j) => sigmoid(v + hs[1][j]));
    const rh = vecMat(h.map((v, j) => r[j] * v * rec[2][j]), cols(recurrent, 2 * u, 3 * u));
    const cand = xs[2].map((v, j) => Math.tanh(v + rh[j]));
    const hNew = h.map((hj, j) => z[j] * hj + (1 - z[j]) * cand[j]);
    return [hNew, [hNew]];
  };
}
