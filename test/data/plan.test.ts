import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as kiln from '../../index.js';
import { currentBackend } from '../../src/backends.js';
import { collect, range } from './helpers.js';

const { Dataset } = kiln.data;
/** `xs` in groups of `size` (the last one shorter), as batch groups them. */
const groups = (xs: number[], size: number) => Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, i * size + size));
/** A stage that changes nothing but makes the pipeline run element by element (the other path). */
const same = <T>(e: T) => e;

afterEach(() => vi.restoreAllMocks());

describe('batches gathered from a source of rows (data/plan.ts)', () => {
  it('take, skip, repeat and batch give the rows a direct loop gives', async () => {
    expect(await collect(range(10).skip(2).take(5).batch(2))).toEqual([[2, 3], [4, 5], [6]]);
    expect(await collect(range(10).skip(2).take(5).batch(2, { dropRemainder: true }))).toEqual([[2, 3], [4, 5]]);
    expect(await collect(range(3).repeat(2).batch(4))).toEqual([[0, 1, 2, 0], [1, 2]]);
    expect(await collect(range(3).take(0).repeat(-1).batch(4))).toEqual([]);
    expect(await collect(range(5).skip(-1).batch(2))).toEqual([]);
    expect(await collect(range(5).take(-1).skip(4).batch(2))).toEqual([[4]]);
    expect(await collect(range(4).batch(8, { dropRemainder: true }))).toEqual([]);
    // an endless repeat, cut by take after batch
    expect(await collect(range(3).repeat().batch(2).take(3))).toEqual([[0, 1], [2, 0], [1, 2]]);
  });

  it('shuffle gives the orders the element-by-element pipeline gives, pass after pass', async () => {
    for (const [bufferSize, seed] of [[1, 3], [4, 1], [30, 7]]) {
      const gathered = range(30).shuffle(bufferSize, { seed }).take(25).batch(4);
      const stepped = range(30).shuffle(bufferSize, { seed }).take(25).map(same).batch(4);
      for (let pass = 0; pass < 2; pass++) {
        const got = (await collect(gathered)) as number[][];
        expect(got).toEqual(await collect(stepped));
        expect(got.map((b) => b.length)).toEqual([4, 4, 4, 4, 4, 4, 1]);
        const flat = got.flat();
        expect(new Set(flat).size).toBe(25);
        // an element moves at most bufferSize - 1 places earlier
        flat.forEach((e, position) => expect(position).toBeGreaterThanOrEqual(e - bufferSize + 1));
      }
    }
    // shuffle after repeat, and repeat after shuffle (a new order per repetition)
    const a = range(6).shuffle(6, { seed: 2 }).repeat(2);
    expect(await collect(a.batch(4))).toEqual(groups((await collect(range(6).shuffle(6, { seed: 2 }).repeat(2).map(same))) as number[], 4));
    const b = range(6).repeat(2).shuffle(12, { seed: 2 });
    const bOrder = (await collect(range(6).repeat(2).shuffle(12, { seed: 2 }).map(same))) as number[];
    expect(await collect(b.batch(5))).toEqual(groups(bOrder, 5));
    expect([...bOrder].sort((x, y) => x - y)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it('one gather per tensor per batch, no slice per row; every tensor it made is freed', async () => {
    const x = kiln.tensor(Array.from({ length: 24 }, (_, i) => i), [6, 2, 2]);
    const y = kiln.tensor([10, 11, 12, 13, 14, 15], [6], 'int32');
    const backend = currentBackend();
    const gather = vi.spyOn(backend, 'gather');
    const slice = vi.spyOn(backend, 'slice');
    const before = kiln.memory().numTensors;
    const got = (await collect(Dataset.fromTensorSlices([x, y]).shuffle(6, { seed: 5 }).batch(4))) as [number[][][], number[]][];
    expect(gather).toHaveBeenCalledTimes(4);
    expect(slice).not.toHaveBeenCalled();
    expect(kiln.memory().numTensors).toBe(before);
    // each image stays with its label: x[i] = [[4i, 4i+1], [4i+2, 4i+3]], y[i] = 10 + i
    for (const [images, labels] of got) {
      labels.forEach((label, k) => expect(images[k]).toEqual([[4 * (label - 10), 4 * (label - 10) + 1], [4 * (label - 10) + 2, 4 * (label - 10) + 3]]));
    }
    expect(got.flatMap(([, l]) => l).sort()).toEqual([10, 11, 12, 13, 14, 15]);
    kiln.dispose([x, y]);
  });

  it("a file's arrays are read on each pass and freed at its end, also when fit stops early", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-plan-'));
    try {
      const images = join(dir, 'images.idx');
      const labels = join(dir, 'labels.idx');
      // 5 images of 1×2 bytes: image i = [i, 2i]; labels i % 2
      writeFileSync(images, Buffer.from([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 2, 2, 4, 3, 6, 4, 8]));
      writeFileSync(labels, Buffer.from([0, 0, 8, 1, 0, 0, 0, 5, 0, 1, 0, 1, 0]));
      const before = kiln.memory().numTensors;
      const ds = Dataset.fromIdx(images, labels, { dtype: 'float32' }).skip(1).batch(3);
      expect(await collect(ds)).toEqual([[[[[1, 2]], [[2, 4]], [[3, 6]]], [1, 0, 1]], [[[[4, 8]]], [0]]]);
      expect(await collect(ds, 1)).toEqual([[[[[1, 2]], [[2, 4]], [[3, 6]]], [1, 0, 1]]]);
      expect(kiln.memory().numTensors).toBe(before);
      const model = new kiln.Sequential([kiln.Input({ shape: [1, 2] }), new kiln.layers.Flatten(), new kiln.layers.Dense(2)]);
      model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
      await model.fit(Dataset.fromIdx(images, labels, { dtype: 'float32' }).repeat().batch(2), { epochs: 2, stepsPerEpoch: 3, verbose: 0 });
      model.dispose();
      expect(kiln.memory().numTensors).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
