/** The [before, after] widths ZeroPadding adds and Cropping removes, in the forms Keras takes. */
import { fail } from '../../src/errors.js';

/** [before, after] elements at the two ends of one axis. */
export type Edges = [before: number, after: number];

/**
 * With one spatial axis: an integer (both ends) or a [before, after] pair. With two or three: an
 * integer (every end), or one entry per axis, each an integer (both its ends) or a pair.
 */
export type EdgeWidths = number | readonly (number | readonly [number, number])[];

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isPair = (v: unknown): v is readonly [number, number] => Array.isArray(v) && v.length === 2 && v.every(isCount);

/** `value` as one [before, after] pair per spatial axis. */
export function edgePairs(where: string, name: string, value: EdgeWidths, rank: number): Edges[] {
  if (isCount(value)) return Array.from({ length: rank }, (): Edges => [value, value]);
  // one axis reads a pair as its two ends, several axes read it as one width per axis (as Keras)
  if (rank === 1 && isPair(value)) return [[value[0], value[1]]];
  if (rank > 1 && Array.isArray(value) && value.length === rank && value.every((v) => isCount(v) || isPair(v))) {
    return value.map((v): Edges => (isCount(v) ? [v, v] : [v[0], v[1]]));
  }
  const forms = rank === 1
    ? 'an integer >= 0 or a [before, after] pair of them'
    : `an integer >= 0, or ${rank} entries (one per spatial axis), each an integer >= 0 or a [before, after] pair`;
  return fail(where, `${name} must be ${forms}, got ${JSON.stringify(value)}`);
}

/** The widths as Keras saves them: one pair for one spatial axis, a pair per axis for more. */
export function edgesConfig(edges: readonly Edges[]): Edges | Edges[] {
  return edges.length === 1 ? [...edges[0]] : edges.map((e): Edges => [...e]);
}
