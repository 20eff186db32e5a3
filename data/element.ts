import { ENGINE } from '../src/engine.js';
import { KilnError, fail, fmtShape } from '../src/errors.js';
import { Tensor } from '../src/tensor.js';
import { asTensor, type TensorLike } from '../src/convert.js';
import { slice } from '../src/ops/movement.js';

/** One element of a dataset: a tensor, or tuples and records of them (tf.data's nested structures). */
export type Element = Tensor | readonly Element[] | { readonly [key: string]: Element };

type Numeric = number | boolean | readonly Numeric[];

/**
 * The element type made from `X` by converting its leaves: tensors, numbers, nested number
 * arrays and typed arrays become tensors; tuples and records keep their structure.
 */
export type ElementOf<X> = X extends Tensor | Numeric | ArrayBufferView ? Tensor : X extends Element ? X : { -readonly [K in keyof X]: ElementOf<X[K]> };

function isPlainRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x) && Object.getPrototypeOf(x) === Object.prototype;
}

/**
 * An array is a tuple of elements when it holds a tensor, a record, a typed array or such a tuple;
 * otherwise (numbers, nested number arrays) it is the values of one tensor.
 */
function isTuple(x: unknown): x is readonly unknown[] {
  return Array.isArray(x) && x.some((e) => e instanceof Tensor || isPlainRecord(e) || ArrayBuffer.isView(e) || isTuple(e));
}

/** `x` as an element: its leaves converted to tensors, and its tensors passed through `adopt`. */
export function toElement(op: string, x: unknown, adopt: (t: Tensor) => Tensor = (t) => t): Element {
  if (x instanceof Tensor) return adopt(x);
  if (isTuple(x)) return x.map((e) => toElement(op, e, adopt));
  if (isPlainRecord(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, toElement(op, v, adopt)]));
  return asTensor(x as TensorLike, op);
}

/** The tensors of `e` with their paths (`0`, `1.x`, …; '' for a lone tensor), in a fixed order. */
export function leaves(e: Element, path = '', out: [string, Tensor][] = []): [string, Tensor][] {
  if (e instanceof Tensor) out.push([path, e]);
  else if (Array.isArray(e)) e.forEach((v, i) => leaves(v, join(path, String(i)), out));
  else for (const [k, v] of Object.entries(e)) leaves(v as Element, join(path, k), out);
  return out;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** A new element of the same structure, each tensor replaced by `fn(tensor, path)`. */
export function mapLeaves(e: Element, fn: (t: Tensor, path: string) => Element, path = ''): Element {
  if (e instanceof Tensor) return fn(e, path);
  if (Array.isArray(e)) return e.map((v, i) => mapLeaves(v, fn, join(path, String(i))));
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, mapLeaves(v as Element, fn, join(path, k))]));
}

/** Disposes the tensors of `e`, except those in `kept`. */
export function disposeElement(e: unknown, kept: ReadonlySet<Tensor> = new Set()): void {
  if (e instanceof Tensor) {
    if (!kept.has(e)) e.dispose();
  } else if (Array.isArray(e)) e.forEach((v) => disposeElement(v, kept));
  else if (isPlainRecord(e)) Object.values(e).forEach((v) => disposeElement(v, kept));
}

/** Tensors over the same buffers: the caller owns them, and disposing them leaves `e` alive. */
export function viewOf(e: Element): Element {
  return mapLeaves(e, (t) => ENGINE.view(t));
}

/** Row `i` of `t` along axis 0, without that axis. */
export function rowOf(t: Tensor, i: number): Tensor {
  return ENGINE.tidy(() => {
    const rest = t.shape.slice(1);
    return ENGINE.view(slice(t, [i, ...rest.map(() => 0)], [1, ...rest]), rest);
  });
}

/** The shared length along axis 0 of every tensor of `e`, or an error naming the lengths. */
export function rowsOf(op: string, e: Element): number {
  const ls = leaves(e);
  if (ls.length === 0) fail(op, 'the element holds no tensor');
  for (const [path, t] of ls) if (t.rank === 0) fail(op, `cannot slice a scalar${path ? ` (at ${path})` : ''}: each tensor needs an axis 0`);
  const n = ls[0][1].shape[0];
  if (ls.some(([, t]) => t.shape[0] !== n)) {
    fail(op, `all tensors need the same length along axis 0, got ${ls.map(([p, t]) => `${p || 'x'} ${fmtShape(t.shape)}: ${t.shape[0]}`).join(', ')}`);
  }
  return n;
}

/** The error of a user function (generator, map, filter) at one element, naming the stage. */
export function stageError(stage: string, index: number, err: unknown): KilnError {
  const e = new KilnError(stage, `element ${index} failed: ${err instanceof Error ? err.message : String(err)}`);
  e.cause = err;
  return e;
}
