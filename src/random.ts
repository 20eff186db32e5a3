import type { DType, RandomDist } from '../backends/contract.js';
import { typedArrayFor } from '../backends/contract.js';
import { checkAllocation } from './limits.js';
import { ENGINE, type Primitive } from './engine.js';
import { fail } from './errors.js';
import { checkDType, isFloat } from './dtype.js';
import { checkShape } from './shape.js';
import type { Tensor } from './tensor.js';
import { asTensor, type TensorLike } from './convert.js';
import { take } from './ops/indexing.js';
import { add, multiply } from './ops/binary.js';

/**
 * Where kiln's randomness comes from. A Generator (xoshiro128**, seeded by `setSeed` or a
 * per-call `seed`) is the host-side source: it gives each device draw its key, and it draws
 * directly what needs host values (truncatedNormal's rejection, Orthogonal's QR, shuffling
 * orders, randint). `normal` and `uniform`, which dropout and noise layers call every step, are
 * drawn on the device by the backend's Philox kernel under that key: no host array and no
 * upload, and the same key gives the same numbers on every backend.
 */
export class Generator {
  private s = new Uint32Array(4);

  constructor(seed: number) {
    // splitmix32 spreads one seed over the 128-bit state, so nearby seeds give unrelated streams
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  private nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    return ((this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6)) / 9007199254740992;
  }

  /** A key for the device's Philox generator: two words of this stream. */
  key(): [number, number] {
    return [this.nextUint32(), this.nextUint32()];
  }

  /** Standard normal by Box–Muller (the cosine branch only: simpler, and as exact). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

let global = new Generator((Math.random() * 2 ** 32) >>> 0);

/** Makes every later random draw in kiln (ops, initializers, dropout, shuffling) reproducible. */
export function setSeed(seed: number): void {
  global = new Generator(checkSeed('setSeed', seed));
}

/** A fresh integer seed from the global stream (for layers that keep their own generator). */
export function nextSeed(): number {
  return Math.floor(global.next() * 2 ** 32);
}

/** The largest seed: the generator is seeded from 32 bits, so a larger one would repeat a smaller one's stream. */
export const MAX_SEED = 2 ** 32 - 1;

/** `seed` if it is an integer in [0, MAX_SEED]. */
export function checkSeed(op: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    fail(op, `expected an integer seed, got ${typeof seed === 'number' ? seed : JSON.stringify(seed)} (a seed is an integer in [0, ${MAX_SEED}])`);
  }
  return seed;
}

/** The generator a `seed` option names (the global stream when undefined). */
export function generatorFor(seed: number | undefined): Generator {
  if (seed === undefined) return global;
  return new Generator(checkSeed('random', seed));
}

function checkDraw(op: string, shape: readonly number[], dtype: DType | undefined): [number[], DType, number] {
  const s = checkShape(op, shape) as number[];
  const dt = checkDType(op, dtype ?? 'float32');
  if (!isFloat(dt) && op !== 'randint') fail(op, `dtype must be float32 or float64, got ${dt}`);
  return [s, dt, checkAllocation(op, s, dt)];
}

/** Draws on the host with `sample` and uploads: for the draws a counter-based kernel cannot make. */
function hostDraw(op: string, shape: readonly number[], dtype: DType | undefined, sample: () => number): Tensor {
  const [s, dt, size] = checkDraw(op, shape, dtype);
  const data = typedArrayFor(dt, size);
  for (let i = 0; i < data.length; i++) data[i] = sample();
  return ENGINE.upload(data, s, dt, op);
}

const RANDOM: Primitive<{ dist: RandomDist; key: [number, number]; shape: readonly number[]; dtype: DType }> = {
  name: 'random',
  infer: (_, { shape, dtype }) => ({ shape, dtype }),
  run: (backend, _, out, { dist, key }) => backend.random(dist, key, out),
};

/** `dist` drawn on the device under the next key of `seed`'s generator, then `scale` and `shift` applied with ops. */
function deviceDraw(op: string, dist: RandomDist, shape: readonly number[], dtype: DType | undefined, seed: number | undefined, scale: number, shift: number): Tensor {
  const [s, dt] = checkDraw(op, shape, dtype);
  const key = generatorFor(seed).key();
  return ENGINE.tidy(() => {
    let t = ENGINE.run(RANDOM, [], { dist, key, shape: s, dtype: dt });
    if (scale !== 1) t = multiply(t, scale);
    return shift === 0 ? t : add(t, shift);
  });
}

export interface NormalOptions {
  mean?: number;
  stddev?: number;
  dtype?: DType;
  seed?: number;
}

/** Normally distributed values (keras.random.normal), drawn on the device. */
export function normal(shape: readonly number[], { mean = 0, stddev = 1, dtype, seed }: NormalOptions = {}): Tensor {
  return deviceDraw('normal', 'normal', shape, dtype, seed, stddev, mean);
}

/** Normal values redrawn until within two standard deviations of the mean (keras.random.truncated_normal). */
export function truncatedNormal(shape: readonly number[], { mean = 0, stddev = 1, dtype, seed }: NormalOptions = {}): Tensor {
  const g = generatorFor(seed);
  // rejection needs to look at each value, so these are drawn on the host (initializers only)
  return hostDraw('truncatedNormal', shape, dtype, () => {
    let z: number;
    do z = g.normal(); while (Math.abs(z) > 2);
    return mean + stddev * z;
  });
}

export interface UniformOptions {
  minval?: number;
  maxval?: number;
  dtype?: DType;
  seed?: number;
}

/** Uniform values in [minval, maxval) (keras.random.uniform), drawn on the device: minval + u·(maxval - minval). */
export function uniform(shape: readonly number[], { minval = 0, maxval = 1, dtype, seed }: UniformOptions = {}): Tensor {
  if (!(maxval > minval)) fail('uniform', `maxval must exceed minval, got minval=${minval}, maxval=${maxval}`);
  return deviceDraw('uniform', 'uniform', shape, dtype, seed, maxval - minval, minval);
}

/** Integers uniform in [minval, maxval) (keras.random.randint). */
export function randint(shape: readonly number[], minval: number, maxval: number, { dtype = 'int32', seed }: { dtype?: DType; seed?: number } = {}): Tensor {
  if (!Number.isInteger(minval) || !Number.isInteger(maxval) || maxval <= minval) {
    fail('randint', `expected integers minval < maxval, got minval=${minval}, maxval=${maxval}`);
  }
  const g = generatorFor(seed);
  return hostDraw('randint', shape, dtype, () => minval + Math.floor((maxval - minval) * g.next()));
}

/** A random permutation of the indices 0…n-1 (Fisher–Yates). */
export function permutation(n: number, seed?: number): Int32Array {
  const g = generatorFor(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(g.next() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** `x` with its slices along `axis` in random order (keras.random.shuffle). */
export function shuffle(x: TensorLike, { axis = 0, seed }: { axis?: number; seed?: number } = {}): Tensor {
  const t = asTensor(x, 'shuffle');
  if (t.rank === 0) fail('shuffle', 'expected a tensor of rank >= 1, got a scalar');
  const ax = axis < 0 ? axis + t.rank : axis;
  if (ax < 0 || ax >= t.rank) fail('shuffle', `axis ${axis} is out of range for rank ${t.rank}`);
  // the order is on the host, so take checks it there: no device check to settle later
  return take(t, permutation(t.shape[ax], seed), ax);
}
