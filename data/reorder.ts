import { Generator, nextSeed } from '../src/random.js';
import type { Open } from './ahead.js';
import { disposeElement, type Element } from './element.js';

export interface ShuffleOptions {
  /** The same seed gives the same orders (one per pass with reshuffleEachIteration). */
  seed?: number;
  /** A new order on each pass (each epoch); false repeats the first pass's order. */
  reshuffleEachIteration?: boolean;
}

/** One pass of a shuffle buffer: fill it while it `wants`, then `pick` until it is empty. */
export interface ShufflePass<T> {
  wants(): boolean;
  add(item: T): void;
  /** The upstream has ended. */
  end(): void;
  empty(): boolean;
  pick(): T;
  /** The items still held (when a pass is left early). */
  held(): readonly T[];
}

/**
 * tf.data's shuffle: a buffer of `bufferSize` items, from which a random one is handed out and
 * replaced by the next upstream item. An item can move at most bufferSize - 1 places earlier, so
 * a buffer of 1 keeps the order and a buffer as large as the data shuffles it fully. Elements
 * (shuffleStage) and row indices (plan.ts) go through this one algorithm, so both give one order.
 */
export interface ShuffleBuffer {
  /** A new pass: pass k of a seeded shuffle is seeded by (seed, k), so each epoch has a new order. */
  pass<T>(): ShufflePass<T>;
}

export function shuffleBuffer(bufferSize: number, { seed, reshuffleEachIteration = true }: ShuffleOptions): ShuffleBuffer {
  const base = seed ?? nextSeed();
  let passes = 0;
  return {
    pass<T>(): ShufflePass<T> {
      const g = new Generator(reshuffleEachIteration ? (base + Math.imul(passes++, 0x9e3779b1)) | 0 : base);
      const buffer: T[] = [];
      let exhausted = false;
      return {
        wants: () => !exhausted && buffer.length < bufferSize,
        add: (item) => void buffer.push(item),
        end: () => void (exhausted = true),
        empty: () => buffer.length === 0,
        pick() {
          const k = Math.floor(g.next() * buffer.length);
          const chosen = buffer[k];
          buffer[k] = buffer[buffer.length - 1];
          buffer.pop();
          return chosen;
        },
        held: () => buffer,
      };
    },
  };
}

export function shuffleStage(open: Open<Element>, buffer: ShuffleBuffer): Open<Element> {
  return async function* shuffle() {
    const pass = buffer.pass<Element>();
    const it = open();
    try {
      for (;;) {
        while (pass.wants()) {
          const r = await it.next();
          if (r.done) pass.end();
          else pass.add(r.value);
        }
        if (pass.empty()) return;
        yield pass.pick();
      }
    } finally {
      for (const e of pass.held()) disposeElement(e);
      await it.return?.();
    }
  };
}
