import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as kiln from '../../index.js';
import { resizeLikeTf } from '../../io/image-resize.js';

const { loadImg, imgToArray, arrayToImg, saveImg } = kiln.utils;
const dir = mkdtempSync(join(tmpdir(), 'kiln-img-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COLOR_TYPE = { 1: 0, 2: 4, 3: 2, 4: 6 } as const;

/** A PNG file written by pngjs from `values` (row after row, `channels` bytes a pixel; 2 is gray + alpha). */
function png(name: string, width: number, height: number, channels: 1 | 2 | 3 | 4, values: number[]): string {
  const path = join(dir, name);
  const colorType = COLOR_TYPE[channels];
  const source = { width, height, data: Buffer.from(values) } as unknown as PNG;
  writeFileSync(path, PNG.sync.write(source, { colorType, inputColorType: colorType, inputHasAlpha: channels === 2 || channels === 4 }));
  return path;
}

/** A JPEG file written by jpeg-js at quality 100 from RGB `values`. */
function jpg(name: string, width: number, height: number, values: number[]): string {
  const rgba = Buffer.alloc(width * height * 4, 255);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) rgba[p * 4 + c] = values[p * 3 + c];
  const path = join(dir, name);
  writeFileSync(path, jpeg.encode({ width, height, data: rgba }, 100).data);
  return path;
}

const bytes = (img: kiln.utils.Img) => Array.from(img.data);

describe('loadImg: decoding', () => {
  const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 255, 255, 255, 0, 0, 0];

  it('reads a PNG exactly, in each of its colour types', async () => {
    expect(await loadImg(png('rgb.png', 3, 2, 3, rgb))).toEqual({ width: 3, height: 2, channels: 3, data: Uint8Array.from(rgb) });
    const rgba = [1, 2, 3, 4, 250, 251, 252, 253];
    expect(bytes(await loadImg(png('rgba.png', 2, 1, 4, rgba), { colorMode: 'rgba' }))).toEqual(rgba);
    // gray stays gray; to RGB it is repeated, to RGBA alpha is 255
    const gray = png('gray.png', 3, 1, 1, [0, 128, 255]);
    expect(bytes(await loadImg(gray, { colorMode: 'grayscale' }))).toEqual([0, 128, 255]);
    expect(bytes(await loadImg(gray))).toEqual([0, 0, 0, 128, 128, 128, 255, 255, 255]);
    expect(bytes(await loadImg(gray, { colorMode: 'rgba' }))).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it('converts to grayscale with ITU-R 601-2 luma, L = R·0.299 + G·0.587 + B·0.114 rounded', async () => {
    // by hand: 76.245, 149.685, 29.07, 18.15, 255, 0
    const img = await loadImg(png('luma.png', 3, 2, 3, rgb), { colorMode: 'grayscale' });
    expect(img.channels).toBe(1);
    expect(bytes(img)).toEqual([76, 150, 29, 18, 255, 0]);
  });

  it('drops alpha for RGB and ignores it for grayscale, adds 255 for RGBA', async () => {
    const path = png('alpha.png', 2, 1, 4, [255, 0, 0, 0, 10, 20, 30, 128]);
    expect(bytes(await loadImg(path))).toEqual([255, 0, 0, 10, 20, 30]);
    expect(bytes(await loadImg(path, { colorMode: 'grayscale' }))).toEqual([76, 18]);
    expect(bytes(await loadImg(png('plain.png', 1, 1, 3, [7, 8, 9]), { colorMode: 'rgba' }))).toEqual([7, 8, 9, 255]);
    expect(bytes(await loadImg(png('gray-alpha.png', 1, 1, 2, [90, 3])))).toEqual([90, 90, 90]);
  });

  it('reads a quality-100 JPEG within 3 of the pixels written', async () => {
    const w = 16;
    const values = Array.from({ length: w * w * 3 }, (_, i) => {
      const [p, c] = [Math.floor(i / 3), i % 3];
      return [(p % w) * 16, Math.floor(p / w) * 16, 128][c];
    });
    const img = await loadImg(jpg('grad.jpg', w, w, values));
    expect([img.width, img.height, img.channels]).toEqual([w, w, 3]);
    const worst = Math.max(...values.map((v, i) => Math.abs(v - img.data[i])));
    expect(worst).toBeLessThanOrEqual(3);
  });

  it('tells the format by the bytes, not the name', async () => {
    const path = join(dir, 'really-a-png.jpg');
    writeFileSync(path, readFileSync(png('src.png', 1, 1, 3, [1, 2, 3])));
    expect(bytes(await loadImg(path))).toEqual([1, 2, 3]);
  });
});

describe('loadImg: resizing as PIL does', () => {
  it('nearest (the default) takes pixel floor((o + 0.5)·in/out): half-pixel centres', async () => {
    const path = png('row.png', 3, 1, 1, [0, 10, 20]);
    // 0.75 → 0, 2.25 → 2 (corner-aligned sampling would take 0 and 1)
    expect(bytes(await loadImg(path, { colorMode: 'grayscale', targetSize: [1, 2] }))).toEqual([0, 20]);
  });

  it('bilinear averages over the shrunk footprint (a triangle 3 pixels wide at 6 → 2)', async () => {
    const path = png('six.png', 6, 1, 1, [0, 12, 24, 36, 48, 60]);
    // by hand: centre 1.5, weights 1 − |i − 1|/3 over i = 0..3 normalised: 0.25, 0.375, 0.25, 0.125 → 15;
    // centre 4.5: 0.125, 0.25, 0.375, 0.25 over i = 2..5 → 45
    expect(bytes(await loadImg(path, { colorMode: 'grayscale', targetSize: [1, 2], interpolation: 'bilinear' }))).toEqual([15, 45]);
    // enlarging: the two pixels around (o + 0.5)/2 − 0.5, edges clamped: 0, 25, 75, 100
    const two = png('two.png', 2, 1, 1, [0, 100]);
    expect(bytes(await loadImg(two, { colorMode: 'grayscale', targetSize: [1, 4], interpolation: 'bilinear' }))).toEqual([0, 25, 75, 100]);
  });

  it('bilinear RGBA works on premultiplied colours, so a transparent pixel does not tint its neighbours', async () => {
    const path = png('fade.png', 2, 1, 4, [255, 0, 0, 255, 0, 0, 255, 0]);
    const img = await loadImg(path, { colorMode: 'rgba', targetSize: [1, 4], interpolation: 'bilinear' });
    // alpha: 255, 0.75·255 = 191.25 → 191, 63.75 → 64, 0; red·alpha / alpha stays 255; blue·0 stays 0
    expect(bytes(img)).toEqual([255, 0, 0, 255, 255, 0, 0, 191, 255, 0, 0, 64, 0, 0, 0, 0]);
  });

  it('keepAspectRatio crops the centred window of the target aspect first', async () => {
    const path = png('wide.png', 4, 2, 1, [0, 10, 20, 30, 40, 50, 60, 70]);
    const img = await loadImg(path, { colorMode: 'grayscale', targetSize: [2, 2], keepAspectRatio: true });
    expect(bytes(img)).toEqual([10, 20, 50, 60]);
    // without it the 4 columns are squeezed: nearest takes 0.5·2 = 1 → column 1, 1.5·2 = 3 → column 3
    expect(bytes(await loadImg(path, { colorMode: 'grayscale', targetSize: [2, 2] }))).toEqual([10, 30, 50, 70]);
    // a window of floor(1 · 1/8) = 0 rows keeps one, the middle one: row floor((4 − 1)/2) = 1
    const tall = png('tall.png', 1, 4, 1, [0, 10, 20, 30]);
    expect(bytes(await loadImg(tall, { colorMode: 'grayscale', targetSize: [1, 8], keepAspectRatio: true }))).toEqual(new Array(8).fill(10));
  });
});

describe('resizing as tf.image.resize does (image datasets)', () => {
  const gray = (w: number, h: number, values: number[]): kiln.utils.Img => ({ width: w, height: h, channels: 1, data: Uint8Array.from(values) });

  it('bilinear samples at (o + 0.5)·in/out − 0.5 with edges clamped, and skips pixels when shrinking', () => {
    expect(Array.from(resizeLikeTf(gray(2, 1, [0, 100]), 1, 4, { interpolation: 'bilinear' }))).toEqual([0, 25, 75, 100]);
    // 6 → 2: positions 1 and 4 exactly, no averaging (PIL gives 15 and 45)
    expect(Array.from(resizeLikeTf(gray(6, 1, [0, 12, 24, 36, 48, 60]), 1, 2, { interpolation: 'bilinear' }))).toEqual([12, 48]);
    expect(Array.from(resizeLikeTf(gray(4, 1, [0, 10, 20, 30]), 1, 2, { interpolation: 'bilinear' }))).toEqual([5, 25]);
    // 2 × 2 → 4 × 4: rows and columns each weighted 1, ¾ ¼, ¼ ¾, 1
    const big = resizeLikeTf(gray(2, 2, [0, 100, 200, 255]), 4, 4, { interpolation: 'bilinear' });
    const row = (a: number, b: number) => [a, 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b, b];
    const [top, bottom] = [row(0, 100), row(200, 255)];
    const expected = [0, 0.25, 0.75, 1].flatMap((t) => top.map((v, i) => v * (1 - t) + bottom[i] * t));
    Array.from(big).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
  });

  it('nearest takes floor((o + 0.5)·in/out)', () => {
    expect(Array.from(resizeLikeTf(gray(3, 1, [0, 10, 20]), 1, 2, { interpolation: 'nearest' }))).toEqual([0, 20]);
    expect(Array.from(resizeLikeTf(gray(4, 1, [0, 10, 20, 30]), 1, 3, { interpolation: 'nearest' }))).toEqual([0, 20, 30]);
    expect(Array.from(resizeLikeTf(gray(2, 1, [0, 100]), 1, 4, { interpolation: 'nearest' }))).toEqual([0, 0, 100, 100]);
  });

  it('cropToAspectRatio resizes the centred window; padToAspectRatio fits the image inside, zeros around', () => {
    const wide = gray(4, 2, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(resizeLikeTf(wide, 2, 2, { interpolation: 'nearest', cropToAspectRatio: true }))).toEqual([2, 3, 6, 7]);
    // 4 × 2 in 4 × 4: scale 1, placed at row floor((4 − 2)/2) = 1
    expect(Array.from(resizeLikeTf(wide, 4, 4, { interpolation: 'nearest', padToAspectRatio: true }))).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
    // 2 × 1 in 3 × 3: scaled by 1.5 to 3 × 1.5 → 3 × 1 at row floor(0.75) = 0; bilinear [10, 20, 30]
    expect(Array.from(resizeLikeTf(gray(2, 1, [10, 30]), 3, 3, { interpolation: 'bilinear', padToAspectRatio: true }))).toEqual([10, 20, 30, 0, 0, 0, 0, 0, 0]);
  });

  it('keeps the channels apart', () => {
    const img: kiln.utils.Img = { width: 2, height: 1, channels: 3, data: Uint8Array.from([0, 100, 200, 100, 200, 0]) };
    expect(Array.from(resizeLikeTf(img, 1, 4, { interpolation: 'bilinear' }))).toEqual([0, 100, 200, 25, 125, 150, 75, 175, 50, 100, 200, 0]);
  });
});

describe('imgToArray and arrayToImg', () => {
  const img: kiln.utils.Img = { width: 2, height: 1, channels: 3, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };

  it('imgToArray lays the pixels out [h, w, c] or [c, h, w] as float32', async () => {
    const last = imgToArray(img);
    expect([last.shape, last.dtype]).toEqual([[1, 2, 3], 'float32']);
    expect(await last.array()).toEqual([[[1, 2, 3], [4, 5, 6]]]);
    expect(await imgToArray(img, { dataFormat: 'channelsFirst' }).array()).toEqual([[[1, 4]], [[2, 5]], [[3, 6]]]);
    expect(() => imgToArray({ ...img, data: new Uint8Array(5) })).toThrow(/imgToArray: an image of 2 × 1 pixels and 3 channels holds 6 bytes, got 5/);
    expect(() => imgToArray({ ...img, channels: 2 } as never)).toThrow(/1, 3 or 4 channels, got 2/);
    expect(() => imgToArray(img, { dataFormat: 'nchw' as never })).toThrow(/dataFormat must be 'channelsLast' or 'channelsFirst'/);
  });

  it('arrayToImg stretches to 0..255 by default and truncates, as Keras', async () => {
    // (v − 0) / 4 · 255: 0, 63.75, 127.5, 255
    expect(bytes(await arrayToImg([[[0], [1]], [[2], [4]]]))).toEqual([0, 63, 127, 255]);
    expect(bytes(await arrayToImg([[[-1], [1]]]))).toEqual([0, 255]);
    expect(bytes(await arrayToImg([[[5], [5]]]))).toEqual([0, 0]);
    // unscaled: truncated, and clipped into 0..255
    expect(bytes(await arrayToImg([[[-3], [300.7], [12.9]]], { scale: false }))).toEqual([0, 255, 12]);
    const rgb = await arrayToImg([[[1, 2]], [[3, 4]], [[5, 6]]], { dataFormat: 'channelsFirst', scale: false });
    expect([rgb.width, rgb.height, rgb.channels, ...bytes(rgb)]).toEqual([2, 1, 3, 1, 3, 5, 2, 4, 6]);
  });

  it('leaves a tensor or Variable it is given alive, and frees the tensor it makes from arrays', async () => {
    const t = kiln.tensor([[[1], [2]]]);
    const v = new kiln.Variable(kiln.tensor([[[3], [4]]]));
    const before = kiln.memory().numTensors;
    await arrayToImg(t);
    await arrayToImg(v);
    await arrayToImg([[[5], [6]]]);
    expect(kiln.memory().numTensors).toBe(before);
    expect([await t.array(), await v.value.array()]).toEqual([[[[1], [2]]], [[[3], [4]]]]);
    kiln.dispose(t);
    v.dispose();
  });

  it('round-trips an Img through imgToArray without scaling', async () => {
    expect(await arrayToImg(imgToArray(img), { scale: false })).toEqual(img);
  });

  it('refuses arrays that are not one image', async () => {
    await expect(arrayToImg([[1, 2]])).rejects.toThrow(/arrayToImg: expected an image array of rank 3 \(one image\), got shape \[1,2\]/);
    await expect(arrayToImg([[[1, 2]]])).rejects.toThrow(/1, 3 or 4 channels, got 2/);
    await expect(arrayToImg([[[1], [NaN]]])).rejects.toThrow(/holds NaN at flat index 1/);
    await expect(arrayToImg([[[Infinity]]])).rejects.toThrow(/holds Infinity/);
  });
});

describe('saveImg', () => {
  const pixels = [[[0, 50, 100], [150, 200, 250]], [[10, 20, 30], [40, 60, 80]]];

  it('writes a PNG that pngjs reads back exactly', async () => {
    const path = join(dir, 'out.png');
    await saveImg(path, pixels, { scale: false });
    const back = PNG.sync.read(readFileSync(path));
    expect([back.width, back.height]).toEqual([2, 2]);
    expect(Array.from(back.data)).toEqual(pixels.flat().flatMap((p) => [...p, 255]));
    // gray and RGBA keep their channels
    await saveImg(join(dir, 'g.png'), [[[7], [9]]], { scale: false });
    expect(bytes(await loadImg(join(dir, 'g.png'), { colorMode: 'grayscale' }))).toEqual([7, 9]);
    await saveImg(join(dir, 'a.png'), [[[1, 2, 3, 4]]], { scale: false });
    expect(bytes(await loadImg(join(dir, 'a.png'), { colorMode: 'rgba' }))).toEqual([1, 2, 3, 4]);
  });

  it('writes a JPEG (by extension or fileFormat) that jpeg-js reads back within 3 at quality 100', async () => {
    const flat = Array.from({ length: 8 * 8 * 3 }, (_, i) => 100 + (i % 3) * 20);
    const x = kiln.tensor(flat, [8, 8, 3]);
    for (const [name, fileFormat] of [['out.jpg', undefined], ['out.jpeg', undefined], ['noext', 'JPG']] as const) {
      await saveImg(join(dir, name), x, { scale: false, quality: 100, fileFormat });
      const back = jpeg.decode(readFileSync(join(dir, name)), { useTArray: true, formatAsRGBA: false });
      expect(Math.max(...flat.map((v, i) => Math.abs(v - back.data[i])))).toBeLessThanOrEqual(3);
    }
  });

  it('writes RGBA as RGB in JPEG, with a warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await saveImg(join(dir, 'rgba.jpg'), [[[200, 100, 50, 0]]], { scale: false, quality: 100 });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/JPEG format does not support RGBA/));
    warn.mockRestore();
    const back = jpeg.decode(readFileSync(join(dir, 'rgba.jpg')), { useTArray: true, formatAsRGBA: false });
    expect(Array.from(back.data).map((v, i) => Math.abs(v - [200, 100, 50][i]) <= 3)).toEqual([true, true, true]);
  });

  it('writes atomically: no temporary file is left, and a failed write names the path', async () => {
    const sub = mkdtempSync(join(dir, 'atomic-'));
    await saveImg(join(sub, 'x.png'), pixels);
    expect(readdirSync(sub)).toEqual(['x.png']);
    await expect(saveImg(join(dir, 'missing', 'x.png'), pixels)).rejects.toThrow(/saveImg: cannot write .*x.png: the folder .*missing does not exist/);
  });

  it('refuses a format it cannot tell or write', async () => {
    await expect(saveImg(join(dir, 'x.bmp'), pixels)).rejects.toThrow(/saveImg: cannot tell which format to write .*x.bmp in: fileFormat must be 'png' or 'jpeg'.*got "bmp"/);
    await expect(saveImg(join(dir, 'x'), pixels)).rejects.toThrow(/got ""/);
    await expect(saveImg(join(dir, 'x.jpg'), pixels, { quality: 0 })).rejects.toThrow(/quality must be an integer from 1 to 100, got 0/);
  });
});

describe('loadImg: bad input', () => {
  it('names the file and the reason', async () => {
    await expect(loadImg(join(dir, 'nope.png'))).rejects.toThrow(/loadImg: .*nope.png does not exist/);
    await expect(loadImg(dir)).rejects.toThrow(/is a directory, not an image file/);
    const text = join(dir, 'text.png');
    writeFileSync(text, 'hello');
    await expect(loadImg(text)).rejects.toThrow(/cannot decode .*text.png: it is neither a PNG nor a JPEG file \(it starts with bytes 68 65 6c 6c 6f\)/);
    const empty = join(dir, 'empty.jpg');
    writeFileSync(empty, '');
    await expect(loadImg(empty)).rejects.toThrow(/the file is empty/);
    const full = readFileSync(png('whole.png', 4, 4, 3, new Array(48).fill(9)));
    const cut = join(dir, 'cut.png');
    writeFileSync(cut, full.subarray(0, full.length - 20));
    await expect(loadImg(cut)).rejects.toThrow(/loadImg: cannot decode .*cut.png as PNG: .*\(the file ends early: is it cut short\?\)/);
    const whole = readFileSync(jpg('whole.jpg', 16, 16, new Array(768).fill(90)));
    const cutJpg = join(dir, 'cut.jpg');
    writeFileSync(cutJpg, whole.subarray(0, whole.length - 100));
    await expect(loadImg(cutJpg)).rejects.toThrow(/loadImg: cannot decode .*cut.jpg as JPEG: ./);
    // jpeg-js writes and reads a JPEG 0 pixels wide
    const zero = join(dir, 'zero.jpg');
    writeFileSync(zero, jpeg.encode({ width: 0, height: 4, data: Buffer.alloc(0) }, 90).data);
    await expect(loadImg(zero)).rejects.toThrow(/loadImg: cannot use .*zero.jpg: it decodes to 0 × 4 pixels, no image/);
  });

  it('refuses a PNG that claims more pixels than kiln decodes, before allocating them', async () => {
    const head = Buffer.from(readFileSync(png('tiny.png', 1, 1, 3, [0, 0, 0])));
    head.writeUInt32BE(20000, 16);
    head.writeUInt32BE(20000, 20);
    const path = join(dir, 'huge.png');
    writeFileSync(path, head);
    await expect(loadImg(path)).rejects.toThrow(/20000 × 20000 pixels is more than the 100 million kiln decodes/);
  });

  it('names the allowed values of an option', async () => {
    const path = png('ok.png', 1, 1, 3, [0, 0, 0]);
    await expect(loadImg(path, { colorMode: 'cmyk' as never })).rejects.toThrow(/colorMode must be one of 'grayscale', 'rgb', 'rgba', got "cmyk"/);
    await expect(loadImg(path, { interpolation: 'bicubic' as never })).rejects.toThrow(/interpolation must be 'bilinear' or 'nearest', got "bicubic"/);
    await expect(loadImg(path, { targetSize: [0, 2] })).rejects.toThrow(/targetSize must be \[height, width\], two positive integers, got \[0,2\]/);
    await expect(loadImg(path, { targetSize: [2.5, 2] })).rejects.toThrow(/got \[2.5,2\]/);
  });
});
