import { fail, fmtShape } from '../src/errors.js';
import { Tensor } from '../src/tensor.js';
import { Variable } from '../src/variable.js';
import { asTensor, type TensorLike } from '../src/convert.js';
import { ENGINE } from '../src/engine.js';
import { slice } from '../src/ops/movement.js';
import { GATHER } from '../src/ops/gather.js';

/** Model inputs as fit/predict accept them: one tensor, one per input in order, or keyed by input name. */
export type InputsLike = TensorLike | readonly TensorLike[] | Record<string, TensorLike>;
export type TargetsLike = InputsLike;

/** `x` as one tensor per name in `names`, in that order. */
export function toList(op: string, x: InputsLike, names: readonly string[], what: string): Tensor[] {
  let list: TensorLike[];
  if (x instanceof Tensor || !isPlainRecord(x)) {
    // an array is a list of inputs when the model has several, or when it holds tensors (not numbers)
    const isList = Array.isArray(x) && (names.length > 1 || (x.length > 0 && x.every((e) => e instanceof Tensor)));
    list = isList ? [...(x as TensorLike[])] : [x as TensorLike];
  } else {
    const rec = x as Record<string, TensorLike>;
    const unknown = Object.keys(rec).filter((k) => !names.includes(k));
    if (unknown.length) fail(op, `unknown ${what} name(s) ${unknown.join(', ')}; expected ${names.join(', ')}`);
    list = names.map((n) => {
      if (!(n in rec)) fail(op, `missing ${what} '${n}'; got ${Object.keys(rec).join(', ')}`);
      return rec[n];
    });
  }
  if (names.length > 0 && list.length !== names.length) {
    fail(op, `the model has ${names.length} ${what}s (${names.join(', ')}), got ${list.length}`);
  }
  return list.map((t, i) => {
    const tensor = asTensor(t, op);
    if (tensor.rank === 0) fail(op, `${what} ${names[i] ?? i} must have a batch dimension, got a scalar`);
    return tensor;
  });
}

/** Frees the tensors `toList` made from `given` (numbers, arrays), leaving the caller's tensors and Variables' values. */
export function disposeMade(given: InputsLike, made: readonly Tensor[]): void {
  const theirs = new Set<Tensor>();
  const visit = (v: unknown): void => {
    if (v instanceof Tensor) theirs.add(v);
    else if (v instanceof Variable) theirs.add(v.value);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (isPlainRecord(v)) Object.values(v as object).forEach(visit);
  };
  visit(given);
  for (const t of made) if (!theirs.has(t)) t.dispose();
}

function isPlainRecord(x: unknown): boolean {
  return x !== null && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x) && Object.getPrototypeOf(x) === Object.prototype;
}

/** The shared number of samples of all arrays, or a clear error naming the mismatch. */
export function numSamples(op: string, groups: Record<string, readonly Tensor[]>): number {
  let n: number | null = null;
  let first = '';
  for (const [what, list] of Object.entries(groups)) {
    list.forEach((t, i) => {
      const label = `${what}${list.length > 1 ? ` ${i}` : ''}`;
      if (n === null) {
        n = t.shape[0];
        first = `${label} ${fmtShape(t.shape)}`;
      } else if (t.shape[0] !== n) {
        fail(op, `all arrays need the same number of samples: ${first} has ${n}, ${label} ${fmtShape(t.shape)} has ${t.shape[0]}`);
      }
    });
  }
  return n ?? 0;
}

/**
 * Rows [start, end) of each tensor, or the rows named by `indices` (shuffled batches). The rows
 * come from a permutation made on the host, in range by construction, so they are gathered
 * directly: take would check them on the device every step (docs/indices.md).
 */
export function batchOf(list: readonly Tensor[], start: number, end: number, indices: Tensor | null): Tensor[] {
  return list.map((t) => (indices ? ENGINE.run(GATHER, [t, indices], { axis: 0 }) : slice(t, [start, ...t.shape.slice(1).map(() => 0)], [end - start, ...t.shape.slice(1)])));
}

/** The split of arrays into a training head and a validation tail (Keras takes the last fraction, before shuffling). */
export function splitTail(list: readonly Tensor[], fraction: number, n: number): [Tensor[], Tensor[]] {
  const nVal = Math.floor(n * fraction);
  const nTrain = n - nVal;
  if (nVal === 0 || nTrain === 0) {
    fail('fit', `validationSplit ${fraction} of ${n} samples leaves ${nVal === 0 ? 'no validation' : 'no training'} samples`);
  }
  const head = batchOf(list, 0, nTrain, null).map((t) => ENGINE.keep(t));
  const tail = batchOf(list, nTrain, n, null).map((t) => ENGINE.keep(t));
  return [head, tail];
}
