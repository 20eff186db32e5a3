import { Generator, nextSeed } from '../src/random.js';
import type { Open } from './ahead.js';
import { disposeElement, type Element } from './element.js';

export interface ShuffleOptions {
  /** The same seed gives the same orders (one per pass with reshuffleEachIteration). */
  seed?: number;
  /** A new order on each pass (each epoch); false repeats the first pass's order. */
  reshuffleEachIteration?: boolean;
}

/**
 * tf.data's shuffle: a buffer of `bufferSize` elements, from which a random one is handed out and
 * replaced by the next upstream element. An element can move at most bufferSize - 1 places
 * earlier, so a buffer of 1 keeps the order and a buffer as large as the data shuffles it fully.
 */
export function shuffleStage(open: Open<Element>, bufferSize: number, { seed, reshuffleEachIteration = true }: ShuffleOptions): Open<Element> {
  const base = seed ?? nextSeed();
  let pass = 0;
  return async function* shuffle() {
    // pass k of a seeded shuffle is seeded by (seed, k): reproducible, yet a new order each epoch
    const g = new Generator(reshuffleEachIteration ? (base + Math.imul(pass++, 0x9e3779b1)) | 0 : base);
    const it = open();
    const buffer: Element[] = [];
    let exhausted = false;
    try {
      for (;;) {
        while (!exhausted && buffer.length < bufferSize) {
          const r = await it.next();
          if (r.done) exhausted = true;
          else buffer.push(r.value);
        }
        if (buffer.length === 0) return;
        const k = Math.floor(g.next() * buffer.length);
        const chosen = buffer[k];
        buffer[k] = buffer[buffer.length - 1];
        buffer.pop();
        yield chosen;
      }
    } finally {
      for (const e of buffer) disposeElement(e);
      await it.return?.();
    }
  };
}
