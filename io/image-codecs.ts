/**
 * PNG and JPEG files to and from 8-bit pixels, through the decoders kiln depends on: pngjs and
 * jpeg-js (pure JavaScript, so no native image library is needed). No other format is read:
 * Keras also lists .bmp and .gif, which have no decoder here.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { fail } from '../src/errors.js';
import type { Img } from './img.js';

/** The file extensions an image directory is indexed by: the formats decodeImage reads. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpeg', '.jpg', '.png'];

/**
 * The largest image decoded, in pixels (jpeg-js's own default; about 10,000 × 10,000). A file
 * claiming more fails before its pixels are allocated, so a hostile header cannot take the
 * process's memory: decoded RGBA takes 4 bytes a pixel.
 */
export const MAX_PIXELS = 100_000_000;
/** jpeg-js counts every buffer it allocates: the component planes and the RGBA output of MAX_PIXELS fit. */
const JPEG_MEMORY_MB = 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The RGBA pixels of a PNG or JPEG file's bytes. The format is told by the bytes, not the name
 * (as tf.io.decode_image does); `name` is the file named in errors. 16-bit PNG channels are
 * reduced to 8 bits, palettes and transparency are expanded, and a grayscale file gives R = G = B.
 * Gamma chunks are not applied (PIL and TensorFlow leave them too).
 */
export function decodeImage(op: string, bytes: Uint8Array, name: string): Img {
  const img = startsWith(bytes, PNG_SIGNATURE) ? decodePng(op, bytes, name) : startsWith(bytes, [0xff, 0xd8, 0xff]) ? decodeJpeg(op, bytes, name) : null;
  if (img && (img.width === 0 || img.height === 0)) fail(op, `cannot use ${name}: it decodes to ${img.width} × ${img.height} pixels, no image`);
  if (img) return img;
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return fail(op, `cannot decode ${name}: it is neither a PNG nor a JPEG file (it starts with ${bytes.length ? `bytes ${head}` : 'nothing: the file is empty'})`);
}

function checkPixels(op: string, name: string, width: number, height: number): void {
  if (width * height > MAX_PIXELS) fail(op, `cannot decode ${name}: ${width} × ${height} pixels is more than the ${MAX_PIXELS / 1e6} million kiln decodes`);
}

function decodePng(op: string, bytes: Uint8Array, name: string): Img {
  // IHDR is the first chunk: width and height are the big-endian words at bytes 16 and 20
  if (bytes.length >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkPixels(op, name, view.getUint32(16), view.getUint32(20));
  }
  let png: { width: number; height: number; data: Uint8Array };
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    // pngjs's words for a file that stops before its last chunk
    const cut = /read requests waitng on finished stream/.test(reason(err)) ? ' (the file ends early: is it cut short?)' : '';
    return fail(op, `cannot decode ${name} as PNG: ${reason(err)}${cut}`);
  }
  return { width: png.width, height: png.height, channels: 4, data: png.data };
}

function decodeJpeg(op: string, bytes: Uint8Array, name: string): Img {
  let out: { width: number; height: number; data: Uint8Array };
  try {
    out = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: JPEG_MEMORY_MB });
  } catch (err) {
    return fail(op, `cannot decode ${name} as JPEG: ${reason(err)}`);
  }
  return { width: out.width, height: out.height, channels: 4, data: out.data };
}

/** `img` as RGBA bytes (gray is repeated into R, G and B; alpha is 255 where the image has none). */
function rgbaOf(img: Img): Uint8Array {
  if (img.channels === 4) return img.data;
  const n = img.width * img.height;
  const out = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) out[p * 4 + c] = img.data[p * img.channels + (img.channels === 1 ? 0 : c)];
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** The bytes of a PNG file holding `img` as it is: gray (colour type 0), RGB (2) or RGBA (6), 8 bits. */
export function encodePng(img: Img): Uint8Array {
  const colorType = ({ 1: 0, 3: 2, 4: 6 } as const)[img.channels];
  const data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  // the sync writer reads only these three fields (a new PNG would allocate a second RGBA buffer)
  const source = { width: img.width, height: img.height, data } as unknown as PNG;
  return PNG.sync.write(source, { colorType, inputColorType: colorType, bitDepth: 8, inputHasAlpha: img.channels === 4 });
}

/**
 * The bytes of a baseline JPEG file holding `img` at `quality` (1 to 100; PIL's default is 75).
 * JPEG keeps no alpha: an RGBA image must be made RGB first; a gray image is written as RGB.
 */
export function encodeJpeg(op: string, img: Img, quality: number): Uint8Array {
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) fail(op, `quality must be an integer from 1 to 100, got ${quality}`);
  if (img.channels === 4) fail(op, 'JPEG holds no alpha channel: convert the image to RGB first');
  return jpeg.encode({ width: img.width, height: img.height, data: rgbaOf(img) }, quality).data;
}
