/**
 * keras.utils' image functions: load_img, img_to_array, array_to_img and save_img. Where Keras
 * hands around a PIL image, these hand around an Img (io/img.ts): 8-bit pixels and their sizes.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { DType } from '../backends/contract.js';
import { asTensor, type TensorLike } from '../src/convert.js';
import { ENGINE } from '../src/engine.js';
import { fail, fmtShape } from '../src/errors.js';
import { resolveOptions, type DataFormat } from '../src/ops/conv-options.js';
import { Tensor } from '../src/tensor.js';
import { Variable } from '../src/variable.js';
import { writeFileAtomic } from '../saving/atomic.js';
import { decodeImage, encodeJpeg, encodePng } from './image-codecs.js';
import { channelsOf, convertChannels, type ColorMode } from './image-color.js';
import { interpolationOf, resizeLikePil, type Interpolation } from './image-resize.js';
import { checkImg, type Img } from './img.js';

/** `[height, width]`: two positive integers (one integer serves both). */
export function imageSizeOf(op: string, name: string, value: unknown): [number, number] {
  const size = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isSafeInteger(v) && v > 0)) {
    fail(op, `${name} must be [height, width], two positive integers, got ${JSON.stringify(value)}`);
  }
  return [size[0], size[1]];
}

/** The bytes of the file at `path`, or an error saying why not. */
export async function readImageFile(op: string, path: string): Promise<Uint8Array> {
  return readFile(path).catch((err: NodeJS.ErrnoException) =>
    fail(op, err.code === 'ENOENT' ? `${path} does not exist` : err.code === 'EISDIR' ? `${path} is a directory, not an image file` : `cannot read ${path}: ${err.message}`));
}

const channelsFirst = (op: string, dataFormat: DataFormat | undefined): boolean => resolveOptions(op, { dataFormat }, 2).channelsFirst;

export interface LoadImgOptions {
  /** 'rgb' (default), 'grayscale' or 'rgba': the image is converted to it. */
  colorMode?: ColorMode;
  /** [height, width] to resize to; default: the file's size. */
  targetSize?: readonly [number, number] | null;
  /** 'nearest' (default, as Keras) or 'bilinear'. */
  interpolation?: Interpolation;
  /** Crop the largest centred window of targetSize's aspect ratio before resizing, instead of stretching. */
  keepAspectRatio?: boolean;
}

/**
 * A PNG or JPEG file as an Img (keras.utils.load_img), converted to `colorMode` as PIL converts
 * (grayscale is ITU-R 601-2 luma) and resized as PIL resizes when `targetSize` differs from the
 * file's size.
 * @example
 * const img = await kiln.utils.loadImg('cat.jpg', { targetSize: [224, 224] });
 * const x = kiln.ops.expandDims(kiln.utils.imgToArray(img), 0);   // a batch of one
 * const y = await model.predict(x);
 */
export async function loadImg(path: string, options: LoadImgOptions = {}): Promise<Img> {
  const op = 'loadImg';
  const { colorMode = 'rgb', targetSize = null, interpolation = 'nearest', keepAspectRatio = false } = options;
  const channels = channelsOf(op, colorMode);
  const size = targetSize === null ? null : imageSizeOf(op, 'targetSize', targetSize);
  const method = interpolationOf(op, interpolation);
  const img = convertChannels(decodeImage(op, await readImageFile(op, path), path), channels);
  if (size === null || (size[0] === img.height && size[1] === img.width)) return img;
  return resizeLikePil(img, size[0], size[1], method, keepAspectRatio);
}

/**
 * An Img as a tensor (keras.utils.img_to_array): [height, width, channels], or
 * [channels, height, width] with `dataFormat: 'channelsFirst'`; float32 values 0 to 255.
 */
export function imgToArray(img: Img, { dataFormat, dtype = 'float32' }: { dataFormat?: DataFormat; dtype?: DType } = {}): Tensor {
  const op = 'imgToArray';
  const { width, height, channels, data } = checkImg(op, img);
  const first = channelsFirst(op, dataFormat);
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int32') fail(op, `dtype must be 'float32', 'float64' or 'int32', got ${JSON.stringify(dtype)}`);
  const out = dtype === 'float64' ? new Float64Array(data.length) : dtype === 'int32' ? new Int32Array(data.length) : new Float32Array(data.length);
  const plane = width * height;
  if (first) for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) out[c * plane + p] = data[p * channels + c];
  else out.set(data);
  return ENGINE.upload(out, first ? [channels, height, width] : [height, width, channels], dtype, op);
}

export interface ArrayToImgOptions {
  /** 'channelsLast' (default): x is [height, width, channels]; 'channelsFirst': [channels, height, width]. */
  dataFormat?: DataFormat;
  /** Stretch the values so the lowest is 0 and the highest 255 (default true, as Keras). */
  scale?: boolean;
}

/**
 * A rank-3 array of 1, 3 or 4 channels as an Img (keras.utils.array_to_img). With `scale` (the
 * default) the values are shifted and stretched to span 0 to 255, in float32 as Keras computes
 * them; then each is truncated to a byte, as NumPy's astype('uint8') does. Without scale,
 * values outside 0 to 255 are clipped to it (NumPy would wrap them). NaN and infinities fail,
 * naming the first.
 */
export async function arrayToImg(x: TensorLike, options: ArrayToImgOptions = {}): Promise<Img> {
  return toImg('arrayToImg', x, options);
}

async function toImg(op: string, x: TensorLike, { dataFormat, scale = true }: ArrayToImgOptions): Promise<Img> {
  const first = channelsFirst(op, dataFormat);
  const t = asTensor(x, op, 'float32');
  const borrowed = x instanceof Tensor || x instanceof Variable;
  try {
    if (t.rank !== 3) fail(op, `expected an image array of rank 3 (one image), got shape ${fmtShape(t.shape)}`);
    const [height, width, channels] = first ? [t.shape[1], t.shape[2], t.shape[0]] : t.shape;
    if (channels !== 1 && channels !== 3 && channels !== 4) fail(op, `an image has 1, 3 or 4 channels, got ${channels} (shape ${fmtShape(t.shape)}, ${first ? 'channelsFirst' : 'channelsLast'})`);
    if (height === 0 || width === 0) fail(op, `an image needs at least one pixel, got shape ${fmtShape(t.shape)}`);
    // float32, as Keras converts the array before scaling it
    const values = Float32Array.from(await t.data());
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail(op, `the array holds ${values[bad]} at flat index ${bad}: an image needs finite values`);
    let lo = 0;
    let range = 1;
    if (scale) {
      lo = values.reduce((a, v) => Math.min(a, v), Infinity);
      const hi = values.reduce((a, v) => Math.max(a, Math.fround(v - lo)), 0);
      if (hi !== 0) range = hi;
    }
    const f = Math.fround;
    const byteOf = (v: number): number => (scale ? Math.trunc(f(f(f(v - lo) / range) * 255)) : Math.min(255, Math.max(0, Math.trunc(v))));
    const plane = width * height;
    const data = new Uint8Array(plane * channels);
    for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) data[p * channels + c] = byteOf(values[first ? c * plane + p : p * channels + c]);
    return { width, height, channels, data };
  } finally {
    if (!borrowed) t.dispose();
  }
}

export interface SaveImgOptions extends ArrayToImgOptions {
  /** 'png' or 'jpeg' ('jpg'); default: from the path's extension. */
  fileFormat?: string;
  /** JPEG quality, 1 to 100 (PIL's default, 75). */
  quality?: number;
}

/**
 * An array written as a PNG or JPEG file (keras.utils.save_img): arrayToImg, then encoded, then
 * written atomically (a reader sees the old file or the whole new one). JPEG has no alpha: an
 * RGBA image is written as RGB, with a warning, as Keras does.
 * @example
 * await kiln.utils.saveImg('out.png', kiln.ops.multiply(x, 255), { scale: false });
 */
export async function saveImg(path: string, x: TensorLike, options: SaveImgOptions = {}): Promise<void> {
  const op = 'saveImg';
  const { fileFormat, quality = 75, ...rest } = options;
  const named = fileFormat ?? extname(path).slice(1);
  const format = named.toLowerCase() === 'jpg' ? 'jpeg' : named.toLowerCase();
  if (format !== 'png' && format !== 'jpeg') {
    fail(op, `cannot tell which format to write ${path} in: fileFormat must be 'png' or 'jpeg' (or the path end in .png, .jpg or .jpeg), got ${JSON.stringify(named)}`);
  }
  let img = await toImg(op, x, rest);
  if (format === 'png') return writeFileAtomic(path, encodePng(img), op);
  if (img.channels === 4) {
    console.warn('saveImg: the JPEG format does not support RGBA images, converting to RGB.');
    img = convertChannels(img, 3);
  }
  return writeFileAtomic(path, encodeJpeg(op, img, quality), op);
}
