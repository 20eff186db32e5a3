/**
 * Pooling written out as direct loops over plain arrays, in float64, for the tests: Keras's
 * geometry from the formulas in its documentation, and each output as the max or mean of the
 * input positions its window covers inside the input. Shared by the conformance, fused-kernel
 * and layer tests; nothing here calls kiln.
 */

export interface PoolGeometryRef {
  window: number[];
  strides: number[];
  padsBefore: number[];
  /** The output's spatial sizes. */
  out: number[];
}

/**
 * Per spatial axis: 'valid' gives floor((S - K) / s) + 1 outputs and no padding; 'same' gives
 * ceil(S / s) outputs and pads max((out - 1)·s + K - S, 0) in all, floor(half) of it before.
 */
export function kerasGeometry(spatial: readonly number[], window: readonly number[], strides: readonly number[], padding: 'valid' | 'same'): PoolGeometryRef {
  const out = spatial.map((s, d) => (padding === 'valid' ? Math.floor((s - window[d]) / strides[d]) + 1 : Math.ceil(s / strides[d])));
  const padsBefore = spatial.map((s, d) => (padding === 'valid' ? 0 : Math.floor(Math.max((out[d] - 1) * strides[d] + window[d] - s, 0) / 2)));
  return { window: [...window], strides: [...strides], padsBefore, out };
}

/** Every index of `shape`, row-major. */
function allIndices(shape: readonly number[]): number[][] {
  return shape.reduce<number[][]>((acc, n) => acc.flatMap((i) => Array.from({ length: n }, (_, k) => [...i, k])), [[]]);
}

/** The flat offset of an index in a row-major `shape`. */
function offsetOf(index: readonly number[], shape: readonly number[]): number {
  return index.reduce((o, i, d) => o * shape[d] + i, 0);
}

/**
 * For x [N, ...S, C] and each output element in row-major order: the flat offsets into x that
 * its window covers inside the input.
 */
function windowsRef(shape: readonly number[], g: PoolGeometryRef): number[][] {
  const [batch, ...rest] = shape;
  const spatial = rest.slice(0, -1);
  const channels = rest[rest.length - 1];
  const result: number[][] = [];
  for (const [n, ...o] of allIndices([batch, ...g.out])) {
    for (let c = 0; c < channels; c++) {
      const inside: number[] = [];
      for (const k of allIndices(g.window)) {
        const at = o.map((od, d) => od * g.strides[d] + k[d] - g.padsBefore[d]);
        if (at.every((i, d) => i >= 0 && i < spatial[d])) inside.push(offsetOf([n, ...at, c], shape));
      }
      result.push(inside);
    }
  }
  return result;
}

/** The output shape [N, ...out, C]. */
export function pooledShape(shape: readonly number[], g: PoolGeometryRef): number[] {
  return [shape[0], ...g.out, shape[shape.length - 1]];
}

/** Max (NaN if the window holds one; Math.max says so) or mean of each window's inside values. */
export function poolRef(op: 'max' | 'avg', x: readonly number[], shape: readonly number[], g: PoolGeometryRef): number[] {
  return windowsRef(shape, g).map((inside) => {
    const vs = inside.map((i) => x[i]);
    return op === 'max' ? Math.max(...vs) : vs.reduce((a, b) => a + b, 0) / vs.length;
  });
}

/**
 * The gradient of Σ dy·pool(x) with respect to x: an average sends dy / count to each inside
 * position; a max sends dy in equal shares to the positions that tie for it, and a window whose
 * max is NaN sends NaN to all its positions (kiln's max reduction does the same).
 */
export function poolGradRef(op: 'max' | 'avg', dy: readonly number[], x: readonly number[], shape: readonly number[], g: PoolGeometryRef): number[] {
  const dx = new Array<number>(x.length).fill(0);
  windowsRef(shape, g).forEach((inside, o) => {
    if (op === 'avg') {
      for (const i of inside) dx[i] += dy[o] / inside.length;
      return;
    }
    const m = Math.max(...inside.map((i) => x[i]));
    const ties = Number.isNaN(m) ? inside : inside.filter((i) => x[i] === m);
    for (const i of ties) dx[i] += Number.isNaN(m) ? NaN : dy[o] / ties.length;
  });
  return dx;
}
