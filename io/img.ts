import { fail } from '../src/errors.js';

/**
 * An 8-bit image as kiln's image utilities pass it around, where Keras passes a PIL image:
 * `height` rows of `width` pixels, each `channels` bytes (1: grayscale L, 3: RGB, 4: RGBA),
 * interleaved, row after row (`data[(y * width + x) * channels + c]`).
 * @example
 * const img = await kiln.utils.loadImg('cat.png', { targetSize: [224, 224] });
 * img.width; img.height; img.channels; img.data;   // 224, 224, 3, Uint8Array(150528)
 */
export interface Img {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3 | 4;
  readonly data: Uint8Array;
}

/** `img` checked as an Img: positive integer sizes, 1, 3 or 4 channels and as many bytes as they say. */
export function checkImg(op: string, img: unknown): Img {
  const i = img as Partial<Img> | null;
  if (i === null || typeof i !== 'object' || !(i.data instanceof Uint8Array)) {
    fail(op, `expected an image { width, height, channels, data: Uint8Array }, got ${i === null ? 'null' : typeof i === 'object' ? 'an object without a Uint8Array data' : typeof i}`);
  }
  const { width, height, channels, data } = i as Img;
  if (!Number.isSafeInteger(width) || width <= 0 || !Number.isSafeInteger(height) || height <= 0) {
    fail(op, `an image's width and height must be positive integers, got ${width} × ${height}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) fail(op, `an image has 1, 3 or 4 channels, got ${channels}`);
  if (data.length !== width * height * channels) {
    fail(op, `an image of ${width} × ${height} pixels and ${channels} channels holds ${width * height * channels} bytes, got ${data.length}`);
  }
  return i as Img;
}
