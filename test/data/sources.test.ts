import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { collect } from './helpers.js';

const { Dataset } = kiln.data;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Dataset sources', () => {
  it('fromTensors is one element, the whole structure, on every pass', async () => {
    const x = kiln.tensor([[1, 2], [3, 4]]);
    const ds = Dataset.fromTensors({ a: x, b: [5, 6] });
    expect(ds.cardinality()).toBe(1);
    expect(await collect(ds)).toEqual([{ a: [[1, 2], [3, 4]], b: [5, 6] }]);
    expect(await collect(ds)).toEqual([{ a: [[1, 2], [3, 4]], b: [5, 6] }]);
    // the consumer freed what it took, and x is still the caller's
    expect(x.isDisposed).toBe(false);
  });

  it('fromTensorSlices slices x, [x, y], [x, y, w] and records along axis 0', async () => {
    const x = kiln.tensor([[1, 2], [3, 4], [5, 6]]);
    const y = kiln.tensor([0, 1, 0], [3], 'int32');
    expect(await collect(Dataset.fromTensorSlices(x))).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(await collect(Dataset.fromTensorSlices([x, y]))).toEqual([[[1, 2], 0], [[3, 4], 1], [[5, 6], 0]]);
    expect(await collect(Dataset.fromTensorSlices([x, y, [0.5, 1, 2]]))).toEqual([[[1, 2], 0, 0.5], [[3, 4], 1, 1], [[5, 6], 0, 2]]);
    expect(await collect(Dataset.fromTensorSlices({ pixels: x, label: y }))).toEqual([
      { pixels: [1, 2], label: 0 }, { pixels: [3, 4], label: 1 }, { pixels: [5, 6], label: 0 },
    ]);
    expect(Dataset.fromTensorSlices([x, y]).cardinality()).toBe(3);
  });

  it('is not a thenable: awaiting a dataset gives the dataset', async () => {
    const ds = Dataset.fromTensors(kiln.tensor([1]));
    expect(await Promise.resolve(ds)).toBe(ds);
  });

  it('fromTensorSlices names the lengths that differ', () => {
    const x = kiln.tensor([[1, 2], [3, 4], [5, 6]]);
    expect(() => Dataset.fromTensorSlices([x, kiln.tensor([1, 2])])).toThrow(/Dataset\.fromTensorSlices: .*same length.*0 \[3,2\]: 3, 1 \[2\]: 2/);
    expect(() => Dataset.fromTensorSlices(kiln.tensor(3))).toThrow(/cannot slice a scalar/);
  });

  it('fromGenerator calls the function on each pass; sync and async generators', async () => {
    let calls = 0;
    const ds = Dataset.fromGenerator(function* () {
      calls++;
      for (let i = 0; i < 3; i++) yield [kiln.tensor([i]), kiln.tensor([i * 10])];
    });
    expect(ds.cardinality()).toBe(-2);
    expect(await collect(ds)).toEqual([[[0], [0]], [[1], [10]], [[2], [20]]]);
    expect(await collect(ds)).toHaveLength(3);
    expect(calls).toBe(2);
    const asyncDs = Dataset.fromGenerator(async function* () {
      yield 1;
      yield [2, 3];
    });
    expect(await collect(asyncDs)).toEqual([1, [2, 3]]);
  });

  it('a generator that throws mid-epoch: the error names the stage and the element', async () => {
    const ds = Dataset.fromGenerator(function* () {
      yield kiln.tensor([1]);
      yield kiln.tensor([2]);
      throw new Error('disk on fire');
    }).map((x) => x);
    await expect(collect(ds)).rejects.toThrow('Dataset.fromGenerator: element 2 failed: disk on fire');
    expect(() => Dataset.fromGenerator(42 as never)).toThrow(/Dataset\.fromGenerator: expected a function/);
    const ragged = Dataset.fromGenerator(function* () {
      yield [1, 2];
      yield [[1, 2], [3]];
    });
    await expect(collect(ragged)).rejects.toThrow(/^Dataset\.fromGenerator: element 1 failed: /);
    await expect(collect(Dataset.fromGenerator((() => 7) as never))).rejects.toThrow('Dataset.fromGenerator: element 0 failed: Dataset.fromGenerator: expected an iterator or an iterable, got number');
  });

  it('fromIterable iterates again each pass and leaves the caller its tensors', async () => {
    const ts = [kiln.tensor([1, 2]), kiln.tensor([3, 4])];
    const ds = Dataset.fromIterable(ts);
    expect(await collect(ds)).toEqual([[1, 2], [3, 4]]);
    expect(await collect(ds)).toEqual([[1, 2], [3, 4]]);
    expect(ts.every((t) => !t.isDisposed)).toBe(true);
    async function* gen() {
      yield [kiln.tensor([1]), kiln.tensor([2])];
    }
    expect(await collect(Dataset.fromIterable(gen()))).toEqual([[[1], [2]]]);
  });

  it('fromNpy slices a .npy array along axis 0, reading the file on each pass', async () => {
    const path = join(dir, 'x.npy');
    await kiln.io.writeNpy(path, kiln.tensor([[1, 2], [3, 4], [5, 6]]));
    const before = kiln.memory().numTensors;
    const ds = Dataset.fromNpy(path);
    expect(await collect(ds)).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(kiln.memory().numTensors).toBe(before);
    await expect(collect(Dataset.fromNpy(join(dir, 'missing.npy')))).rejects.toThrow(/missing\.npy/);
  });

  it('fromIdx pairs images with labels, scaled, and checks their counts', async () => {
    // IDX: magic 0 0 0x08 (ubyte) rank, then big-endian sizes, then bytes
    const images = join(dir, 'images.idx');
    const labels = join(dir, 'labels.idx');
    const labels3 = join(dir, 'labels3.idx');
    await writeFile(images, Buffer.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 255, 51, 102]));
    await writeFile(labels, Buffer.from([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]));
    await writeFile(labels3, Buffer.from([0, 0, 8, 1, 0, 0, 0, 3, 7, 3, 1]));
    const ds = Dataset.fromIdx(images, labels, { dtype: 'float32', scale: 1 / 255 });
    const got = (await collect(ds)) as [number[][], number][];
    expect(got.map(([, l]) => l)).toEqual([7, 3]);
    expect(got[0][0][0][0]).toBe(0);
    expect(got[0][0][0][1]).toBeCloseTo(1, 6);
    expect(got[1][0][0][0]).toBeCloseTo(0.2, 6);
    expect(got[1][0][0][1]).toBeCloseTo(0.4, 6);
    expect(await collect(Dataset.fromIdx(images))).toEqual([[[0, 255]], [[51, 102]]]);
    await expect(collect(Dataset.fromIdx(images, labels3))).rejects.toThrow(/holds 2 images but .*labels3\.idx holds 3 labels/);
  });
});
