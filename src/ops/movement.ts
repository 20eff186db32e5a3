import { ENGINE, type Primitive } from '../engine.js';
import { fail, fmtShape } from '../errors.js';
import { checkShape, normalizeAxes, normalizeAxis, shapesEqual, type Dim, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { range } from '../creation.js';
import { cast, resultType } from './select.js';
import { scatterAdd } from './gather.js';

/** The product of the dims, or null when one is unknown. */
export function product(dims: Shape): number | null {
  let n = 1;
  for (const d of dims) {
    if (d === null) return null;
    n *= d;
  }
  return n;
}

const isPermutation = (perm: readonly number[]): boolean =>
  perm.every((p) => Number.isInteger(p)) && [...perm].sort((a, b) => a - b).every((p, i) => p === i);

/** `shape` may hold one -1 (inferred) and, in symbolic shapes, nulls (unknown). */
export const RESHAPE: Primitive<{ shape: Shape }> = {
  name: 'reshape',
  infer([x], { shape }) {
    const size = product(x.shape);
    if (size === null) return { shape: shape.map((d) => (d === -1 ? null : d)), dtype: x.dtype };
    const open = shape.flatMap((d, i) => (d === -1 || d === null ? [i] : []));
    const rest = product(shape.filter((d) => d !== -1 && d !== null))!;
    const into = `cannot reshape ${fmtShape(x.shape)} (${size} elements) into ${fmtShape(shape)}`;
    if (open.length > 1) fail('reshape', `${into}: only one dimension can be inferred`);
    if (open.length === 0) {
      if (rest !== size) fail('reshape', `${into} (${rest} elements)`);
      return { shape, dtype: x.dtype };
    }
    // with zero known elements the inferred dimension could be anything, as NumPy says too
    if (rest === 0 || size % rest !== 0) fail('reshape', `${into}: ${size} is not a multiple of ${rest}`);
    return { shape: shape.map((d, i) => (i === open[0] ? size / rest : d)), dtype: x.dtype };
  },
  grad: (dy, [x]) => [reshape(dy, x.shape)],
};

export const TRANSPOSE: Primitive<{ perm: readonly number[] }> = {
  name: 'transpose',
  infer([x], { perm }) {
    if (perm.length !== x.shape.length || !isPermutation(perm)) {
      fail('transpose', `axes must be a permutation of [0..${x.shape.length - 1}], got ${JSON.stringify(perm)} for shape ${fmtShape(x.shape)}`);
    }
    return { shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
  },
  run: (backend, [x], out, { perm }) => backend.transpose(x, perm, out),
  grad: (dy, _, __, { perm }) => [transpose(dy, perm.map((_p, i) => perm.indexOf(i)))],
};

/**
 * Per axis: `begin` (negative counts from the end), `size` (-1: every element the step reaches)
 * and a non-zero `step`. Both are resolved against the input's shape, so a symbolic slice of an
 * axis of unknown size (flip, split's other axes) records what to do rather than numbers.
 */
interface SliceAttrs {
  begin: readonly number[];
  size: readonly number[];
  step: readonly number[];
}

function resolveSlice(shape: Shape, { begin, size, step }: SliceAttrs): { begin: number[]; shape: Dim[] } {
  if (begin.length !== shape.length || size.length !== shape.length || step.length !== shape.length) {
    fail('slice', `expected begin, size and step of length ${shape.length} for shape ${fmtShape(shape)}, got ${begin.length}, ${size.length} and ${step.length}`);
  }
  const b: number[] = [];
  const out: Dim[] = [];
  shape.forEach((dim, d) => {
    const s = step[d];
    if (!Number.isInteger(s) || s === 0) fail('slice', `steps must be non-zero integers, got ${step[d]} on axis ${d}`);
    if (dim === null) {
      b.push(begin[d]);
      out.push(size[d] === -1 ? null : size[d]);
      return;
    }
    const first = begin[d] < 0 ? begin[d] + dim : begin[d];
    const fits = s > 0 ? Math.ceil((dim - first) / s) : Math.ceil((first + 1) / -s);
    const n = size[d] === -1 ? Math.max(0, fits) : size[d];
    if (n > 0 && (first < 0 || first >= dim || n > fits)) {
      fail('slice', `begin ${begin[d]}, size ${size[d]}, step ${s} reads outside axis ${d} of size ${dim} (shape ${fmtShape(shape)})`);
    }
    // an empty read has no first element; 0 keeps the gradient's pad non-negative
    b.push(n > 0 ? first : 0);
    out.push(n);
  });
  return { begin: b, shape: out };
}

export const SLICE: Primitive<SliceAttrs> = {
  name: 'slice',
  infer: ([x], attrs) => ({ shape: resolveSlice(x.shape, attrs).shape, dtype: x.dtype }),
  run: (backend, [x], out, attrs) => backend.slice(x, resolveSlice(x.shape, attrs).begin, attrs.step, out),
  grad: (dy, [x], _, attrs) => {
    const { begin } = resolveSlice(x.shape, attrs);
    // unit steps are a pad; other steps (negative ones included) put each row back at its index
    let dx = dy;
    const pads = x.shape.map((dim, d): [number, number] => {
      const s = attrs.step[d];
      const n = dy.shape[d];
      if (s === 1) return [begin[d], dim - begin[d] - n];
      dx = scatterAdd(dx, range(begin[d], begin[d] + n * s, s, 'int32'), d, dim);
      return [0, 0];
    });
    return [pads.every(([a, b]) => a === 0 && b === 0) ? dx : ENGINE.run(PAD, [dx], { pads, value: 0 })];
  },
};

export const PAD: Primitive<{ pads: readonly (readonly [number, number])[]; value: number }> = {
  name: 'pad',
  infer([x], { pads }) {
    if (pads.length !== x.shape.length) fail('pad', `expected ${x.shape.length} [before, after] pairs for shape ${fmtShape(x.shape)}, got ${pads.length}`);
    return { shape: x.shape.map((d, i) => (d === null ? null : d + pads[i][0] + pads[i][1])), dtype: x.dtype };
  },
  run: (backend, [x], out, { pads, value }) => backend.pad(x, pads, value, out),
  grad: (dy, [x], _, { pads }) => [
    ENGINE.run(SLICE, [dy], { begin: pads.map((p) => p[0]), size: x.shape, step: x.shape.map(() => 1) }),
  ],
};

export const CONCAT: Primitive<{ axis: number }> = {
  name: 'concatenate',
  infer(xs, { axis }) {
    if (xs.length === 0) fail('concatenate', 'expected at least one tensor, got none');
    const first = xs[0];
    const shape: Dim[] = [...first.shape];
    xs.forEach((x, i) => {
      if (x.dtype !== first.dtype) fail('concatenate', `inputs must share a dtype, got ${first.dtype} and ${x.dtype} (input ${i})`);
      if (x.shape.length !== shape.length) {
        fail('concatenate', `inputs must share a rank: input 0 is ${fmtShape(first.shape)}, input ${i} is ${fmtShape(x.shape)}`);
      }
      if (i === 0) return;
      x.shape.forEach((d, k) => {
        if (k === axis) shape[k] = d === null || shape[k] === null ? null : shape[k]! + d;
        else if (shape[k] === null) shape[k] = d;
        else if (d !== null && d !== shape[k]) {
          fail('concatenate', `input ${i} has shape ${fmtShape(x.shape)}, input 0 has ${fmtShape(first.shape)}: all dimensions but axis ${axis} must match`);
        }
      });
    });
    return { shape, dtype: first.dtype };
  },
  run: (backend, xs, out, { axis }) => backend.concat(xs, axis, out),
  grad: (dy, xs, _, { axis }) => {
    let offset = 0;
    return xs.map((x) => {
      const begin = x.shape.map((__, d) => (d === axis ? offset : 0));
      offset += x.shape[axis];
      return ENGINE.run(SLICE, [dy], { begin, size: x.shape, step: x.shape.map(() => 1) });
    });
  },
};

export const BROADCAST_TO: Primitive<{ shape: Shape }> = {
  name: 'broadcastTo',
  infer([x], { shape }) {
    const lead = shape.length - x.shape.length;
    const bad = () => fail('broadcastTo', `cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    if (lead < 0) bad();
    const out = shape.map((d, i) => {
      const xd = i < lead ? 1 : x.shape[i - lead];
      if (xd !== 1 && xd !== null && d !== null && xd !== d) bad();
      return d === null && xd !== 1 ? xd : d;
    });
    return { shape: out, dtype: x.dtype };
  },
  run: (backend, [x], out) => backend.broadcastTo(x, out),
  // the tape sums the gradient back over the broadcast axes
  grad: (dy) => [dy],
};

/** The same values in a new shape (a view, no copy); one dimension may be -1 (inferred). */
export function reshape(x: TensorLike, shape: Shape): Tensor {
  const t = asTensor(x, 'reshape');
  if (!Array.isArray(shape) || shape.some((d) => d !== null && (!Number.isInteger(d) || d < -1))) {
    fail('reshape', `expected a shape of integers >= -1, got ${JSON.stringify(shape)}`);
  }
  if (shape.filter((d) => d === -1).length > 1) fail('reshape', `only one dimension can be -1, got ${fmtShape(shape)}`);
  return ENGINE.run(RESHAPE, [t], { shape: [...shape] });
}

function checkAxes(op: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => normalizeAxis(op, a, rank));
  if (out.length !== rank || !isPermutation(out)) fail(op, `axes must be a permutation of [0..${rank - 1}], got ${JSON.stringify(axes)}`);
  return out;
}

/** Permutes the axes (default: reversed). */
export function transpose(x: TensorLike, axes?: readonly number[] | null): Tensor {
  const t = asTensor(x, 'transpose');
  const perm = axes == null ? t.shape.map((_, i) => t.rank - 1 - i) : checkAxes('transpose', axes, t.rank);
  if (perm.every((p, i) => p === i)) return t;
  return ENGINE.run(TRANSPOSE, [t], { perm });
}

/** Moves axes `source` to positions `destination`, keeping the others in order (numpy.moveaxis). */
export function moveaxis(x: TensorLike, source: number | readonly number[], destination: number | readonly number[]): Tensor {
  const t = asTensor(x, 'moveaxis');
  const src = (typeof source === 'number' ? [source] : [...source]).map((a) => normalizeAxis('moveaxis', a, t.rank));
  const dst = (typeof destination === 'number' ? [destination] : [...destination]).map((a) => normalizeAxis('moveaxis', a, t.rank));
  if (src.length !== dst.length) fail('moveaxis', `source and destination must have the same length, got ${src.length} and ${dst.length}`);
  if (new Set(src).size !== src.length || new Set(dst).size !== dst.length) fail('moveaxis', 'repeated axis in source or destination');
  const perm = t.shape.map((_, i) => i).filter((i) => !src.includes(i));
  src.map((s, i) => [dst[i], s]).sort((a, b) => a[0] - b[0]).forEach(([d, s]) => perm.splice(d, 0, s));
  return transpose(t, perm);
}

export function swapaxes(x: TensorLike, axis1: number, axis2: number): Tensor {
  const t = asTensor(x, 'swapaxes');
  const perm = t.shape.map((_, i) => i);
  const a = normalizeAxis('swapaxes', axis1, t.rank);
  const b = normalizeAxis('swapaxes', axis2, t.rank);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return transpose(t, perm);
}

/** Inserts size-1 axes at `axis` (positions in the result). */
export function expandDims(x: TensorLike, axis: number | readonly number[]): Tensor {
  const t = asTensor(x, 'expandDims');
  const count = typeof axis === 'number' ? 1 : axis.length;
  const axes = normalizeAxes('expandDims', axis, t.rank + count);
  let j = 0;
  return reshape(t, Array.from({ length: t.rank + count }, (_, i) => (axes.includes(i) ? 1 : t.shape[j++])));
}

/** Removes size-1 axes: those named, or all of them. */
export function squeeze(x: TensorLike, axis?: number | readonly number[] | null): Tensor {
  const t = asTensor(x, 'squeeze');
  const shape: Shape = t.shape;
  if (axis == null) return reshape(t, shape.filter((d) => d !== 1));
  const axes = normalizeAxes('squeeze', axis, t.rank);
  for (const a of axes) {
    if (shape[a] !== 1) fail('squeeze', `axis ${a} has size ${shape[a] ?? 'unknown'}, expected 1 (shape ${fmtShape(shape)})`);
  }
  return reshape(t, shape.filter((_, i) => !axes.includes(i)));
}

/** Joins tensors along an existing axis; dtypes are promoted to a common one. */
export function concatenate(xs: readonly TensorLike[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) fail('concatenate', `expected a non-empty array of tensors, got ${Array.isArray(xs) ? 'an empty array' : typeof xs}`);
  const ts = xs.map((x) => asTensor(x, 'concatenate'));
  if (ts[0].rank === 0) fail('concatenate', 'cannot concatenate scalars (rank 0); use stack');
  const dtype = resultType(...ts.map((t) => t.dtype));
  return ENGINE.run(CONCAT, ts.map((t) => cast(t, dtype)), { axis: normalizeAxis('concatenate', axis, ts[0].rank) });
}

/** Joins tensors of one shape along a new axis. */
export function stack(xs: readonly TensorLike[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) fail('stack', `expected a non-empty array of tensors, got ${Array.isArray(xs) ? 'an empty array' : typeof xs}`);
  const ts = xs.map((x) => asTensor(x, 'stack'));
  ts.forEach((t, i) => {
    const same = t.rank === ts[0].rank && t.shape.every((d, k) => d === ts[0].shape[k] || d === null || ts[0].shape[k] === null);
    if (!same) fail('stack', `all tensors must have one shape: input 0 is ${fmtShape(ts[0].shape)}, input ${i} is ${fmtShape(t.shape)}`);
  });
  const a = normalizeAxis('stack', axis, ts[0].rank + 1);
  return concatenate(ts.map((t) => expandDims(t, a)), a);
}

/**
 * Splits along `axis` into `n` equal sections (a number, which must divide the axis), or at the
 * given indices (an array, as numpy.split: out-of-range indices clamp, giving empty pieces).
 */
export function split(x: TensorLike, indicesOrSections: number | readonly number[], axis = 0): Tensor[] {
  const t = asTensor(x, 'split');
  if (t.rank === 0) fail('split', 'cannot split a scalar (rank 0)');
  const a = normalizeAxis('split', axis, t.rank);
  const n = (t.shape as Shape)[a];
  if (n === null) fail('split', `axis ${a} has unknown size (shape ${fmtShape(t.shape)})`);
  let cuts: number[];
  if (typeof indicesOrSections === 'number') {
    const k = indicesOrSections;
    if (!Number.isInteger(k) || k <= 0) fail('split', `sections must be a positive integer, got ${k}`);
    if (n % k !== 0) fail('split', `axis ${a} of size ${n} does not divide into ${k} equal sections (shape ${fmtShape(t.shape)})`);
    cuts = Array.from({ length: k - 1 }, (_, i) => ((i + 1) * n) / k);
  } else if (Array.isArray(indicesOrSections) && indicesOrSections.every(Number.isInteger)) {
    cuts = indicesOrSections.map((i) => Math.min(n, Math.max(0, i < 0 ? i + n : i)));
  } else {
    return fail('split', `expected a number of sections or an array of integer indices, got ${JSON.stringify(indicesOrSections)}`);
  }
  const ends = [...cuts, n];
  return [0, ...cuts].map((start, i) => ENGINE.run(SLICE, [t], {
    begin: t.shape.map((_, d) => (d === a ? start : 0)),
    size: t.shape.map((_, d) => (d === a ? Math.max(0, ends[i] - start) : -1)),
    step: t.shape.map(() => 1),
  }));
}

/** The block of `shape` starting at `startIndices` (keras.ops.slice); a size of -1 runs to the end. */
export function slice(x: TensorLike, startIndices: readonly number[], shape: readonly number[]): Tensor {
  const t = asTensor(x, 'slice');
  const ok = (v: unknown, min: number) => Array.isArray(v) && v.length === t.rank && v.every((i) => Number.isInteger(i) && i >= min);
  if (!ok(startIndices, 0)) fail('slice', `startIndices must be ${t.rank} integers >= 0 for shape ${fmtShape(t.shape)}, got ${JSON.stringify(startIndices)}`);
  if (!ok(shape, -1)) fail('slice', `shape must be ${t.rank} integers >= -1 for shape ${fmtShape(t.shape)}, got ${JSON.stringify(shape)}`);
  (t.shape as Shape).forEach((d, i) => {
    if (d !== null && startIndices[i] > d) fail('slice', `start index ${startIndices[i]} is past the end of axis ${i} of size ${d}`);
  });
  return ENGINE.run(SLICE, [t], { begin: [...startIndices], size: [...shape], step: t.shape.map(() => 1) });
}

/** Reverses the order of elements along `axis` (default: all axes). */
export function flip(x: TensorLike, axis?: number | readonly number[] | null): Tensor {
  const t = asTensor(x, 'flip');
  const axes = normalizeAxes('flip', axis, t.rank);
  if (axes.length === 0 || t.rank === 0) return t;
  const step = t.shape.map((_, d) => (axes.includes(d) ? -1 : 1));
  return ENGINE.run(SLICE, [t], { begin: step.map((s) => (s < 0 ? -1 : 0)), size: step.map(() => -1), step });
}

type PadWidth = number | readonly [number, number] | readonly (readonly [number, number])[];

/**
 * Pads with `constantValues`. `padWidth` is a number (every side), one [before, after] pair (every
 * axis) or one pair per axis, as numpy.pad takes it.
 */
export function pad(x: TensorLike, padWidth: PadWidth, mode = 'constant', constantValues = 0): Tensor {
  const t = asTensor(x, 'pad');
  if (mode !== 'constant') fail('pad', `only mode 'constant' is supported, got '${mode}'`);
  if (typeof constantValues !== 'number') fail('pad', `constantValues must be a number, got ${typeof constantValues}`);
  const isPair = (p: unknown): p is [number, number] => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0);
  let pads: (readonly [number, number])[];
  if (typeof padWidth === 'number' && Number.isInteger(padWidth) && padWidth >= 0) pads = t.shape.map(() => [padWidth, padWidth]);
  else if (isPair(padWidth)) pads = t.shape.map(() => padWidth);
  else if (Array.isArray(padWidth) && padWidth.every(isPair) && (padWidth.length === t.rank || padWidth.length === 1)) {
    pads = t.shape.map((_, d) => padWidth[padWidth.length === 1 ? 0 : d]);
  } else {
    return fail('pad', `padWidth must be a non-negative integer, a [before, after] pair or ${t.rank} such pairs for shape ${fmtShape(t.shape)}, got ${JSON.stringify(padWidth)}`);
  }
  return ENGINE.run(PAD, [t], { pads, value: constantValues });
}

/** `x` repeated along size-1 (or new leading) axes to `shape`. */
export function broadcastTo(x: TensorLike, shape: readonly number[]): Tensor {
  const t = asTensor(x, 'broadcastTo');
  checkShape('broadcastTo', shape);
  return shapesEqual(t.shape, shape) ? t : ENGINE.run(BROADCAST_TO, [t], { shape: [...shape] });
}

/** `x` repeated `repeats[i]` times along axis i (numpy.tile: the shorter of the two is padded with leading 1s). */
export function tile(x: TensorLike, repeats: number | readonly number[]): Tensor {
  const t = asTensor(x, 'tile');
  const reps = typeof repeats === 'number' ? [repeats] : repeats;
  if (!Array.isArray(reps) || !reps.every((r) => Number.isInteger(r) && r >= 0)) {
    fail('tile', `repeats must be non-negative integers, got ${JSON.stringify(repeats)}`);
  }
  const rank = Math.max(t.rank, reps.length);
  const shape: Dim[] = [...new Array<number>(rank - t.rank).fill(1), ...t.shape];
  const r = [...new Array<number>(rank - reps.length).fill(1), ...reps];
  // [1, d0, 1, d1, …] broadcast to [r0, d0, r1, d1, …], then each pair merged
  const spread = ENGINE.run(BROADCAST_TO, [reshape(t, shape.flatMap((d) => [1, d]))], { shape: shape.flatMap((d, i) => [r[i], d]) });
  return reshape(spread, shape.map((d, i) => (d === null ? null : d * r[i])));
}

/** Each element repeated `repeats` times along `axis` (default: over the flattened tensor). */
export function repeat(x: TensorLike, repeats: number, axis?: number | null): Tensor {
  let t = asTensor(x, 'repeat');
  if (!Number.isInteger(repeats) || repeats < 0) fail('repeat', `repeats must be a non-negative integer, got ${JSON.stringify(repeats)}`);
  if (axis == null || t.rank === 0) t = reshape(t, [-1]);
  const a = axis == null ? 0 : normalizeAxis('repeat', axis, t.rank);
  const shape: Shape = t.shape;
  const spread = expandDims(t, a + 1);
  const target = (spread.shape as Shape).map((d, i) => (i === a + 1 ? repeats : d));
  const out = ENGINE.run(BROADCAST_TO, [spread], { shape: target });
  return reshape(out, shape.map((d, i) => (i === a && d !== null ? d * repeats : d)));
}
