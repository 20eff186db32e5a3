/** The option and shape checks the normalization layers share, with errors that name the layer. */
import { fail, fmtShape } from '../../src/errors.js';
import type { Shape } from '../../src/shape.js';
import type { Layer } from '../layer.js';

/** An `axis` option: one integer, or a non-empty list of them. */
export function checkAxisOption(layer: Layer, axis: unknown, listAllowed: boolean): void {
  const ok = (a: unknown) => Number.isInteger(a);
  const valid = ok(axis) || (listAllowed && Array.isArray(axis) && axis.length > 0 && axis.every(ok));
  if (!valid) fail(layer.toString(), `axis must be an integer${listAllowed ? ' or a non-empty list of integers' : ''}, got ${JSON.stringify(axis)}`);
}

export function checkEpsilon(layer: Layer, epsilon: unknown): number {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) fail(layer.toString(), `epsilon must be a finite number >= 0, got ${JSON.stringify(epsilon)}`);
  return epsilon;
}

/** `axis` (one or several) as sorted, unique, non-negative axes of inputs of `shape`. */
export function axesOf(layer: Layer, axis: number | readonly number[], shape: Shape): number[] {
  const rank = shape.length;
  const list = typeof axis === 'number' ? [axis] : [...axis];
  if (list.some((a) => a < -rank || a >= rank)) fail(layer.toString(), `axis ${JSON.stringify(axis)} is out of range for inputs of shape ${fmtShape(shape)} (rank ${rank})`);
  const axes = list.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
  if (new Set(axes).size !== axes.length) fail(layer.toString(), `axis ${JSON.stringify(axis)} names an axis twice (inputs of shape ${fmtShape(shape)})`);
  return axes;
}

/** The axes a layer's weights span: as axesOf, each of a known size. */
export function layerAxes(layer: Layer, axis: number | readonly number[], shape: Shape): number[] {
  const axes = axesOf(layer, axis, shape);
  if (axes.some((a) => shape[a] === null)) fail(layer.toString(), `axis ${JSON.stringify(axis)} must have known sizes, got inputs of shape ${fmtShape(shape)}`);
  return axes;
}

/** Fails unless `shape` matches what the layer was built for on its axes (and in rank). */
export function checkBuiltFor(layer: Layer, shape: Shape, rank: number, axes: readonly number[], sizes: readonly number[]): void {
  if (shape.length !== rank || axes.some((a, i) => shape[a] !== null && shape[a] !== sizes[i])) {
    const built = Array.from({ length: rank }, (_, i) => (axes.includes(i) ? sizes[axes.indexOf(i)] : null));
    fail(layer.toString(), `was built for inputs of shape ${fmtShape(built)}, got shape ${fmtShape(shape)}`);
  }
}
