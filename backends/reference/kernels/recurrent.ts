import type { TypedArray } from '../../contract.js';
import { ACTIVATE } from './activation.js';

const sigmoid = ACTIVATE.sigmoid;
const tanh = Math.tanh;

/**
 * A recurrent call's sizes: B rows, T steps, U units, G gate blocks in xProj and the kernel, S
 * slots of U values in each step's record (the contract's lstm describes the layout).
 */
interface Seq {
  B: number;
  T: number;
  U: number;
  G: number;
  S: number;
  mask: TypedArray | null;
  zeroOutputForMask: boolean;
}

function seq(xShape: readonly number[], U: number, G: number, S: number, mask: TypedArray | null, zeroOutputForMask: boolean): Seq {
  return { B: xShape[0], T: xShape[1], U, G, S, mask, zeroOutputForMask };
}

/** Where step (b, t)'s record starts in y. */
const at = (q: Seq, b: number, t: number): number => (b * q.T + t) * q.S * q.U;

const kept = (q: Seq, b: number, t: number): boolean => !q.mask || q.mask[b * q.T + t] !== 0;

/** `n` values of `a` from `from`, as plain numbers. */
const part = (a: TypedArray, from: number, n: number): number[] => Array.from(a.subarray(from, from + n));

/** The state in `slot` before step t of row b: the record's of step t - 1, or the initial one. */
function before(q: Seq, y: TypedArray, init: TypedArray, b: number, t: number, slot: number): number[] {
  return t === 0 ? part(init, b * q.U, q.U) : part(y, at(q, b, t - 1) + slot * q.U, q.U);
}

/** h times the kernel's columns [from, from + n) (the kernel is [U, width]). */
function times(h: readonly number[], kernel: TypedArray, width: number, from: number, n: number): number[] {
  return Array.from({ length: n }, (_, j) => h.reduce((s, hk, k) => s + hk * kernel[k * width + from + j], 0));
}

/** d times the kernel's columns [from, from + d.length) transposed: the gradient reaching h. */
function timesT(d: readonly number[], kernel: TypedArray, width: number, from: number, U: number): number[] {
  return Array.from({ length: U }, (_, k) => d.reduce((s, dj, j) => s + dj * kernel[k * width + from + j], 0));
}

/** dKernel[:, from + j] += hᵀ · d. */
function addOuter(dKernel: TypedArray | null, h: readonly number[], d: readonly number[], width: number, from: number): void {
  if (!dKernel) return;
  h.forEach((hk, k) => d.forEach((dj, j) => { dKernel[k * width + from + j] += hk * dj; }));
}

/**
 * Writes step (b, t): its output (the new h, or on a masked step the previous output, or
 * zeros), its states (a masked step keeps the previous ones) and its extra slots.
 */
function writeStep(q: Seq, y: TypedArray, b: number, t: number, next: number[][], prev: number[][], extras: number[][]): void {
  const o = at(q, b, t);
  const m = kept(q, b, t);
  const zeros = new Array<number>(q.U).fill(0);
  y.set(m ? next[0] : q.zeroOutputForMask || t === 0 ? zeros : part(y, at(q, b, t - 1), q.U), o);
  next.forEach((s, k) => y.set(m ? s : prev[k], o + (k + 1) * q.U));
  extras.forEach((e, k) => y.set(e, o + (1 + next.length + k) * q.U));
}

/**
 * Backward through time for every row, the last step first: the gradients reaching each step's
 * output and states (dy's and those carried from the step after) go to the cell's new states
 * on a kept step, and past the cell on a masked one (whose output repeats the previous one
 * unless zeroOutputForMask). `cell` takes the gradients of its new states, reads the rest of
 * dy itself, writes its dxProj and dKernel terms and returns the gradients of the states before.
 */
function throughTime(
  q: Seq, dy: TypedArray, states: number, initial: (TypedArray | null)[],
  cell: (b: number, t: number, dNext: number[][]) => number[][],
): void {
  const add = (a: number[], c: readonly number[]) => a.map((v, j) => v + c[j]);
  for (let b = 0; b < q.B; b++) {
    let carry = Array.from({ length: states }, () => new Array<number>(q.U).fill(0));
    let carryOut = new Array<number>(q.U).fill(0);
    for (let t = q.T - 1; t >= 0; t--) {
      const o = at(q, b, t);
      const gOut = add(part(dy, o, q.U), carryOut);
      const g = carry.map((c, k) => add(part(dy, o + (k + 1) * q.U, q.U), c));
      const m = kept(q, b, t);
      const dNext = m ? [add(gOut, g[0]), ...g.slice(1)] : g.map((s) => s.map(() => 0));
      const dPrev = cell(b, t, dNext);
      carry = m ? dPrev : dPrev.map((d, k) => add(d, g[k]));
      carryOut = m || q.zeroOutputForMask ? carryOut.fill(0) : gOut;
    }
    initial.forEach((d, k) => d?.set(carry[k], b * q.U));
  }
}

/** The contract's lstm. */
export function lstm(
  x: TypedArray, xShape: readonly number[], h0: TypedArray, c0: TypedArray, kernel: TypedArray, U: number, mask: TypedArray | null,
  zeroOutputForMask: boolean, y: TypedArray,
): void {
  const q = seq(xShape, U, 4, 7, mask, zeroOutputForMask);
  for (let b = 0; b < q.B; b++) {
    for (let t = 0; t < q.T; t++) {
      const h = before(q, y, h0, b, t, 1);
      const c = before(q, y, c0, b, t, 2);
      const xt = (b * q.T + t) * 4 * U;
      const z = times(h, kernel, 4 * U, 0, 4 * U).map((v, j) => x[xt + j] + v);
      const gate = (k: number, f: (v: number) => number) => z.slice(k * U, (k + 1) * U).map(f);
      const [i, f, g, o] = [gate(0, sigmoid), gate(1, sigmoid), gate(2, tanh), gate(3, sigmoid)];
      const cNext = c.map((cj, j) => f[j] * cj + i[j] * g[j]);
      writeStep(q, y, b, t, [cNext.map((cj, j) => o[j] * tanh(cj)), cNext], [h, c], [i, f, g, o]);
    }
  }
}

/** The contract's lstmGrad. */
export function lstmGrad(
  dy: TypedArray, y: TypedArray, xShape: readonly number[], h0: TypedArray, c0: TypedArray, kernel: TypedArray, U: number,
  mask: TypedArray | null, zeroOutputForMask: boolean,
  dxProj: TypedArray | null, dh0: TypedArray | null, dc0: TypedArray | null, dKernel: TypedArray | null,
): void {
  const q = seq(xShape, U, 4, 7, mask, zeroOutputForMask);
  dKernel?.fill(0);
  throughTime(q, dy, 2, [dh0, dc0], (b, t, [dh, dc]) => {
    const o = at(q, b, t);
    const slot = (k: number) => part(y, o + k * U, U);
    const dSlot = (k: number) => part(dy, o + k * U, U);
    const [i, f, g, og] = [slot(3), slot(4), slot(5), slot(6)];
    const tc = slot(2).map(tanh);
    const hPrev = before(q, y, h0, b, t, 1);
    const cPrev = before(q, y, c0, b, t, 2);
    const dct = dc.map((v, j) => v + dh[j] * og[j] * (1 - tc[j] * tc[j]));
    const di = dSlot(3).map((v, j) => (v + dct[j] * g[j]) * i[j] * (1 - i[j]));
    const df = dSlot(4).map((v, j) => (v + dct[j] * cPrev[j]) * f[j] * (1 - f[j]));
    const dg = dSlot(5).map((v, j) => (v + dct[j] * i[j]) * (1 - g[j] * g[j]));
    const dO = dSlot(6).map((v, j) => (v + dh[j] * tc[j]) * og[j] * (1 - og[j]));
    const dz = [...di, ...df, ...dg, ...dO];
    dxProj?.set(dz, (b * q.T + t) * 4 * U);
    addOuter(dKernel, hPrev, dz, 4 * U, 0);
    return [timesT(dz, kernel, 4 * U, 0, U), dct.map((v, j) => v * f[j])];
  });
}

/** The contract's gru. */
export function gru(
  x: TypedArray, xShape: readonly number[], h0: TypedArray, kernel: TypedArray, U: number, bias: TypedArray | null,
  mask: TypedArray | null, resetAfter: boolean, zeroOutputForMask: boolean, y: TypedArray,
): void {
  const q = seq(xShape, U, 3, 6, mask, zeroOutputForMask);
  for (let b = 0; b < q.B; b++) {
    for (let t = 0; t < q.T; t++) {
      const h = before(q, y, h0, b, t, 1);
      const xt = (b * q.T + t) * 3 * U;
      const xs = (k: number) => part(x, xt + k * U, U);
      let z: number[], r: number[], inner: number[], pre: number[];
      if (resetAfter) {
        const all = times(h, kernel, 3 * U, 0, 3 * U).map((v, j) => v + (bias ? bias[j] : 0));
        z = xs(0).map((v, j) => sigmoid(v + all[j]));
        r = xs(1).map((v, j) => sigmoid(v + all[U + j]));
        inner = all.slice(2 * U);
        pre = xs(2).map((v, j) => v + r[j] * inner[j]);
      } else {
        const zr = times(h, kernel, 3 * U, 0, 2 * U);
        z = xs(0).map((v, j) => sigmoid(v + zr[j]));
        r = xs(1).map((v, j) => sigmoid(v + zr[U + j]));
        inner = times(h.map((v, j) => r[j] * v), kernel, 3 * U, 2 * U, U);
        pre = xs(2).map((v, j) => v + inner[j]);
      }
      const hh = pre.map(tanh);
      writeStep(q, y, b, t, [h.map((v, j) => z[j] * v + (1 - z[j]) * hh[j])], [h], [z, r, hh, inner]);
    }
  }
}

/** The contract's gruGrad. */
export function gruGrad(
  dy: TypedArray, y: TypedArray, xShape: readonly number[], h0: TypedArray, kernel: TypedArray, U: number,
  mask: TypedArray | null, resetAfter: boolean, zeroOutputForMask: boolean,
  dxProj: TypedArray | null, dh0: TypedArray | null, dKernel: TypedArray | null, dBias: TypedArray | null,
): void {
  const q = seq(xShape, U, 3, 6, mask, zeroOutputForMask);
  dKernel?.fill(0);
  dBias?.fill(0);
  throughTime(q, dy, 1, [dh0], (b, t, [dh]) => {
    const o = at(q, b, t);
    const slot = (k: number) => part(y, o + k * U, U);
    const dSlot = (k: number) => part(dy, o + k * U, U);
    const [z, r, hh, inner] = [slot(2), slot(3), slot(4), slot(5)];
    const hPrev = before(q, y, h0, b, t, 1);
    const dzv = dSlot(2).map((v, j) => v + dh[j] * hPrev[j] - dh[j] * hh[j]);
    const dpre = dSlot(4).map((v, j) => (v + dh[j] * (1 - z[j])) * (1 - hh[j] * hh[j]));
    const dInner = dSlot(5).map((v, j) => v + (resetAfter ? dpre[j] * r[j] : dpre[j]));
    // resetAfter: r scales inner; before: r scales h inside the product, whose gradient is drh
    const drh = resetAfter ? [] : timesT(dInner, kernel, 3 * U, 2 * U, U);
    const dr = dSlot(3).map((v, j) => (v + (resetAfter ? dpre[j] * inner[j] : drh[j] * hPrev[j])) * r[j] * (1 - r[j]));
    const dz = dzv.map((v, j) => v * z[j] * (1 - z[j]));
    dxProj?.set([...dz, ...dr, ...dpre], (b * q.T + t) * 3 * U);
    const dhPrev = dh.map((v, j) => v * z[j] + (resetAfter ? 0 : drh[j] * r[j]));
    // the gradient of h·U (+ bias), all three blocks when r applies after it, else z's and r's
    const dProduct = resetAfter ? [...dz, ...dr, ...dInner] : [...dz, ...dr];
    addOuter(dKernel, hPrev, dProduct, 3 * U, 0);
    if (resetAfter) dProduct.forEach((v, j) => { if (dBias) dBias[j] += v; });
    else addOuter(dKernel, hPrev.map((v, j) => v * r[j]), dInner, 3 * U, 2 * U);
    const back = timesT(dProduct, kernel, 3 * U, 0, U);
    return [dhPrev.map((v, k) => v + back[k])];
  });
}

/** The contract's simpleRnn. */
export function simpleRnn(
  x: TypedArray, xShape: readonly number[], h0: TypedArray, kernel: TypedArray, U: number, mask: TypedArray | null,
  zeroOutputForMask: boolean, y: TypedArray,
): void {
  const q = seq(xShape, U, 1, 2, mask, zeroOutputForMask);
  for (let b = 0; b < q.B; b++) {
    for (let t = 0; t < q.T; t++) {
      const h = before(q, y, h0, b, t, 1);
      const xt = (b * q.T + t) * U;
      writeStep(q, y, b, t, [times(h, kernel, U, 0, U).map((v, j) => tanh(x[xt + j] + v))], [h], []);
    }
  }
}

/** The contract's simpleRnnGrad. */
export function simpleRnnGrad(
  dy: TypedArray, y: TypedArray, xShape: readonly number[], h0: TypedArray, kernel: TypedArray, U: number,
  mask: TypedArray | null, zeroOutputForMask: boolean,
  dxProj: TypedArray | null, dh0: TypedArray | null, dKernel: TypedArray | null,
): void {
  const q = seq(xShape, U, 1, 2, mask, zeroOutputForMask);
  dKernel?.fill(0);
  throughTime(q, dy, 1, [dh0], (b, t, [dh]) => {
    const hNext = part(y, at(q, b, t) + U, U);
    const dpre = dh.map((v, j) => v * (1 - hNext[j] * hNext[j]));
    dxProj?.set(dpre, (b * q.T + t) * U);
    addOuter(dKernel, before(q, y, h0, b, t, 1), dpre, U, 0);
    return [timesT(dpre, kernel, U, 0, U)];
  });
}
