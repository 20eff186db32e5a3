import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { collect, range } from './helpers.js';

const { Dataset } = kiln.data;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Dataset transformations', () => {
  it('map with a sync or async function; tuples pass through the structure', async () => {
    expect(await collect(range(3).map((x) => kiln.ops.multiply(x, 2)))).toEqual([0, 2, 4]);
    expect(await collect(range(3).map(async (x) => [x, kiln.ops.add(x, 1)]))).toEqual([[0, 1], [1, 2], [2, 3]]);
    const pairs = Dataset.fromTensorSlices([kiln.tensor([1, 2]), kiln.tensor([3, 4])]);
    expect(await collect(pairs.map(([x, y]) => ({ sum: kiln.ops.add(x, y) })))).toEqual([{ sum: 4 }, { sum: 6 }]);
  });

  it('map with numParallelCalls runs that many calls at once and keeps the order', async () => {
    let running = 0;
    let most = 0;
    // later elements finish first: only the order kept by map puts them back
    const ds = range(8).map(async (x) => {
      running++;
      most = Math.max(most, running);
      const v = (await x.data())[0];
      await sleep((8 - v) * 3);
      running--;
      return x;
    }, { numParallelCalls: 3 });
    expect(await collect(ds)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('a map function that throws names the stage and the element', async () => {
    const ds = range(5).map(async (x) => {
      if ((await x.data())[0] === 3) throw new Error('bad row');
      return x;
    }, { numParallelCalls: 2 });
    await expect(collect(ds)).rejects.toThrow('Dataset.map: element 3 failed: bad row');
  });

  it('filter keeps the elements whose predicate is true (boolean or tensor)', async () => {
    expect(await collect(range(6).filter((x) => x.dataSync()[0] % 2 === 0))).toEqual([0, 2, 4]);
    expect(await collect(range(6).filter((x) => kiln.ops.greater(x, 3)))).toEqual([4, 5]);
    expect(range(6).filter(() => true).cardinality()).toBe(-2);
  });

  it('batch stacks elements, keeps [x, y] and [x, y, w], and drops the remainder on request', async () => {
    const x = kiln.tensor([[1, 2], [3, 4], [5, 6]]);
    const y = kiln.tensor([0, 1, 2], [3], 'int32');
    const w = kiln.tensor([1, 0.5, 2]);
    const ds = Dataset.fromTensorSlices([x, y, w]);
    expect(await collect(ds.batch(2))).toEqual([[[[1, 2], [3, 4]], [0, 1], [1, 0.5]], [[[5, 6]], [2], [2]]]);
    expect(await collect(ds.batch(2, { dropRemainder: true }))).toEqual([[[[1, 2], [3, 4]], [0, 1], [1, 0.5]]]);
    expect(ds.batch(2).cardinality()).toBe(2);
    expect(ds.batch(2, { dropRemainder: true }).cardinality()).toBe(1);
    expect(await collect(Dataset.fromTensorSlices({ a: x }).batch(3))).toEqual([{ a: [[1, 2], [3, 4], [5, 6]] }]);
  });

  it('batch names the element whose shape differs, and both shapes', async () => {
    const ds = Dataset.fromGenerator(function* () {
      yield kiln.tensor([1, 2]);
      yield kiln.tensor([3, 4]);
      yield kiln.tensor([5, 6, 7]);
    });
    await expect(collect(ds.batch(3))).rejects.toThrow('Dataset.batch: element 2 is {x float32 [3]}, but element 0 of its batch is {x float32 [2]}');
    expect(() => range(3).batch(0)).toThrow('Dataset.batch: batchSize must be an integer >= 1, got 0');
    expect(() => range(3).batch(-2)).toThrow(/batchSize must be an integer >= 1, got -2/);
  });

  it('unbatch splits each element into its rows', async () => {
    const ds = Dataset.fromTensors([kiln.tensor([[1, 2], [3, 4]]), kiln.tensor([7, 8])]).unbatch();
    expect(await collect(ds)).toEqual([[[1, 2], 7], [[3, 4], 8]]);
    expect(await collect(range(5).batch(2).unbatch())).toEqual([0, 1, 2, 3, 4]);
  });

  it('repeat, take, skip and their cardinalities', async () => {
    expect(await collect(range(3).repeat(2))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(await collect(range(3).repeat().take(7))).toEqual([0, 1, 2, 0, 1, 2, 0]);
    expect(await collect(range(5).skip(2))).toEqual([2, 3, 4]);
    expect(await collect(range(5).skip(-1))).toEqual([]);
    expect(await collect(range(5).take(-1))).toEqual([0, 1, 2, 3, 4]);
    expect(await collect(range(0).repeat())).toEqual([]);
    expect(range(3).repeat().cardinality()).toBe(Dataset.INFINITE_CARDINALITY);
    expect(range(3).repeat(4).cardinality()).toBe(12);
    expect(range(3).repeat().take(7).cardinality()).toBe(7);
    expect(range(5).skip(2).cardinality()).toBe(3);
    expect(range(5).skip(9).cardinality()).toBe(0);
    expect(range(5).take(9).cardinality()).toBe(5);
    expect(Dataset.fromGenerator(function* () {}).repeat(2).cardinality()).toBe(Dataset.UNKNOWN_CARDINALITY);
  });

  it('zip pairs datasets as tuples or records until the shortest ends; concatenate chains them', async () => {
    expect(await collect(Dataset.zip([range(3), range(5).skip(1)]))).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(await collect(Dataset.zip({ a: range(2), b: range(2).repeat() }))).toEqual([{ a: 0, b: 0 }, { a: 1, b: 1 }]);
    expect(Dataset.zip([range(3), range(5)]).cardinality()).toBe(3);
    expect(Dataset.zip([range(3).repeat(), range(5)]).cardinality()).toBe(5);
    expect(await collect(range(2).concatenate(range(3)))).toEqual([0, 1, 0, 1, 2]);
    expect(range(2).concatenate(range(3)).cardinality()).toBe(5);
    expect(range(2).concatenate(range(3).repeat()).cardinality()).toBe(-1);
  });

  it("zip: when one dataset fails, the others' elements of that step are freed and the error passes on", async () => {
    const failing = Dataset.fromGenerator(function* () {
      yield kiln.tensor(1);
      throw new Error('gone');
    });
    const before = kiln.memory().numTensors;
    await expect(collect(Dataset.zip([range(5), failing]))).rejects.toThrow('Dataset.fromGenerator: element 1 failed: gone');
    // range(5)'s own tensor (made after `before`) stays with it; every row it handed out is freed
    expect(kiln.memory().numTensors).toBe(before + 1);
  });

  it('cache: the second pass does not run the pipeline above it', async () => {
    let calls = 0;
    const ds = range(4).map((x) => {
      calls++;
      return kiln.ops.multiply(x, 3);
    }).cache();
    expect(await collect(ds)).toEqual([0, 3, 6, 9]);
    expect(calls).toBe(4);
    expect(await collect(ds)).toEqual([0, 3, 6, 9]);
    expect(await collect(ds)).toEqual([0, 3, 6, 9]);
    expect(calls).toBe(4);
  });

  it('cache: a pass left halfway keeps nothing, and the next pass runs the pipeline again', async () => {
    let calls = 0;
    const ds = range(4).map((x) => (calls++, x)).cache();
    expect(await collect(ds, 2)).toEqual([0, 1]);
    expect(await collect(ds)).toEqual([0, 1, 2, 3]);
    expect(await collect(ds)).toEqual([0, 1, 2, 3]);
    expect(calls).toBe(2 + 4);
  });

  it('prefetch keeps up to n elements made ahead of the one in use', async () => {
    let made = 0;
    const ds = range(10).map((x) => (made++, x)).prefetch(3);
    const it = ds[Symbol.asyncIterator]();
    const first = await it.next();
    await sleep(20);
    // the element in use and three more
    expect(made).toBe(4);
    kiln.dispose(first.value);
    await it.return?.();
    expect(await collect(ds)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => range(3).prefetch(0)).toThrow('Dataset.prefetch: bufferSize must be an integer >= 1, got 0');
  });

  it('is a lazy pipeline: nothing runs until iterated', async () => {
    let calls = 0;
    const ds = range(3).map((x) => (calls++, x)).batch(2).shuffle(2);
    expect(calls).toBe(0);
    await collect(ds);
    expect(calls).toBe(3);
  });

  it('a pass left early frees what the stages hold (shuffle buffer, prefetch, batch, cache)', async () => {
    const x = kiln.tensor(Array.from({ length: 20 }, (_, i) => i), [20]);
    const ds = kiln.data.Dataset.fromTensorSlices(x).shuffle(8, { seed: 3 }).batch(3).prefetch(2).map((b) => b).cache();
    const before = kiln.memory().numTensors;
    expect(await collect(ds, 2)).toHaveLength(2);
    expect(kiln.memory().numTensors).toBe(before);
    expect(await collect(ds.unbatch(), 5)).toHaveLength(5);
    expect(kiln.memory().numTensors).toBe(before);
  });

  it('each transformation frees what it takes and does not hand out', async () => {
    const x = kiln.tensor(Array.from({ length: 12 }, (_, i) => i), [12]);
    const y = kiln.tensor(Array.from({ length: 12 }, (_, i) => -i), [12]);
    const base = Dataset.fromTensorSlices([x, y]);
    const before = kiln.memory().numTensors;
    const pipelines = [
      base.map(([a, b]) => [kiln.ops.square(kiln.ops.add(a, 1)), b]),
      base.map(async ([a]) => a, { numParallelCalls: 3 }),
      base.filter(([a]) => kiln.ops.greater(a, 4)),
      base.skip(5).take(3),
      base.batch(5).unbatch(),
      Dataset.zip([base, base.skip(2)]),
      base.concatenate(base).repeat(2),
      base.shuffle(4, { seed: 9 }).batch(4, { dropRemainder: true }).prefetch(2),
    ];
    for (const [i, ds] of pipelines.entries()) {
      await collect(ds);
      expect(kiln.memory().numTensors, `pipeline ${i}`).toBe(before);
    }
    // cache keeps the 12 elements of [x, y], and hands out views of them
    const cached = base.cache();
    await collect(cached);
    expect(kiln.memory().numTensors).toBe(before + 24);
    await collect(cached);
    expect(kiln.memory().numTensors).toBe(before + 24);
  });
});
