import type { PoolGeometry, PoolOp, TypedArray } from '../../contract.js';

/** For each output position along one axis, the input positions its window covers inside [0, size). */
function axisWindows(size: number, outSize: number, window: number, stride: number, before: number): number[][] {
  return Array.from({ length: outSize }, (_, o) => {
    const inside: number[] = [];
    for (let k = 0; k < window; k++) {
      const i = o * stride + k - before;
      if (i >= 0 && i < size) inside.push(i);
    }
    return inside;
  });
}

/**
 * For each output position (row-major over the output's spatial axes), the flat row-major
 * indices over the input's spatial axes that its window covers; padding is simply absent, which
 * is what keeps it out of a max and out of an average's count.
 */
function windowsOf(spatial: readonly number[], outSpatial: readonly number[], g: PoolGeometry): number[][] {
  let windows: number[][] = [[0]];
  spatial.forEach((size, d) => {
    const axis = axisWindows(size, outSpatial[d], g.window[d], g.strides[d], g.padsBefore[d]);
    windows = windows.flatMap((w) => axis.map((a) => w.flatMap((p) => a.map((i) => p * size + i))));
  });
  return windows;
}

/** The layout both kernels walk: x [batch, ...spatial, channels], out [batch, ...outSpatial, channels]. */
function layoutOf(xShape: readonly number[], outShape: readonly number[], g: PoolGeometry) {
  const channels = xShape[xShape.length - 1];
  const windows = windowsOf(xShape.slice(1, -1), outShape.slice(1, -1), g);
  const xPerSample = xShape.slice(1).reduce((a, b) => a * b, 1);
  return { batch: xShape[0], channels, windows, xPerSample, outPerSample: windows.length * channels };
}

/**
 * Max (NaN wins, as in the max reduction) or mean of each window's inside positions, per
 * channel: x [N, ...S, C] → out [N, ...O, C].
 */
export function pool(
  op: PoolOp, x: TypedArray, xShape: readonly number[], g: PoolGeometry, out: TypedArray, outShape: readonly number[],
): void {
  const { batch, channels, windows, xPerSample, outPerSample } = layoutOf(xShape, outShape, g);
  for (let n = 0; n < batch; n++) {
    windows.forEach((inside, p) => {
      for (let c = 0; c < channels; c++) {
        let acc = op === 'max' ? -Infinity : 0;
        for (const i of inside) {
          const v = x[n * xPerSample + i * channels + c];
          if (op === 'avg') acc += v;
          else if (v > acc || v !== v) acc = v;
        }
        out[n * outPerSample + p * channels + c] = op === 'max' ? acc : acc / inside.length;
      }
    });
  }
}

/**
 * pool's backward into a zeroed dx: an average sends dy / count to each inside position; a max
 * sends dy / ties to each inside position equal to the window's max y. `hit · (dy / ties)` is
 * written as the composition computes it, so a window whose max is NaN (no position equals it)
 * sends NaN to all of its positions, as kiln's max reduction does.
 */
export function poolGrad(
  op: PoolOp, dy: TypedArray, x: TypedArray, y: TypedArray, xShape: readonly number[], g: PoolGeometry,
  dx: TypedArray, outShape: readonly number[],
): void {
  const { batch, channels, windows, xPerSample, outPerSample } = layoutOf(xShape, outShape, g);
  dx.fill(0);
  for (let n = 0; n < batch; n++) {
    windows.forEach((inside, p) => {
      for (let c = 0; c < channels; c++) {
        const o = n * outPerSample + p * channels + c;
        const at = (i: number) => n * xPerSample + i * channels + c;
        if (op === 'avg') {
          for (const i of inside) dx[at(i)] += dy[o] / inside.length;
          continue;
        }
        const ties = inside.filter((i) => x[at(i)] === y[o]).length;
        for (const i of inside) dx[at(i)] += (x[at(i)] === y[o] ? 1 : 0) * (dy[o] / ties);
      }
    });
  }
}
