import type { RandomDist, TypedArray } from '../../contract.js';

// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC11), the
// generator of Random123, cuRAND, JAX and PyTorch: a keyed bijection of a 128-bit counter, so
// any element can be computed alone, in any order, on any device, and give the same bits.
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** The high 32 bits of the 64-bit product of two uint32, from 16-bit halves (every partial sum is exact in a double). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const cross1 = ah * bl;
  const cross2 = al * bh;
  const carry = (((al * bl) >>> 16) + (cross1 & 0xffff) + (cross2 & 0xffff)) >>> 16;
  return (ah * bh + (cross1 >>> 16) + (cross2 >>> 16) + carry) >>> 0;
}

/** The four words of Philox 4x32-10 for `counter` under `key`, written into `out`. */
export function philox(counter: readonly number[], key: readonly number[], out: Uint32Array): void {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

const TWO_TO_MINUS_24 = 2 ** -24;

/**
 * out[i] from word i % 4 of block floor(i / 4): uniform (word >>> 8)·2^-24, 24 bits so that a
 * float32 holds it exactly and it stays below 1; or normal by Box–Muller on word pairs, the
 * cosine to the even element and the sine to the odd one. Computed in float64, stored rounded.
 */
export function random(dist: RandomDist, key: readonly [number, number], out: TypedArray): void {
  const words = new Uint32Array(4);
  const k = [key[0] >>> 0, key[1] >>> 0];
  for (let block = 0; block * 4 < out.length; block++) {
    philox([block, 0, 0, 0], k, words);
    const end = Math.min(4, out.length - block * 4);
    for (let j = 0; j < end; j++) {
      const i = block * 4 + j;
      if (dist === 'uniform') {
        out[i] = (words[j] >>> 8) * TWO_TO_MINUS_24;
      } else {
        const pair = j & ~1;
        const u1 = ((words[pair] >>> 8) + 1) * TWO_TO_MINUS_24;
        const u2 = (words[pair + 1] >>> 8) * TWO_TO_MINUS_24;
        const r = Math.sqrt(-2 * Math.log(u1));
        out[i] = r * (j % 2 === 0 ? Math.cos(2 * Math.PI * u2) : Math.sin(2 * Math.PI * u2));
      }
    }
  }
}
