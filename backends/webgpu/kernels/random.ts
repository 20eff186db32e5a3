import type { RandomDist, TensorInfo } from '../../contract.js';
import { sizeOf } from '../../contract.js';
import { mathLibrary } from './math.js';
import { MAIN, grid, storage, type GpuContext } from './wgsl.js';

/**
 * Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC11): block b
 * is the 4 words of the keyed bijection of the counter [b, 0, 0, 0], the same bits as reference's
 * and native's. WGSL has no 32x32 -> 64-bit multiply: the high word is assembled from 16-bit
 * halves, every partial product fitting a u32.
 */
const PHILOX = `
fn mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let cross1 = ah * bl;
  let cross2 = al * bh;
  let carry = (((al * bl) >> 16u) + (cross1 & 0xffffu) + (cross2 & 0xffffu)) >> 16u;
  return ah * bh + (cross1 >> 16u) + (cross2 >> 16u) + carry;
}
fn philox(block: u32, key: vec2<u32>) -> vec4<u32> {
  var c = vec4<u32>(block, 0u, 0u, 0u);
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    if (round > 0u) { k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u); }
    let hi0 = mulhi(0xd2511f53u, c.x);
    let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi(0xcd9e8d57u, c.z);
    let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}
// sin and cos of 2π·w·2^-24 for a 24-bit w: the turn's quarter q is taken off in integers, so
// the angle left, at most π/4, is exact before its one multiplication by 2π·2^-24.
fn turn(w: u32) -> vec2<f32> {
  let q = (w + 0x200000u) >> 22u;
  let r = f32(i32(w) - i32(q << 22u)) * 3.7450702829239286e-7;
  let s = m_sin_poly(r);
  let c = m_cos_poly(r);
  switch (q & 3u) {
    case 1u: { return vec2<f32>(c, -s); }
    case 2u: { return vec2<f32>(-s, -c); }
    case 3u: { return vec2<f32>(-c, s); }
    default: { return vec2<f32>(s, c); }
  }
}`;

/**
 * out[i] from word i % 4 of block floor(i / 4). uniform: (word >>> 8)·2^-24, exact in float32.
 * normal: Box–Muller on the block's pairs (0, 1) and (2, 3): u1 = ((w0 >>> 8) + 1)·2^-24 in
 * (0, 1], r = sqrt(-2 ln u1), even element r·cos(2π u2), odd r·sin(2π u2), u2 = (w1 >>> 8)·2^-24.
 */
export function random(ctx: GpuContext, dist: RandomDist, key: readonly [number, number], out: TensorInfo): void {
  const n = sizeOf(out.shape);
  const value = dist === 'uniform'
    ? 'f32(w[i & 3u] >> 8u) * 5.9604644775390625e-8'
    : `sqrt(-2.0 * m_log(f32((w[i & 2u] >> 8u) + 1u) * 5.9604644775390625e-8)) * select(cs.y, cs.x, (i & 1u) == 1u)`;
  ctx.dispatch({
    key: `random:${dist}`,
    code: (decl) => `${decl}
${storage(1, 'y', 'f32', 'write')}
${mathLibrary(['log', 'sincos'])}
${PHILOX}
${MAIN}
  if (i >= p(0u)) { return; }
  let w = philox(i >> 2u, vec2<u32>(p(1u), p(2u)));
  ${dist === 'normal' ? 'let cs = turn(w[(i & 2u) + 1u] >> 8u);' : ''}
  y[i] = ${value};
}`,
    bindings: [[ctx.buffer(out), 'write']],
    params: [n, key[0] >>> 0, key[1] >>> 0],
    groups: grid(n),
  });
}
