import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { collect, range } from './helpers.js';

const order = async (ds: AsyncIterable<unknown>) => (await collect(ds)) as number[];
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('Dataset.shuffle', () => {
  it('is a permutation, the same for the same seed, another for another seed', async () => {
    const a = await order(range(50).shuffle(50, { seed: 7 }));
    expect(sorted(a)).toEqual(ids(50));
    expect(a).not.toEqual(ids(50));
    expect(await order(range(50).shuffle(50, { seed: 7 }))).toEqual(a);
    expect(await order(range(50).shuffle(50, { seed: 8 }))).not.toEqual(a);
  });

  it('reshuffles on each pass, reproducibly per seed; reshuffleEachIteration false repeats the order', async () => {
    const ds = range(30).shuffle(30, { seed: 1 });
    const [p1, p2] = [await order(ds), await order(ds)];
    expect(sorted(p2)).toEqual(ids(30));
    expect(p2).not.toEqual(p1);
    const again = range(30).shuffle(30, { seed: 1 });
    expect([await order(again), await order(again)]).toEqual([p1, p2]);
    const fixed = range(30).shuffle(30, { seed: 1, reshuffleEachIteration: false });
    const f1 = await order(fixed);
    expect(await order(fixed)).toEqual(f1);
    const unseeded = range(30).shuffle(30, { reshuffleEachIteration: false });
    expect(await order(unseeded)).toEqual(await order(unseeded));
  });

  it('an element moves at most bufferSize - 1 places earlier; a buffer of 1 keeps the order', async () => {
    expect(await order(range(20).shuffle(1, { seed: 4 }))).toEqual(ids(20));
    for (const bufferSize of [2, 3, 5]) {
      for (const seed of [0, 1, 2, 3]) {
        const got = await order(range(40).shuffle(bufferSize, { seed }));
        expect(sorted(got)).toEqual(ids(40));
        // position p is handed out once p + bufferSize elements have been read
        got.forEach((element, position) => expect(position, `element ${element}, buffer ${bufferSize}`).toBeGreaterThanOrEqual(element - bufferSize + 1));
      }
    }
  });

  it('a small buffer leaves a sorted order unshuffled only by chance: some element moves', async () => {
    const got = await order(range(40).shuffle(3, { seed: 5 }));
    expect(got).not.toEqual(ids(40));
  });

  it('rejects a bufferSize <= 0 and a seed that is not an integer', () => {
    expect(() => range(3).shuffle(0)).toThrow('Dataset.shuffle: bufferSize must be an integer >= 1, got 0');
    expect(() => range(3).shuffle(-4)).toThrow(/bufferSize must be an integer >= 1, got -4/);
    expect(() => range(3).shuffle(2, { seed: 1.5 })).toThrow('Dataset.shuffle: seed must be an integer, got 1.5');
  });

  it('without a seed, kiln.setSeed before building the pipeline makes its orders reproducible', async () => {
    kiln.setSeed(11);
    const first = range(30).shuffle(30);
    const orders = [await order(first), await order(first)];
    kiln.setSeed(11);
    const second = range(30).shuffle(30);
    expect([await order(second), await order(second)]).toEqual(orders);
    expect(orders[1]).not.toEqual(orders[0]);
  });

  it('keeps the cardinality', () => {
    expect(range(7).shuffle(3).cardinality()).toBe(7);
  });
});
