import type { ConvGeometry, FusedActivation, TypedArray } from '../../contract.js';
import { ACTIVATE, activationGrad } from './activation.js';

/** Every index of `shape`, row-major. */
function indices(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of shape) out = out.flatMap((prefix) => Array.from({ length: n }, (_, i) => [...prefix, i]));
  return out;
}

const product = (shape: readonly number[]) => shape.reduce((p, n) => p * n, 1);

/**
 * For each output position (row-major over O), the kernel positions whose input position falls
 * inside x, as [k, s]: k indexes the kernel's spatial positions K, s the input's S (both
 * row-major). Positions in the padding read 0, so they are simply left out.
 */
function taps(S: readonly number[], K: readonly number[], O: readonly number[], g: ConvGeometry): [number, number][][] {
  const kernel = indices(K);
  return indices(O).map((o) => kernel.flatMap((k, kAt): [number, number][] => {
    let s = 0;
    for (let i = 0; i < S.length; i++) {
      const p = o[i] * g.strides[i] + k[i] * g.dilations[i] - g.padsBefore[i];
      if (p < 0 || p >= S[i]) return [];
      s = s * S[i] + p;
    }
    return [[kAt, s]];
  }));
}

/** The sizes a convolution's loops run over, from x [N, ...S, C], w [...K, C / groups, F] and out [N, ...O, F]. */
function dims(xShape: readonly number[], wShape: readonly number[], outShape: readonly number[], g: ConvGeometry) {
  const d = xShape.length - 2;
  const F = wShape[d + 1];
  return {
    N: xShape[0],
    C: xShape[d + 1],
    F,
    /** Input channels per group, and filters per group. */
    cg: wShape[d],
    fg: F / g.groups,
    sSize: product(xShape.slice(1, d + 1)),
    oSize: product(outShape.slice(1, d + 1)),
    reads: taps(xShape.slice(1, d + 1), wShape.slice(0, d), outShape.slice(1, d + 1), g),
  };
}

/**
 * out[n, o, f] = act(bias[f] + Σ x[n, o·stride + k·dilation - padBefore, group's channels] ·
 * w[k, c, f]), channels last, with 1 to 3 spatial axes.
 */
export function conv(
  x: TypedArray, xShape: readonly number[], w: TypedArray, wShape: readonly number[], bias: TypedArray | null,
  geometry: ConvGeometry, activation: FusedActivation, out: TypedArray, outShape: readonly number[],
): void {
  const { N, C, F, cg, fg, sSize, oSize, reads } = dims(xShape, wShape, outShape, geometry);
  const act = ACTIVATE[activation];
  for (let n = 0; n < N; n++) {
    reads.forEach((list, o) => {
      for (let f = 0; f < F; f++) {
        const c0 = Math.floor(f / fg) * cg;
        let sum = 0;
        for (const [k, s] of list) {
          const xRow = (n * sSize + s) * C + c0;
          const wRow = k * cg * F + f;
          for (let c = 0; c < cg; c++) sum += x[xRow + c] * w[wRow + c * F];
        }
        const at = (n * oSize + o) * F + f;
        // the sum lands in out first, so float32 rounds it before the bias is added, as the
        // composed matmul-then-add does
        out[at] = sum;
        out[at] = act(bias ? out[at] + bias[f] : out[at]);
      }
    });
  }
}

/**
 * conv's backward from its output y and y's gradient dy: dz = dy · act'(y); dx gets every
 * dz · w term at the input position it came from, dw every dz · x term, dBias dz summed over
 * everything but the filters; each only when wanted. Sums run in float64 and are stored once.
 */
export function convGrad(
  dy: TypedArray, y: TypedArray, dyShape: readonly number[], x: TypedArray, xShape: readonly number[],
  w: TypedArray, wShape: readonly number[], geometry: ConvGeometry, activation: FusedActivation,
  dx: TypedArray | null, dw: TypedArray | null, dBias: TypedArray | null,
): void {
  const { N, C, F, cg, fg, sSize, oSize, reads } = dims(xShape, wShape, dyShape, geometry);
  const dz = activationGrad(dy, y, activation);
  const gx = dx && new Float64Array(dx.length);
  const gw = dw && new Float64Array(dw.length);
  const gb = dBias && new Float64Array(dBias.length);
  for (let n = 0; n < N; n++) {
    reads.forEach((list, o) => {
      for (let f = 0; f < F; f++) {
        const g = dz[(n * oSize + o) * F + f];
        if (gb) gb[f] += g;
        const c0 = Math.floor(f / fg) * cg;
        for (const [k, s] of list) {
          const xRow = (n * sSize + s) * C + c0;
          const wRow = k * cg * F + f;
          for (let c = 0; c < cg; c++) {
            if (gx) gx[xRow + c] += g * w[wRow + c * F];
            if (gw) gw[wRow + c * F] += g * x[xRow + c];
          }
        }
      }
    });
  }
  if (dx && gx) dx.set(gx);
  if (dw && gw) dw.set(gw);
  if (dBias && gb) dBias.set(gb);
}
