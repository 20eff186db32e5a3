import { ENGINE } from '../src/engine.js';
import { Tensor } from '../src/tensor.js';
import { callUser, readAhead, type Open } from './ahead.js';
import { disposeElement, leaves, stageError, toElement, viewOf, type Element } from './element.js';

/**
 * `fn` on each element, `parallel` calls at a time, in order. The input's tensors that the result
 * does not hold are freed (the result may pass some of them through).
 */
export function mapStage(open: Open<Element>, fn: (e: Element) => unknown, parallel: number): Open<Element> {
  const apply = async (e: Element, i: number): Promise<Element> => {
    let out: Element;
    try {
      out = toElement('Dataset.map', await callUser(fn, e));
    } catch (err) {
      disposeElement(e);
      throw stageError('Dataset.map', i, err);
    }
    disposeElement(e, new Set(leaves(out).map(([, t]) => t)));
    return out;
  };
  // one call at a time needs no queue of promises ahead: a plain loop costs less per element
  if (parallel === 1) {
    return async function* map() {
      const it = open();
      try {
        for (let i = 0; ; i++) {
          const r = await it.next();
          if (r.done) return;
          yield await apply(r.value, i);
        }
      } finally {
        await it.return?.();
      }
    };
  }
  return () => readAhead(open(), parallel - 1, apply);
}

export function filterStage(open: Open<Element>, predicate: (e: Element) => unknown): Open<Element> {
  return async function* filter() {
    const it = open();
    try {
      for (let i = 0; ; i++) {
        const r = await it.next();
        if (r.done) return;
        let keep: boolean;
        try {
          keep = await truth(await callUser(predicate, r.value), r.value);
        } catch (err) {
          disposeElement(r.value);
          throw stageError('Dataset.filter', i, err);
        }
        if (keep) yield r.value;
        else disposeElement(r.value);
      }
    } finally {
      await it.return?.();
    }
  };
}

/** A predicate's answer: a boolean, or a one-element tensor as tf.data predicates return. */
async function truth(v: unknown, element: Element): Promise<boolean> {
  if (!(v instanceof Tensor)) return Boolean(v);
  const value = (await v.data())[0] !== 0;
  if (!leaves(element).some(([, t]) => t === v)) v.dispose();
  return value;
}

/** The first `count` elements (all of them when count is negative, as tf.data). */
export function takeStage(open: Open<Element>, count: number): Open<Element> {
  return async function* take() {
    if (count === 0) return;
    const it = open();
    try {
      for (let i = 0; count < 0 || i < count; i++) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  };
}

/** All but the first `count` elements (none when count is negative, as tf.data). */
export function skipStage(open: Open<Element>, count: number): Open<Element> {
  return async function* skip() {
    const it = open();
    try {
      for (let i = 0; ; i++) {
        const r = await it.next();
        if (r.done) return;
        if (count < 0 || i < count) disposeElement(r.value);
        else yield r.value;
      }
    } finally {
      await it.return?.();
    }
  };
}

/** `count` passes over the upstream, or endless ones when count is negative. */
export function repeatStage(open: Open<Element>, count: number): Open<Element> {
  return async function* repeat() {
    for (let pass = 0; count < 0 || pass < count; pass++) {
      let yielded = 0;
      for await (const e of iterate(open)) {
        yielded++;
        yield e;
      }
      // an empty pass would repeat forever without yielding: tf.data ends there too
      if (yielded === 0) return;
    }
  };
}

export function concatenateStage(opens: readonly Open<Element>[]): Open<Element> {
  return async function* concatenate() {
    for (const open of opens) yield* iterate(open);
  };
}

/** Elements made of one element of each dataset, until the shortest ends. */
export function zipStage(opens: readonly Open<Element>[], assemble: (parts: Element[]) => Element): Open<Element> {
  return async function* zip() {
    const its = opens.map((open) => open());
    try {
      for (;;) {
        const settled = await Promise.allSettled(its.map((it) => it.next()));
        const rs = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
        const failed = settled.find((s) => s.status === 'rejected');
        if (failed || rs.some((r) => r.done)) {
          // the other datasets' elements of this step are nobody's now
          for (const r of rs) if (!r.done) disposeElement(r.value);
          if (failed) throw failed.reason;
          return;
        }
        yield assemble(rs.map((r) => r.value as Element));
      }
    } finally {
      await Promise.all(its.map((it) => it.return?.()));
    }
  };
}

/**
 * The first complete pass keeps every element; later passes hand out views of them and never
 * open the upstream again. A pass abandoned halfway keeps nothing (tf.data discards a partial
 * cache too).
 */
export function cacheStage(open: Open<Element>): Open<Element> {
  let cached: Element[] | null = null;
  return async function* cache() {
    if (cached) {
      for (const e of cached) yield viewOf(e);
      return;
    }
    const filling: Element[] = [];
    let complete = false;
    try {
      for await (const e of iterate(open)) {
        for (const [, t] of leaves(e)) ENGINE.keep(t);
        filling.push(e);
        yield viewOf(e);
      }
      complete = true;
    } finally {
      if (complete && !cached) cached = filling;
      else for (const e of filling) disposeElement(e);
    }
  };
}

/** One pass as an async iterable, for `for await`, which returns the iterator when left early. */
export function iterate<T>(open: Open<T>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: open };
}
