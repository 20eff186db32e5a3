/** Colour modes: an 8-bit image as grayscale (L), RGB or RGBA, converted as PIL's Image.convert does. */
import { fail } from '../src/errors.js';
import type { Img } from './img.js';

/** Keras's colour modes and the channels each gives. */
export const COLOR_MODES = { grayscale: 1, rgb: 3, rgba: 4 } as const;
export type ColorMode = keyof typeof COLOR_MODES;

/** The channels of `colorMode`, or an error listing the modes. */
export function channelsOf(op: string, colorMode: unknown): 1 | 3 | 4 {
  if (typeof colorMode !== 'string' || !Object.hasOwn(COLOR_MODES, colorMode)) {
    fail(op, `colorMode must be one of 'grayscale', 'rgb', 'rgba', got ${JSON.stringify(colorMode)}`);
  }
  return COLOR_MODES[colorMode as ColorMode];
}

/**
 * ITU-R 601-2 luma, L = R·299/1000 + G·587/1000 + B·114/1000, in PIL's fixed point: the weights
 * scaled by 2^16 (they sum to 65536, so a gray pixel keeps its value) and rounded half up.
 */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/**
 * `img` with `channels` channels. To L: the luma of R, G and B (alpha is ignored, as PIL ignores
 * it); from L: the value repeated; to RGB: alpha dropped (not blended over a background); to
 * RGBA: alpha 255.
 */
export function convertChannels(img: Img, channels: 1 | 3 | 4): Img {
  const from = img.channels;
  if (from === channels) return img;
  const n = img.width * img.height;
  const src = img.data;
  const out = new Uint8Array(n * channels);
  for (let p = 0, i = 0, o = 0; p < n; p++, i += from, o += channels) {
    const r = src[i];
    const g = from === 1 ? r : src[i + 1];
    const b = from === 1 ? r : src[i + 2];
    if (channels === 1) {
      out[o] = luma(r, g, b);
      continue;
    }
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = b;
    if (channels === 4) out[o + 3] = from === 4 ? src[i + 3] : 255;
  }
  return { width: img.width, height: img.height, channels, data: out };
}
