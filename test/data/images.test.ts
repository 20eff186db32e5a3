import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as kiln from '../../index.js';
import { collect } from './helpers.js';

const { imageDatasetFromDirectory } = kiln.data;
const root = mkdtempSync(join(tmpdir(), 'kiln-imgds-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A PNG written by pngjs: `width` × `height` pixels of `rgb` (colour type 2). */
function png(path: string, rgb: readonly number[], width = 2, height = 2): void {
  mkdirSync(dirname(path), { recursive: true });
  const data = Buffer.from(Array.from({ length: width * height }, () => rgb).flat());
  writeFileSync(path, PNG.sync.write({ width, height, data } as unknown as PNG, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
}

/** A 2 × 2 gray PNG whose pixels are all `v`: the value tells which file an element came from. */
const solid = (path: string, v: number) => png(path, [v, v, v]);

/** The first value of each image of a pass (a dataset of [x, y] or of x, unbatched). */
async function ids(ds: AsyncIterable<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (const e of await collect(ds)) out.push(((Array.isArray(e) && Array.isArray(e[0]) && Array.isArray(e[0][0]) && Array.isArray(e[0][0][0]) ? e[0] : e) as number[][][])[0][0][0]);
  return out;
}

const pets = join(root, 'pets');
beforeAll(() => {
  solid(join(pets, 'dogs', 'd1.png'), 10);
  solid(join(pets, 'dogs', 'd2.PNG'), 11);
  solid(join(pets, 'dogs', 'sub', 'd3.png'), 12);
  solid(join(pets, 'dogs', 'a', 'y.png'), 13);
  solid(join(pets, 'dogs', 'a', 'inner', 'z.png'), 14);
  solid(join(pets, 'dogs', 'a-b', 'x.png'), 15);
  solid(join(pets, 'cats', 'c1.png'), 20);
  solid(join(pets, 'cats', 'c2.png'), 21);
  writeFileSync(join(pets, 'cats', 'notes.txt'), 'not an image');
  writeFileSync(join(pets, 'cats', 'c3.bmp'), 'BM: no decoder, so not listed');
  solid(join(pets, 'Birds', 'b1.png'), 30);
  solid(join(pets, '.hidden', 'h.png'), 99);
  solid(join(pets, 'top.png'), 50);
});

// Birds < cats < dogs by code unit; a folder's files, then its subfolders by their paths as text
// ('a' < 'a-b' < 'a/inner', since '-' < '/'), as Keras sorts os.walk's folders
const SORTED = [30, 20, 21, 10, 11, 13, 15, 14, 12];
const LABELS = [0, 1, 1, 2, 2, 2, 2, 2, 2];
const quiet = { verbose: false, shuffle: false, imageSize: [2, 2] } as const;

describe('imageDatasetFromDirectory: listing and labels', () => {
  it('reads class folders in sorted order (hidden folders, loose files and other formats left out)', async () => {
    const ds = await imageDatasetFromDirectory(pets, { ...quiet, batchSize: null });
    expect(ds.classNames).toEqual(['Birds', 'cats', 'dogs']);
    expect(ds.filePaths.map((p) => p.slice(pets.length + 1))).toEqual([
      'Birds/b1.png', 'cats/c1.png', 'cats/c2.png', 'dogs/d1.png', 'dogs/d2.PNG', 'dogs/a/y.png', 'dogs/a-b/x.png', 'dogs/a/inner/z.png', 'dogs/sub/d3.png',
    ].map((p) => join(...p.split('/'))));
    expect(ds.cardinality()).toBe(9);
    const elements = await collect(ds);
    expect(elements.map((e) => (e as [number[][][], number])[1])).toEqual(LABELS);
    expect(await ids(ds)).toEqual(SORTED);
    const it = ds[Symbol.asyncIterator]();
    const [x, y] = (await it.next()).value as [kiln.Tensor, kiln.Tensor];
    await it.return?.();
    expect([x.shape, x.dtype, y.shape, y.dtype]).toEqual([[2, 2, 3], 'float32', [], 'int32']);
    expect(await x.array()).toEqual([[[30, 30, 30], [30, 30, 30]], [[30, 30, 30], [30, 30, 30]]]);
    kiln.dispose([x, y]);
  });

  it('batches: int labels [batch], categorical one-hot [batch, classes], binary [batch, 1]', async () => {
    const int = await collect(await imageDatasetFromDirectory(pets, { ...quiet, batchSize: 4 }));
    expect(int.map((e) => (e as [unknown, number[]])[1])).toEqual([[0, 1, 1, 2], [2, 2, 2, 2], [2]]);
    const cat = await imageDatasetFromDirectory(pets, { ...quiet, batchSize: 4, labelMode: 'categorical' });
    expect(cat.cardinality()).toBe(3);
    const batches = await collect(cat);
    const oneHot = (l: number) => [0, 1, 2].map((k) => (k === l ? 1 : 0));
    expect(batches.map((e) => (e as [unknown, number[][]])[1])).toEqual([LABELS.slice(0, 4), LABELS.slice(4, 8), LABELS.slice(8)].map((b) => b.map(oneHot)));
    expect((batches[0] as [number[][][][]])[0].length).toBe(4);
    const bin = await imageDatasetFromDirectory(pets, { ...quiet, batchSize: 8, labelMode: 'binary', classNames: ['cats', 'dogs'] });
    const [[x, y]] = (await collect(bin.map(([x, y]) => [kiln.tensor(x.shape), kiln.tensor([...y.shape, y.dtype === 'float32' ? 1 : 0])]))) as number[][][];
    expect([x, y]).toEqual([[8, 2, 2, 3], [8, 1, 1]]);
    expect((await collect(bin)).map((e) => (e as [unknown, number[][]])[1])).toEqual([[[0], [0], [1], [1], [1], [1], [1], [1]]]);
  });

  it('classNames picks and orders the class folders', async () => {
    const ds = await imageDatasetFromDirectory(pets, { ...quiet, batchSize: null, classNames: ['dogs', 'Birds'] });
    expect(ds.classNames).toEqual(['dogs', 'Birds']);
    expect(await ids(ds)).toEqual([10, 11, 13, 15, 14, 12, 30]);
    expect((await collect(ds)).map((e) => (e as [unknown, number])[1])).toEqual([0, 0, 0, 0, 0, 0, 1]);
    await expect(imageDatasetFromDirectory(pets, { ...quiet, classNames: ['dogs', 'fish'] })).rejects.toThrow(/classNames \["fish"\] are not subfolders of .*pets: expected names among \["Birds","cats","dogs"\]/);
  });

  it('without labels reads the whole tree, as Keras does (loose and hidden files too)', async () => {
    const all = [50, 99, 30, 20, 21, 10, 11, 13, 15, 14, 12];
    for (const options of [{ labels: null }, { labelMode: null }] as const) {
      const ds = await imageDatasetFromDirectory(pets, { ...quiet, batchSize: null, ...options });
      expect(ds.classNames).toBeNull();
      const elements = await collect(ds);
      // each element is the image alone: its second row, not a label
      expect(elements.every((e) => Array.isArray((e as unknown[])[1]))).toBe(true);
      expect(await ids(ds)).toEqual(all);
    }
  });

  it('takes a label per file in the sorted order of the whole tree; classNames are the distinct labels', async () => {
    const given = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
    const ds = await imageDatasetFromDirectory(pets, { ...quiet, batchSize: null, labels: given });
    expect(ds.classNames).toEqual(['0', '1']);
    expect((await collect(ds)).map((e) => (e as [unknown, number])[1])).toEqual(given);
    await expect(imageDatasetFromDirectory(pets, { ...quiet, labels: [0, 1] })).rejects.toThrow(/imageDatasetFromDirectory: expected as many labels as image files: labels holds 2 while 11 files were found in .*pets/);
    await expect(imageDatasetFromDirectory(pets, { ...quiet, labels: given.map((l) => l * 5), labelMode: 'categorical' })).rejects.toThrow(/labelMode 'categorical' needs labels 0 to 1 .*got \["0","5"\]/);
    await expect(imageDatasetFromDirectory(pets, { ...quiet, labels: given.map((l) => l * 2), labelMode: 'binary' })).rejects.toThrow(/labelMode 'binary' needs labels 0 and 1/);
  });

  it('follows links to folders only with followLinks, and not round a loop', async () => {
    const linked = join(root, 'linked');
    solid(join(linked, 'a', 'one.png'), 1);
    solid(join(root, 'elsewhere', 'two.png'), 2);
    symlinkSync(join(root, 'elsewhere'), join(linked, 'a', 'more'));
    symlinkSync(join(linked, 'a'), join(linked, 'a', 'loop'));
    // a link at the top is a class either way (os.path.isdir follows links)
    symlinkSync(join(root, 'elsewhere'), join(linked, 'b'));
    const plain = await imageDatasetFromDirectory(linked, { ...quiet, batchSize: null });
    expect([plain.classNames, await ids(plain)]).toEqual([['a', 'b'], [1, 2]]);
    const followed = await imageDatasetFromDirectory(linked, { ...quiet, batchSize: null, followLinks: true });
    expect(await ids(followed)).toEqual([1, 2, 2]);
  });
});

describe('imageDatasetFromDirectory: order and splits', () => {
  it('shuffles reproducibly with a seed: the same orders pass by pass, a new order each pass', async () => {
    const make = (seed: number) => imageDatasetFromDirectory(pets, { verbose: false, imageSize: [2, 2], batchSize: null, seed });
    const [a, b, c] = [await make(3), await make(3), await make(4)];
    const [a1, a2, b1, b2] = [await ids(a), await ids(a), await ids(b), await ids(b)];
    expect([...a1].sort((p, q) => p - q)).toEqual([...SORTED].sort((p, q) => p - q));
    expect(b1).toEqual(a1);
    expect(b2).toEqual(a2);
    expect(a2).not.toEqual(a1);
    expect(await ids(c)).not.toEqual(a1);
    // labels travel with their images
    for (const e of await collect(a)) {
      const [x, y] = e as [number[][][], number];
      expect(y).toBe(LABELS[SORTED.indexOf(x[0][0][0])]);
    }
  });

  it('validationSplit cuts one seeded order: disjoint, complete, the same on every call', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const options = { imageSize: [2, 2], batchSize: null, validationSplit: 0.3, seed: 5 } as const;
    const train = await imageDatasetFromDirectory(pets, { ...options, subset: 'training' });
    const val = await imageDatasetFromDirectory(pets, { ...options, subset: 'validation' });
    const [train2, val2] = await imageDatasetFromDirectory(pets, { ...options, subset: 'both' });
    expect(log.mock.calls.map((c) => c[0])).toEqual([
      'Found 9 files belonging to 3 classes.', 'Using 7 files for training.',
      'Found 9 files belonging to 3 classes.', 'Using 2 files for validation.',
      'Found 9 files belonging to 3 classes.', 'Using 7 files for training.', 'Using 2 files for validation.',
    ]);
    log.mockRestore();
    // floor(0.3 · 9) = 2 for validation
    expect([train.filePaths.length, val.filePaths.length]).toEqual([7, 2]);
    expect(train2.filePaths).toEqual(train.filePaths);
    expect(val2.filePaths).toEqual(val.filePaths);
    expect(new Set([...train.filePaths, ...val.filePaths]).size).toBe(9);
    const byPath = new Map(train.filePaths.concat(val.filePaths).map((p) => [p, p]));
    expect(byPath.size).toBe(9);
    // the elements are the files listed
    const allIds = [...(await ids(train)), ...(await ids(val))].sort((p, q) => p - q);
    expect(allIds).toEqual([...SORTED].sort((p, q) => p - q));
    // the validation part of 'both' is not reshuffled: its order is filePaths' order, every pass
    expect(await ids(val2)).toEqual(await ids(val2));
    expect(train2.classNames).toEqual(['Birds', 'cats', 'dogs']);
  });

  it('without shuffle the validation part is the last files in sorted order', async () => {
    const val = await imageDatasetFromDirectory(pets, { ...quiet, batchSize: null, validationSplit: 0.3, subset: 'validation' });
    expect(await ids(val)).toEqual(SORTED.slice(7));
  });
});

describe('imageDatasetFromDirectory: pixels', () => {
  const shapes = join(root, 'shapes');
  beforeAll(() => {
    png(join(shapes, 'a', 'row.png'), [0, 0, 0], 1, 1);
    const path = join(shapes, 'a', 'row.png');
    // a 4 × 1 RGB row: red, then gray 10, 20, 30
    const data = Buffer.from([255, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30]);
    writeFileSync(path, PNG.sync.write({ width: 4, height: 1, data } as unknown as PNG, { colorType: 2, inputColorType: 2, inputHasAlpha: false }));
  });
  const first = async (options: kiln.data.ImageDatasetOptions) => {
    const ds = await imageDatasetFromDirectory(shapes, { verbose: false, batchSize: null, labels: null, ...options });
    const [x] = await collect(ds);
    return x;
  };

  it('resizes to imageSize as tf.image.resize: bilinear (the default) and nearest', async () => {
    // bilinear 4 → 2 samples positions 0.5 and 2.5: (255 + 10)/2, (20 + 30)/2 for red
    expect(await first({ imageSize: [1, 2] })).toEqual([[[132.5, 5, 5], [25, 25, 25]]]);
    // nearest: floor(0.5·2) = 1, floor(1.5·2) = 3
    expect(await first({ imageSize: [1, 2], interpolation: 'nearest' })).toEqual([[[10, 10, 10], [30, 30, 30]]]);
    expect(await first({ imageSize: [1, 2], interpolation: 'NEAREST' as never })).toEqual([[[10, 10, 10], [30, 30, 30]]]);
  });

  it('converts to colorMode and lays out dataFormat', async () => {
    // luma of red: 255 · 0.299 = 76.245 → 76
    expect(await first({ imageSize: [1, 4], colorMode: 'grayscale' })).toEqual([[[76], [10], [20], [30]]]);
    expect(await first({ imageSize: [1, 2], colorMode: 'rgba', interpolation: 'nearest' })).toEqual([[[10, 10, 10, 255], [30, 30, 30, 255]]]);
    expect(await first({ imageSize: [1, 2], dataFormat: 'channelsFirst', interpolation: 'nearest' })).toEqual([[[10, 30]], [[10, 30]], [[10, 30]]]);
    expect(await first({ imageSize: [1, 2], cropToAspectRatio: true, interpolation: 'nearest' })).toEqual([[[10, 10, 10], [20, 20, 20]]]);
  });
});

describe('imageDatasetFromDirectory: files are read as the dataset is iterated', () => {
  const lazy = join(root, 'lazy');
  beforeAll(() => {
    for (let i = 0; i < 6; i++) solid(join(lazy, 'a', `${i}.png`), i);
    mkdirSync(join(lazy, 'b'));
    writeFileSync(join(lazy, 'b', 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
  });

  it('makes the dataset without decoding, and fails the pass only when the broken file is reached, naming it', async () => {
    const ds = await imageDatasetFromDirectory(lazy, { ...quiet, batchSize: 2 });
    expect(ds.cardinality()).toBe(4);
    const firstTwo = await collect(ds.take(2));
    expect(firstTwo.map((e) => (e as [number[][][][]])[0].map((x) => x[0][0][0]))).toEqual([[0, 1], [2, 3]]);
    await expect(collect(ds)).rejects.toThrow(/imageDatasetFromDirectory: cannot decode .*broken.png as PNG: ./);
  });

  it('reads each file on each pass: a file changed after the dataset was made gives its new pixels', async () => {
    const ds = await imageDatasetFromDirectory(lazy, { ...quiet, batchSize: null, classNames: ['a'] });
    expect((await ids(ds))[0]).toBe(0);
    solid(join(lazy, 'a', '0.png'), 77);
    expect(await ids(ds)).toEqual([77, 1, 2, 3, 4, 5]);
    solid(join(lazy, 'a', '0.png'), 0);
  });

  it('stops fit with the broken file named, and frees what the pass made', async () => {
    const ds = await imageDatasetFromDirectory(lazy, { ...quiet, batchSize: 2 });
    const before = kiln.memory().numTensors;
    const model = new kiln.Sequential([kiln.Input({ shape: [2, 2, 3] }), new kiln.layers.Flatten(), new kiln.layers.Dense(2)]);
    model.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
    await expect(model.fit(ds, { epochs: 1, verbose: 0 })).rejects.toThrow(/cannot decode .*broken.png/);
    model.dispose();
    // the label range check's result waits for the next read (docs/indices.md); a read takes it
    const flush = kiln.zeros([1]);
    await flush.data();
    flush.dispose();
    expect(kiln.memory().numTensors).toBe(before);
  });
});

describe('imageDatasetFromDirectory: bad input', () => {
  const call = (options: object, dir = pets) => imageDatasetFromDirectory(dir, { verbose: false, ...options } as kiln.data.ImageDatasetOptions);

  it('names a directory that is missing, a file, or holds no class folders', async () => {
    await expect(call({}, join(root, 'nowhere'))).rejects.toThrow(/imageDatasetFromDirectory: the directory .*nowhere does not exist/);
    await expect(call({}, join(pets, 'top.png'))).rejects.toThrow(/.*top.png is a file, not a directory/);
    const flat = join(root, 'flat');
    solid(join(flat, 'loose.png'), 1);
    await expect(call({}, flat)).rejects.toThrow(/No images found in directory .*flat: with labels 'inferred' each class is a subfolder, and it has none/);
    const empty = join(root, 'empty-classes');
    mkdirSync(join(empty, 'a'), { recursive: true });
    writeFileSync(join(empty, 'a', 'x.gif'), 'GIF89a');
    await expect(call({}, empty)).rejects.toThrow(/No images found in directory .*empty-classes. Allowed formats: \('.jpeg', '.jpg', '.png'\)/);
  });

  it("checks validationSplit and subset as Keras does", async () => {
    await expect(call({ validationSplit: 0.2 })).rejects.toThrow(/validationSplit and subset go together: got validationSplit 0.2 and subset null/);
    await expect(call({ subset: 'training' })).rejects.toThrow(/validationSplit and subset go together/);
    for (const v of [0, 1, 1.5, -0.1, NaN]) await expect(call({ validationSplit: v, subset: 'training', seed: 1 })).rejects.toThrow(/validationSplit must be between 0 and 1 \(both excluded\)/);
    await expect(call({ validationSplit: 0.2, subset: 'test', seed: 1 })).rejects.toThrow(/subset must be 'training', 'validation' or 'both', got "test"/);
    await expect(call({ validationSplit: 0.2, subset: 'training' })).rejects.toThrow(/with a validationSplit and shuffle, pass a seed/);
    // 0.05 · 9 keeps no file for validation
    await expect(call({ validationSplit: 0.05, subset: 'both', seed: 1 })).rejects.toThrow(/No validation images found in directory/);
  });

  it('names the allowed values of each option', async () => {
    await expect(call({ colorMode: 'cmyk' })).rejects.toThrow(/colorMode must be one of 'grayscale', 'rgb', 'rgba', got "cmyk"/);
    await expect(call({ labelMode: 'sparse' })).rejects.toThrow(/labelMode must be 'int', 'categorical', 'binary' or null, got "sparse"/);
    await expect(call({ interpolation: 'area' })).rejects.toThrow(/interpolation must be 'bilinear' or 'nearest', got "area"/);
    for (const size of [[0, 5], [2.5, 3], [2], [2, 2, 2], 'big', -1]) await expect(call({ imageSize: size })).rejects.toThrow(/imageSize must be \[height, width\], two positive integers/);
    await expect(call({ batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer or null/);
    await expect(call({ labels: 'folders' })).rejects.toThrow(/labels must be 'inferred', null \(no labels\) or an array/);
    await expect(call({ labels: [0, -1] })).rejects.toThrow(/labels must be integers >= 0, got -1 at index 1/);
    await expect(call({ labels: [0], classNames: ['a'] })).rejects.toThrow(/classNames can only be given with labels 'inferred'/);
    await expect(call({ labelMode: null, classNames: ['cats'] })).rejects.toThrow(/classNames cannot be given without labels/);
    await expect(call({ labelMode: 'binary' })).rejects.toThrow(/labelMode 'binary' needs exactly 2 classes, got 3: \["Birds","cats","dogs"\]/);
    await expect(call({ cropToAspectRatio: true, padToAspectRatio: true })).rejects.toThrow(/only one of cropToAspectRatio and padToAspectRatio/);
    await expect(call({ seed: -3 })).rejects.toThrow(/expected an integer seed, got -3/);
    await expect(call({ shuffle: 'yes' })).rejects.toThrow(/shuffle must be true or false, got "yes"/);
    await expect(call({ dataFormat: 'hwc' })).rejects.toThrow(/dataFormat must be 'channelsLast' or 'channelsFirst'/);
  });

  it('prints what it found by default, as Keras', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await imageDatasetFromDirectory(pets);
    await imageDatasetFromDirectory(pets, { labels: null });
    expect(log.mock.calls.map((c) => c[0])).toEqual(['Found 9 files belonging to 3 classes.', 'Found 11 files.']);
    log.mockRestore();
  });
});

describe('imageDatasetFromDirectory: training', () => {
  it('a small CNN fits red against blue squares to 100% accuracy', async () => {
    const squares = join(root, 'squares');
    for (let i = 0; i < 12; i++) {
      // shades differ, so the model must learn the hue rather than one pixel value
      png(join(squares, 'blue', `${i}.png`), [20 + 5 * i, 10 * (i % 4), 140 + 9 * i], 8, 8);
      png(join(squares, 'red', `${i}.png`), [140 + 9 * i, 10 * (i % 4), 20 + 5 * i], 8, 8);
    }
    kiln.setSeed(7);
    const train = await imageDatasetFromDirectory(squares, { imageSize: [8, 8], batchSize: 8, seed: 7, verbose: false });
    expect(train.classNames).toEqual(['blue', 'red']);
    const { Rescaling, Conv2D, GlobalAveragePooling2D, Dense } = kiln.layers;
    const model = new kiln.Sequential([
      kiln.Input({ shape: [8, 8, 3] }), new Rescaling(1 / 255), new Conv2D(4, 3, { activation: 'relu' }), new GlobalAveragePooling2D(), new Dense(2, { activation: 'softmax' }),
    ]);
    model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.05 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const history = await model.fit(train, { epochs: 25, verbose: 0 });
    // it learned: the first epoch was not already right
    expect(history.history.accuracy[0]).toBeLessThan(1);
    expect(history.history.loss[24]).toBeLessThan(history.history.loss[0] / 10);
    const test = await imageDatasetFromDirectory(squares, { imageSize: [8, 8], shuffle: false, verbose: false });
    const { accuracy } = await model.evaluate(test, { verbose: 0 });
    expect(accuracy).toBe(1);
    model.dispose();
  });
});
