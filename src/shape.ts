import { fail, fmtShape } from './errors.js';

/** A dimension: a size, or null where only a symbolic (Functional-model) shape leaves it open. */
export type Dim = number | null;
export type Shape = readonly Dim[];

export { sizeOf, stridesOf } from '../backends/contract.js';

/** NumPy broadcasting of two shapes; null broadcasts against anything. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<Dim>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da === db) out[i] = da;
    else if (da === 1) out[i] = db;
    else if (db === 1) out[i] = da;
    else if (da === null) out[i] = db;
    else if (db === null) out[i] = da;
    else fail(op, `shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast (dimension ${i}: ${da} vs ${db})`);
  }
  return out;
}

/** A possibly-negative axis made non-negative, checked against `rank`. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    fail(op, rank === 0
      ? `axis ${axis} is out of range: a scalar (rank 0) has no axes`
      : `axis ${axis} is out of range for a tensor of rank ${rank} (expected an integer in [${-rank}, ${rank - 1}])`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** `axis` (undefined = all axes) as a sorted list of unique non-negative axes. */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined | null, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : [...axis];
  const out = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(out).size !== out.length) fail(op, `repeated axis in ${JSON.stringify(axis)}`);
  return out.sort((x, y) => x - y);
}

/** Checks a user-supplied shape: non-negative integers (null allowed only where `allowNull`). */
export function checkShape(op: string, shape: unknown, allowNull = false): Dim[] {
  if (!Array.isArray(shape)) fail(op, `expected a shape (an array of integers), got ${JSON.stringify(shape)}`);
  for (const d of shape) {
    if (d === null && allowNull) continue;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      fail(op, `expected a shape of non-negative integers, got ${JSON.stringify(shape)}`);
    }
  }
  return shape as Dim[];
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The axes along which `from` was broadcast to reach `to` (for reducing gradients back). */
export function broadcastedAxes(from: Shape, to: Shape): number[] {
  const axes: number[] = [];
  const lead = to.length - from.length;
  for (let i = 0; i < to.length; i++) {
    if (i < lead || (from[i - lead] === 1 && to[i] !== 1)) axes.push(i);
  }
  return axes;
}
