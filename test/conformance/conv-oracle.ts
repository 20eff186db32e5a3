/**
 * Convolutions written out as their definitions, in float64 and plain loops over every index,
 * for the conformance tests (conv.test.ts, fused.test.ts) to compare kiln's kernels and ops
 * with. Channels last: x [N, ...S, C], w [...K, C / groups, F], out [N, ...O, F].
 */

export interface ConvGeometryRef {
  xShape: readonly number[];
  wShape: readonly number[];
  strides: readonly number[];
  dilations: readonly number[];
  padsBefore: readonly number[];
  /** The output's spatial sizes. */
  outSpatial: readonly number[];
  groups: number;
}

export const prod = (shape: readonly number[]): number => shape.reduce((p, n) => p * n, 1);

/** The index of flat position `at` in a row-major array of `shape`. */
export function unravel(at: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = at % shape[d];
    at = Math.floor(at / shape[d]);
  }
  return idx;
}

/** The flat position of `idx` in a row-major array of `shape`. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  return idx.reduce((at, i, d) => at * shape[d] + i, 0);
}

export function outShapeOf(g: ConvGeometryRef): number[] {
  return [g.xShape[0], ...g.outSpatial, g.wShape[g.wShape.length - 1]];
}

/**
 * Each term of the convolution: calls `term(outAt, xAt, wAt, f)` for every output element,
 * kernel position and channel whose input position lies inside x (padding adds nothing).
 */
function eachTerm(g: ConvGeometryRef, term: (outAt: number, xAt: number, wAt: number, f: number) => void): void {
  const d = g.xShape.length - 2;
  const S = g.xShape.slice(1, d + 1);
  const K = g.wShape.slice(0, d);
  const [cg, F] = [g.wShape[d], g.wShape[d + 1]];
  const out = outShapeOf(g);
  for (let outAt = 0; outAt < prod(out); outAt++) {
    const [n, ...rest] = unravel(outAt, out);
    const f = rest.pop()!;
    const group = Math.floor(f / (F / g.groups));
    for (let kAt = 0; kAt < prod(K); kAt++) {
      const k = unravel(kAt, K);
      const p = rest.map((o, i) => o * g.strides[i] + k[i] * g.dilations[i] - g.padsBefore[i]);
      if (p.some((pi, i) => pi < 0 || pi >= S[i])) continue;
      for (let c = 0; c < cg; c++) term(outAt, ravel([n, ...p, group * cg + c], g.xShape), ravel([...k, c, f], g.wShape), f);
    }
  }
}

/** out = bias + Σ x · w, before any activation. */
export function convRef(x: readonly number[], w: readonly number[], bias: readonly number[] | null, g: ConvGeometryRef): number[] {
  const F = g.wShape[g.wShape.length - 1];
  const out = Array.from({ length: prod(outShapeOf(g)) }, (_, at) => (bias ? bias[at % F] : 0));
  eachTerm(g, (outAt, xAt, wAt) => {
    out[outAt] += x[xAt] * w[wAt];
  });
  return out;
}

/** Given dz (the gradient of out before any bias or activation): dx, dw and dBias by the chain rule, term by term. */
export function convGradRef(dz: readonly number[], x: readonly number[], w: readonly number[], g: ConvGeometryRef) {
  const F = g.wShape[g.wShape.length - 1];
  const dx = new Array<number>(x.length).fill(0);
  const dw = new Array<number>(w.length).fill(0);
  const dBias = new Array<number>(F).fill(0);
  dz.forEach((v, at) => (dBias[at % F] += v));
  eachTerm(g, (outAt, xAt, wAt) => {
    dx[xAt] += dz[outAt] * w[wAt];
    dw[wAt] += dz[outAt] * x[xAt];
  });
  return { dx, dw, dBias };
}

/** Keras's 'same' padding of one axis (as TF): ceil(S / s) outputs, the odd pad after. */
export function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** [N, ...S, C] values rearranged as [N, C, ...S]; `shape` is the channels-last one. */
export function channelsFirstOf(values: readonly number[], shape: readonly number[]): number[] {
  const first = [shape[0], shape[shape.length - 1], ...shape.slice(1, -1)];
  return Array.from({ length: values.length }, (_, at) => {
    const [n, c, ...rest] = unravel(at, first);
    return values[ravel([n, ...rest, c], shape)];
  });
}

/** Deterministic values in [lo, hi) (a linear congruential generator, so cases are repeatable). */
export function values(count: number, seed: number, lo = -1, hi = 1): number[] {
  let s = (seed * 2654435761 + 1) >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}
