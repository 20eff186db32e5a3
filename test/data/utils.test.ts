import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { collect, range } from './helpers.js';

const { toCategorical, padSequences, timeseriesDatasetFromArray, splitDataset } = kiln.utils;

describe('kiln.utils.toCategorical', () => {
  it('leaves a tensor or a Variable it is given alive', async () => {
    const t = kiln.tensor([1, 0], [2], 'int32');
    const v = new kiln.Variable(kiln.tensor([2, 1], [2], 'int32'));
    kiln.dispose([toCategorical(t, 3), toCategorical(v, 3)]);
    expect([await t.array(), await v.array()]).toEqual([[1, 0], [2, 1]]);
    t.dispose();
    v.dispose();
  });

  it("matches Keras's documented example and keeps any leading shape", async () => {
    const a = toCategorical([0, 1, 2, 3], 4);
    expect(a.dtype).toBe('float32');
    expect(await a.array()).toEqual([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
    const b = toCategorical([[0, 2], [1, 0]]);
    expect(b.shape).toEqual([2, 2, 3]);
    expect(await b.array()).toEqual([[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [1, 0, 0]]]);
    expect(await toCategorical(2, 3).array()).toEqual([0, 0, 1]);
  });

  it('replaces a last axis of size 1, as Keras does, and takes int32 tensors', async () => {
    expect(toCategorical([[1], [0]]).shape).toEqual([2, 2]);
    expect(await toCategorical(kiln.tensor([[2], [0]], undefined, 'int32'), 4).array()).toEqual([[0, 0, 1, 0], [1, 0, 0, 0]]);
    expect(toCategorical([1]).shape).toEqual([1, 2]);
    expect(toCategorical([], 3).shape).toEqual([0, 3]);
  });

  it('refuses negatives, non-integers, NaN, indices past numClasses and a bad numClasses', () => {
    expect(() => toCategorical([0, -1])).toThrow(/toCategorical.*integers >= 0, got -1 at flat position 1/);
    expect(() => toCategorical([0.5])).toThrow(/toCategorical.*got 0.5/);
    expect(() => toCategorical([NaN])).toThrow(/toCategorical.*got NaN/);
    expect(() => toCategorical([0, 3], 3)).toThrow(/toCategorical.*class index 3 at flat position 1 is not below numClasses 3/);
    expect(() => toCategorical([0], 0)).toThrow(/numClasses must be a positive integer, got 0/);
    expect(() => toCategorical([])).toThrow(/cannot infer numClasses/);
  });
});

describe('kiln.utils.padSequences', () => {
  const seq = [[1], [2, 3], [4, 5, 6]];
  it("matches Keras's documented examples", async () => {
    const a = padSequences(seq);
    expect(a.dtype).toBe('int32');
    expect(await a.array()).toEqual([[0, 0, 1], [0, 2, 3], [4, 5, 6]]);
    expect(await padSequences(seq, { value: -1 }).array()).toEqual([[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]);
    expect(await padSequences(seq, { padding: 'post' }).array()).toEqual([[1, 0, 0], [2, 3, 0], [4, 5, 6]]);
    expect(await padSequences(seq, { maxlen: 2 }).array()).toEqual([[0, 1], [2, 3], [5, 6]]);
  });

  it('truncates post, casts to the dtype, pads empty sequences and keeps a step shape', async () => {
    expect(await padSequences(seq, { maxlen: 2, truncating: 'post', padding: 'post' }).array()).toEqual([[1, 0], [2, 3], [4, 5]]);
    // numpy casts 1.7 and -1.7 to int32 toward 0
    expect(await padSequences([[1.7, -1.7], []], { value: 2.9 }).array()).toEqual([[1, -1], [2, 2]]);
    const f = padSequences([[0.5], []], { dtype: 'float32', maxlen: 3, value: 0.25 });
    expect(f.dtype).toBe('float32');
    expect(await f.array()).toEqual([[0.25, 0.25, 0.5], [0.25, 0.25, 0.25]]);
    const steps = padSequences([[[1, 2]], [[3, 4], [5, 6]]], { padding: 'post' });
    expect(steps.shape).toEqual([2, 2, 2]);
    expect(await steps.array()).toEqual([[[1, 2], [0, 0]], [[3, 4], [5, 6]]]);
    expect(padSequences([], { maxlen: 4 }).shape).toEqual([0, 4]);
    expect(padSequences([[1, 2]], { maxlen: 0 }).shape).toEqual([1, 0]);
    expect(await padSequences([Int32Array.from([7, 8])], { maxlen: 3 }).array()).toEqual([[0, 7, 8]]);
  });

  it('refuses bad options and mismatched steps', () => {
    expect(() => padSequences(seq, { padding: 'mid' as never })).toThrow(/padSequences.*padding must be 'pre' or 'post', got mid/);
    expect(() => padSequences(seq, { truncating: 'x' as never })).toThrow(/truncating must be 'pre' or 'post'/);
    expect(() => padSequences(seq, { maxlen: -1 })).toThrow(/maxlen must be an integer >= 0, got -1/);
    expect(() => padSequences([])).toThrow(/cannot infer maxlen/);
    expect(() => padSequences([[1], 2 as never])).toThrow(/sequence 1 is not an array/);
    expect(() => padSequences([[[1, 2]], [[3]]])).toThrow(/a step of sequence 1 has shape \[1\], but the first step has \[2\]/);
  });
});

describe('kiln.utils.timeseriesDatasetFromArray', () => {
  it("yields Keras's example 1 windows (length 10, sampling 2, stride 3 over 0..98)", async () => {
    const data = Array.from({ length: 99 }, (_, i) => i);
    const ds = timeseriesDatasetFromArray(data, null, 10, { samplingRate: 2, sequenceStride: 3, batchSize: null });
    const windows = (await collect(ds)) as number[][];
    // starts 0, 3, …, 78: the next (81) would need row 99
    expect(windows).toHaveLength(27);
    expect(ds.cardinality()).toBe(27);
    expect(windows[0]).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(windows[1]).toEqual([3, 5, 7, 9, 11, 13, 15, 17, 19, 21]);
    expect(windows[2]).toEqual([6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
    expect(windows.at(-1)).toEqual([78, 80, 82, 84, 86, 88, 90, 92, 94, 96]);
  });

  it("pairs windows with targets as Keras's example 2 (the past 10 steps predict the next)", async () => {
    const series = Array.from({ length: 30 }, (_, i) => i * i);
    const ds = timeseriesDatasetFromArray(series.slice(0, -10), series.slice(10), 10, { batchSize: 4 });
    const batches = (await collect(ds)) as [number[][], number[]][];
    // 20 inputs give 11 windows: batches of 4, 4, 3
    expect(batches.map(([x]) => x.length)).toEqual([4, 4, 3]);
    const windows = batches.flatMap(([x]) => x);
    const targets = batches.flatMap(([, y]) => y);
    windows.forEach((w, i) => expect(w).toEqual(series.slice(i, i + 10)));
    expect(targets).toEqual(series.slice(10, 21));
  });

  it('keeps the rows of multi-feature data, honours startIndex and endIndex, and never outruns the targets', async () => {
    const data = Array.from({ length: 12 }, (_, i) => [i, -i]);
    const ds = timeseriesDatasetFromArray(data, Array.from({ length: 12 }, (_, i) => 100 + i), 3, { startIndex: 2, endIndex: 9, sequenceStride: 2, batchSize: null });
    // rows 2..8: windows start at 2, 4, 6; targets are rows 2, 4, 6 of targets
    expect(await collect(ds)).toEqual([
      [[[2, -2], [3, -3], [4, -4]], 102],
      [[[4, -4], [5, -5], [6, -6]], 104],
      [[[6, -6], [7, -7], [8, -8]], 106],
    ]);
    const few = timeseriesDatasetFromArray(Array.from({ length: 10 }, (_, i) => i), [0, 1], 3, { batchSize: null });
    expect(await collect(few)).toEqual([[[0, 1, 2], 0], [[1, 2, 3], 1]]);
    expect(await collect(timeseriesDatasetFromArray([1, 2, 3], null, 5, { batchSize: null }))).toEqual([]);
  });

  it('shuffles every window exactly once, the same with the same seed', async () => {
    const data = Array.from({ length: 50 }, (_, i) => i);
    const firsts = async (seed: number) => ((await collect(timeseriesDatasetFromArray(data, null, 2, { shuffle: true, seed, batchSize: 5 }))) as number[][][]).flat().map((w) => w[0]);
    const a = await firsts(3);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 49 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 49 }, (_, i) => i));
    expect(await firsts(3)).toEqual(a);
  });

  it("refuses what Keras refuses, naming the option", () => {
    const d = [1, 2, 3, 4];
    expect(() => timeseriesDatasetFromArray(d, null, 2, { startIndex: 4 })).toThrow(/timeseriesDatasetFromArray.*startIndex must be lower than the length of the data, got startIndex 4 for data of length 4/);
    expect(() => timeseriesDatasetFromArray(d, null, 2, { startIndex: 2, endIndex: 2 })).toThrow(/endIndex must be higher than startIndex/);
    expect(() => timeseriesDatasetFromArray(d, null, 2, { endIndex: 4 })).toThrow(/endIndex must be lower than the length/);
    expect(() => timeseriesDatasetFromArray(d, null, 2, { samplingRate: 0 })).toThrow(/samplingRate must be a positive integer, got 0/);
    expect(() => timeseriesDatasetFromArray(d, null, 2, { samplingRate: 4 })).toThrow(/samplingRate must be lower/);
    expect(() => timeseriesDatasetFromArray(d, null, 2, { sequenceStride: 4 })).toThrow(/sequenceStride must be lower/);
    expect(() => timeseriesDatasetFromArray(d, null, 0)).toThrow(/sequenceLength must be a positive integer, got 0/);
    expect(() => timeseriesDatasetFromArray(3, null, 1)).toThrow(/data must have an axis of time steps/);
  });
});

describe('kiln.utils.splitDataset', () => {
  const x = Array.from({ length: 10 }, (_, i) => [i, 10 * i]);
  const y = Array.from({ length: 10 }, (_, i) => i);

  it('splits arrays into the first leftSize and the last rightSize rows', async () => {
    // a tuple of plain nested arrays would be one ragged array (as in fromTensorSlices): tensors make the tuple
    const [l, r] = splitDataset([kiln.tensor(x), kiln.tensor(y)], { leftSize: 0.8 });
    expect(l.cardinality()).toBe(8);
    expect(r.cardinality()).toBe(2);
    expect(await collect(l)).toEqual(x.slice(0, 8).map((row, i) => [row, y[i]]));
    expect(await collect(r)).toEqual(x.slice(8).map((row, i) => [row, y[8 + i]]));
    // counts; the rows between the two parts are dropped
    const [a, b] = splitDataset(y, { leftSize: 3, rightSize: 2 });
    expect(await collect(a)).toEqual([0, 1, 2]);
    expect(await collect(b)).toEqual([8, 9]);
    // Python rounds half to even: 0.25 * 10 = 2.5 -> 2, 0.35 * 10 = 3.5 -> 4
    expect(splitDataset(y, { rightSize: 0.25 })[1].cardinality()).toBe(2);
    expect(splitDataset(y, { leftSize: 0.35 })[0].cardinality()).toBe(4);
  });

  it('shuffles with a seed: both parts together hold every row once, the same for the same seed', async () => {
    const take = async (seed: number) => {
      const [l, r] = splitDataset({ a: y }, { leftSize: 6, shuffle: true, seed });
      return [...((await collect(l)) as { a: number }[]), ...((await collect(r)) as { a: number }[])].map((e) => e.a);
    };
    const order = await take(7);
    expect([...order].sort((p, q) => p - q)).toEqual(y);
    expect(order).not.toEqual(y);
    expect(await take(7)).toEqual(order);
  });

  it('splits a Dataset by its elements', async () => {
    const [l, r] = await splitDataset(range(5), { rightSize: 0.4 });
    expect(await collect(l)).toEqual([0, 1, 2]);
    expect(await collect(r)).toEqual([3, 4]);
    // a second pass gives the same elements
    expect(await collect(r)).toEqual([3, 4]);
  });

  it("refuses Keras's bad sizes, naming them", async () => {
    expect(() => splitDataset(y, {})).toThrow(/splitDataset.*at least one of leftSize or rightSize/);
    expect(() => splitDataset(y, { leftSize: 10 })).toThrow(/leftSize must be a positive integer smaller than the 10 samples, or a fraction in \(0, 1\), got 10/);
    expect(() => splitDataset(y, { rightSize: 0 })).toThrow(/rightSize must be/);
    expect(() => splitDataset(y, { leftSize: 1.5 })).toThrow(/leftSize must be/);
    expect(() => splitDataset(y, { leftSize: 0.7, rightSize: 0.5 })).toThrow(/leftSize \+ rightSize must be at most 1/);
    expect(() => splitDataset(y, { leftSize: 6, rightSize: 5 })).toThrow(/at most the 10 samples, got 6 \+ 5/);
    expect(() => splitDataset(y, { leftSize: 0.01 })).toThrow(/leave the left part empty/);
    await expect(splitDataset(range(3).repeat(), { leftSize: 1 })).rejects.toThrow(/cannot split an infinite dataset/);
  });
});
