import { ENGINE } from '../src/engine.js';
import { disposeElement } from './element.js';

/** A pass over a dataset: a fresh iterator each time it is called (tf.data's re-startable iteration). */
export type Open<T> = () => AsyncIterator<T>;

/**
 * Calls a user function inside a tidy scope when it is synchronous, so what it makes and does not
 * return is freed; an async function cannot be (tidy cannot span an await) and is called as it is.
 */
export function callUser<A, R>(fn: (a: A) => R | Promise<R>, a: A): R | Promise<R> {
  return fn.constructor.name === 'AsyncFunction' ? fn(a) : ENGINE.tidy(() => fn(a) as R);
}

/**
 * The values of `it`, each passed through `transform`, with up to `depth` of them requested ahead
 * of the one being consumed. Requests start in order and results come back in order, so the
 * transforms of `depth` elements run concurrently without reordering them (map's
 * numParallelCalls, prefetch's buffer).
 */
export async function* readAhead<T, U>(it: AsyncIterator<T>, depth: number, transform: (value: T, index: number) => Promise<U>): AsyncGenerator<U> {
  const queue: Promise<IteratorResult<U>>[] = [];
  let requested = 0;
  const request = () => {
    const index = requested++;
    const p = it.next().then((r): Promise<IteratorResult<U>> | IteratorResult<U> => (r.done ? { done: true, value: undefined } : transform(r.value, index).then((value) => ({ done: false, value }))));
    // a request that fails while an earlier element is consumed is reported when its turn comes
    p.catch(() => {});
    queue.push(p);
  };
  try {
    for (;;) {
      while (queue.length < depth + 1) request();
      const r = await (queue.shift() as Promise<IteratorResult<U>>);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    // the consumer stopped early or failed: what was computed ahead is nobody's, so it is freed
    for (const p of queue) {
      const r = await p.catch(() => null);
      if (r && !r.done) disposeElement(r.value);
    }
    await it.return?.();
  }
}
