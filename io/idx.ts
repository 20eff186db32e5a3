/**
 * The IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/): a magic number
 * `0x00 0x00 <type> <rank>`, then `rank` big-endian uint32 sizes, then the values, big-endian,
 * in C order. Gzipped files (`.gz`, as the MNIST site serves them) are inflated first.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import * as buffer from 'node:buffer';
import type { DType } from '../backends/contract.js';
import { ENGINE } from '../src/engine.js';
import { fail } from '../src/errors.js';
import { checkRank, MAX_RANK, maxTensorBytes } from '../src/limits.js';
import type { Tensor } from '../src/tensor.js';

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** An IDX array as stored: its element type, shape and values (host byte order). */
export interface IdxArray {
  type: IdxType;
  shape: number[];
  data: IdxData;
}

const TYPES: Record<number, { type: IdxType; size: number; make: (n: number) => IdxData; read: (v: DataView, at: number) => number }> = {
  0x08: { type: 'uint8', size: 1, make: (n) => new Uint8Array(n), read: (v, at) => v.getUint8(at) },
  0x09: { type: 'int8', size: 1, make: (n) => new Int8Array(n), read: (v, at) => v.getInt8(at) },
  0x0b: { type: 'int16', size: 2, make: (n) => new Int16Array(n), read: (v, at) => v.getInt16(at) },
  0x0c: { type: 'int32', size: 4, make: (n) => new Int32Array(n), read: (v, at) => v.getInt32(at) },
  0x0d: { type: 'float32', size: 4, make: (n) => new Float32Array(n), read: (v, at) => v.getFloat32(at) },
  0x0e: { type: 'float64', size: 8, make: (n) => new Float64Array(n), read: (v, at) => v.getFloat64(at) },
};

/** Parses IDX bytes (gzipped or not); `source` names them in errors. */
export function parseIdx(bytes: Uint8Array, source = 'the IDX data'): IdxArray {
  const op = 'parseIdx';
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzip(bytes, op, source) : bytes;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) fail(op, `${source} is not an IDX file (its first two bytes must be zero)`);
  const spec = TYPES[raw[2]];
  if (!spec) fail(op, `${source}: unknown IDX type code 0x${raw[2].toString(16).padStart(2, '0')} (known: 0x08 ubyte, 0x09 byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double)`);
  const rank = raw[3];
  checkRank(op, rank, source);
  const dataAt = 4 + 4 * rank;
  if (raw.length < dataAt) fail(op, `${source} is truncated: its ${rank} dimension sizes need ${dataAt} header bytes, it has ${raw.length}`);
  const shape = Array.from({ length: rank }, (_, k) => view.getUint32(4 + 4 * k));
  const n = shape.reduce((a, b) => a * b, 1);
  const expected = n * spec.size;
  const available = raw.length - dataAt;
  if (available !== expected) {
    fail(op, `${source}: ${spec.type} [${shape}] needs ${expected} bytes of data, the file has ${available}${available < expected ? ' (truncated)' : ''}`);
  }
  const data = spec.make(n);
  if (spec.size === 1) new Uint8Array(data.buffer).set(raw.subarray(dataAt));
  else for (let k = 0; k < n; k++) data[k] = spec.read(view, dataAt + k * spec.size);
  return { type: spec.type, shape, data };
}

/** Reads an IDX file (gzipped or not). */
export async function readIdx(path: string): Promise<IdxArray> {
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => fail('readIdx', err.code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${err.message}`));
  return parseIdx(bytes, path);
}

/**
 * An IDX array as a tensor: integers become int32 and floats keep their width unless `dtype`
 * says otherwise (e.g. float32 for image pixels); `scale` multiplies each value (1/255 maps
 * bytes to [0, 1]).
 */
export function idxToTensor(idx: IdxArray, options: { dtype?: DType; scale?: number } = {}): Tensor {
  const dtype = options.dtype ?? (idx.type === 'float32' ? 'float32' : idx.type === 'float64' ? 'float64' : 'int32');
  const scale = options.scale ?? 1;
  if (dtype === 'bool' || (dtype === 'int32' && scale !== 1)) fail('idxToTensor', `cannot make ${dtype} values${scale !== 1 ? ` scaled by ${scale}` : ''}; use float32 or float64`);
  const values = dtype === 'float32' ? new Float32Array(idx.data.length) : dtype === 'float64' ? new Float64Array(idx.data.length) : new Int32Array(idx.data.length);
  for (let k = 0; k < values.length; k++) values[k] = idx.data[k] * scale;
  return ENGINE.upload(values, idx.shape, dtype, 'idxToTensor');
}

function gunzip(bytes: Uint8Array, op: string, source: string): Uint8Array {
  // a few MB of gzip can inflate to any size: stop at the largest header and tensor kiln could load
  const cap = Math.min(4 + 4 * MAX_RANK + maxTensorBytes(), buffer.kMaxLength);
  try {
    return gunzipSync(bytes, { maxOutputLength: cap });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      fail(op, `${source} inflates to more than ${cap.toLocaleString('en-US')} bytes (the largest tensor allowed, kiln.setMaxTensorBytes, plus the header, at most a Buffer's size)`);
    }
    return fail(op, `${source} looks gzipped but cannot be inflated (${(err as Error).message}): it is truncated or corrupt`);
  }
}
