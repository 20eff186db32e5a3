/**
 * Resizing 8-bit images, two ways, because Keras resizes two ways:
 * - like TensorFlow's tf.image.resize (antialias off, half-pixel centres), which
 *   image_dataset_from_directory runs: float output, the sample for output pixel o at source
 *   position (o + 0.5)·in/out − 0.5, clamped to the edge pixels, scale and positions in float32;
 * - like PIL's Image.resize, which keras.utils.load_img runs: byte output, and a bilinear
 *   shrink that averages over the wider footprint (a triangle filter stretched by in/out), so it
 *   does not skip pixels as TensorFlow's does.
 * Both are separable: each output pixel is a weighted sum of source pixels along x, then along y.
 */
import { fail } from '../src/errors.js';
import type { Img } from './img.js';

export type Interpolation = 'bilinear' | 'nearest';
const INTERPOLATIONS: readonly string[] = ['bilinear', 'nearest'];

/** `value` lower-cased as Keras reads it, or an error naming the methods kiln implements. */
export function interpolationOf(op: string, value: unknown): Interpolation {
  const v = typeof value === 'string' ? value.toLowerCase() : value;
  if (typeof v !== 'string' || !INTERPOLATIONS.includes(v)) {
    fail(op, `interpolation must be 'bilinear' or 'nearest', got ${JSON.stringify(value)} (Keras's other methods are not implemented)`);
  }
  return v as Interpolation;
}

/** Along one axis, for each output position, `k` source indices and their weights (a zero weight pads). */
interface Taps {
  k: number;
  index: Int32Array;
  weight: Float64Array;
}

function newTaps(out: number, k: number): Taps {
  return { k, index: new Int32Array(out * k), weight: new Float64Array(out * k) };
}

const f32 = Math.fround;

/**
 * TensorFlow's taps over source pixels [start, start + length): its nearest takes
 * floor((o + 0.5)·scale), its bilinear the two pixels around (o + 0.5)·scale − 0.5, each clamped
 * into the window; float32 arithmetic as in TensorFlow's kernels, so ties fall the same way.
 */
function tfTaps(method: Interpolation, out: number, start: number, length: number): Taps {
  const scale = f32(length / out);
  const taps = newTaps(out, method === 'nearest' ? 1 : 2);
  for (let o = 0; o < out; o++) {
    if (method === 'nearest') {
      taps.index[o] = start + Math.max(0, Math.min(Math.floor(f32(f32(o + 0.5) * scale)), length - 1));
      taps.weight[o] = 1;
      continue;
    }
    const at = f32(f32(f32(o + 0.5) * scale) - 0.5);
    const low = Math.floor(at);
    const lerp = f32(at - low);
    taps.index[2 * o] = start + Math.max(low, 0);
    taps.index[2 * o + 1] = start + Math.min(Math.ceil(at), length - 1);
    taps.weight[2 * o] = 1 - lerp;
    taps.weight[2 * o + 1] = lerp;
  }
  return taps;
}

/**
 * PIL's taps for the box [start, start + length) of a source axis of `size` pixels: nearest is
 * pixel floor(start + (o + 0.5)·scale); bilinear weighs the pixels i within `support` of the
 * centre start + (o + 0.5)·scale by the triangle 1 − |i + 0.5 − centre| / max(scale, 1),
 * normalised over those inside the image (the box may draw on pixels beside it, as in PIL).
 */
function pilTaps(method: Interpolation, out: number, size: number, start: number, length: number): Taps {
  const scale = length / out;
  if (method === 'nearest') {
    const taps = newTaps(out, 1);
    for (let o = 0; o < out; o++) {
      taps.index[o] = Math.min(Math.floor(start + (o + 0.5) * scale), size - 1);
      taps.weight[o] = 1;
    }
    return taps;
  }
  const stretch = Math.max(scale, 1);
  const support = stretch;
  const taps = newTaps(out, Math.ceil(support) * 2 + 1);
  for (let o = 0; o < out; o++) {
    const centre = start + (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), size);
    let total = 0;
    for (let i = lo; i < hi; i++) total += Math.max(0, 1 - Math.abs(i - centre + 0.5) / stretch);
    for (let j = 0; j < taps.k; j++) {
      const i = lo + j;
      const w = i < hi ? Math.max(0, 1 - Math.abs(i - centre + 0.5) / stretch) : 0;
      taps.index[o * taps.k + j] = i < hi ? i : lo;
      taps.weight[o * taps.k + j] = total > 0 ? w / total : 0;
    }
  }
  return taps;
}

const byte = (v: number): number => Math.min(255, Math.max(0, Math.floor(v + 0.5)));

/**
 * The image resampled: rows along x by `tx`, then columns along y by `ty`, the values of each
 * pass rounded to bytes when `round` (PIL keeps bytes between its two passes), else exact.
 */
function resample(img: Img, ty: Taps, tx: Taps, round: boolean): Float64Array {
  const c = img.channels;
  const rowLen = img.width * c;
  const outH = ty.index.length / ty.k;
  const outW = tx.index.length / tx.k;
  let first = Infinity;
  let last = -1;
  for (const i of ty.index) [first, last] = [Math.min(first, i), Math.max(last, i)];
  const mid = new Float64Array((last - first + 1) * outW * c);
  for (let y = first; y <= last; y++) {
    for (let x = 0; x < outW; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let j = 0; j < tx.k; j++) s += tx.weight[x * tx.k + j] * img.data[y * rowLen + tx.index[x * tx.k + j] * c + ch];
        mid[((y - first) * outW + x) * c + ch] = round ? byte(s) : s;
      }
    }
  }
  const out = new Float64Array(outH * outW * c);
  const midRow = outW * c;
  for (let y = 0; y < outH; y++) {
    for (let xc = 0; xc < midRow; xc++) {
      let s = 0;
      for (let j = 0; j < ty.k; j++) s += ty.weight[y * ty.k + j] * mid[(ty.index[y * ty.k + j] - first) * midRow + xc];
      out[y * midRow + xc] = round ? byte(s) : s;
    }
  }
  return out;
}

export interface TfResizeOptions {
  interpolation: Interpolation;
  /** smart_resize: the largest centred window of the target's aspect ratio, then resized. */
  cropToAspectRatio?: boolean;
  /** tf.image.resize_with_pad: resized to fit inside, centred on zeros. */
  padToAspectRatio?: boolean;
}

/** `img` resized to height × width as image_dataset_from_directory resizes: float32 values in [0, 255], [h, w, c]. */
export function resizeLikeTf(img: Img, height: number, width: number, { interpolation, cropToAspectRatio = false, padToAspectRatio = false }: TfResizeOptions): Float32Array {
  const { height: h, width: w } = img;
  // both methods sample pixel o exactly at scale 1: the common case of images already at size skips the sums
  if (h === height && w === width) return Float32Array.from(img.data);
  if (padToAspectRatio) return padded(img, height, width, interpolation);
  let [top, left, boxH, boxW] = [0, 0, h, w];
  if (cropToAspectRatio) {
    boxH = Math.max(Math.min(h, Math.floor((w * height) / width)), 1);
    boxW = Math.max(Math.min(w, Math.floor((h * width) / height)), 1);
    top = Math.floor((h - boxH) / 2);
    left = Math.floor((w - boxW) / 2);
  }
  return Float32Array.from(resample(img, tfTaps(interpolation, height, top, boxH), tfTaps(interpolation, width, left, boxW), false));
}

/**
 * tf.image.resize_with_pad: the image scaled by one ratio to fit inside height × width (sizes
 * floored, at least 1 pixel), placed at the floored half of the spare room, zeros around; in
 * float32 arithmetic as TensorFlow computes it.
 */
function padded(img: Img, height: number, width: number, interpolation: Interpolation): Float32Array {
  const ratio = Math.max(f32(img.width / width), f32(img.height / height));
  const fitH = f32(img.height / ratio);
  const fitW = f32(img.width / ratio);
  const innerH = Math.max(1, Math.floor(fitH));
  const innerW = Math.max(1, Math.floor(fitW));
  const top = Math.max(0, Math.floor(f32(f32(height - fitH) / 2)));
  const left = Math.max(0, Math.floor(f32(f32(width - fitW) / 2)));
  const inner = resample(img, tfTaps(interpolation, innerH, 0, img.height), tfTaps(interpolation, innerW, 0, img.width), false);
  const c = img.channels;
  const out = new Float32Array(height * width * c);
  for (let y = 0; y < innerH; y++) out.set(inner.subarray(y * innerW * c, (y + 1) * innerW * c), ((top + y) * width + left) * c);
  return out;
}

/** a·b/255 rounded, in PIL's integer form. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/**
 * `img` resized to height × width as keras.utils.load_img resizes (PIL's Image.resize). With
 * `keepAspectRatio` the box is the largest centred window of the target's aspect ratio. A
 * bilinear RGBA resize works on colours premultiplied by alpha, as PIL's does, so the colour of
 * transparent pixels does not bleed into their neighbours.
 */
export function resizeLikePil(img: Img, height: number, width: number, interpolation: Interpolation, keepAspectRatio: boolean): Img {
  const { height: h, width: w, channels: c } = img;
  let [top, left, boxH, boxW] = [0, 0, h, w];
  if (keepAspectRatio) {
    // at least one pixel, as smart_resize keeps (PIL would refuse an empty box)
    boxH = Math.max(1, Math.min(h, Math.floor((w * height) / width)));
    boxW = Math.max(1, Math.min(w, Math.floor((h * width) / height)));
    top = Math.floor((h - boxH) / 2);
    left = Math.floor((w - boxW) / 2);
  }
  const premultiply = c === 4 && interpolation === 'bilinear';
  const src = premultiply ? new Uint8Array(img.data) : img.data;
  if (premultiply) for (let i = 0; i < src.length; i += 4) for (let j = 0; j < 3; j++) src[i + j] = mulDiv255(src[i + j], src[i + 3]);
  const out = Uint8Array.from(resample({ ...img, data: src }, pilTaps(interpolation, height, h, top, boxH), pilTaps(interpolation, width, w, left, boxW), true));
  if (premultiply) {
    for (let i = 0; i < out.length; i += 4) {
      const a = out[i + 3];
      if (a !== 0 && a !== 255) for (let j = 0; j < 3; j++) out[i + j] = Math.min(255, Math.floor((255 * out[i + j]) / a));
    }
  }
  return { width, height, channels: c, data: out };
}
