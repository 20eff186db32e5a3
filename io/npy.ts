/**
 * NumPy's `.npy` files: one array, a Python-literal header and raw values
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
 *
 * Read: versions 1.0, 2.0 and 3.0; little-endian (or byte-sized) float32, float64, int8/16/32,
 * uint8/16, bool, and int64/uint32/uint64 when every value fits int32 (kiln's widest integer:
 * anything else fails, naming the first value out of range). Integers load as int32 (uint8 too:
 * pixel values and labels keep their integer meaning, and saving them back gives '<i4'), bool
 * as bool, floats as themselves. Fortran-ordered arrays are transposed to C order. Big-endian
 * data, float16, complex, structured and object arrays fail with the reason.
 *
 * Write: version 1.0 (2.0 when the header needs it), '<f4', '<f8', '<i4' or '|b1', C order.
 */
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { typedArrayFor, type DType, type TypedArray } from '../backends/contract.js';
import { ENGINE } from '../src/engine.js';
import { fail } from '../src/errors.js';
import { checkAllocation, checkRank } from '../src/limits.js';
import type { Tensor } from '../src/tensor.js';
import { writeFileAtomic } from '../saving/atomic.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const LITTLE_HOST = endianness() === 'LE';

/** How each stored type becomes a kiln dtype: `read(view, byteOffset)` gives one value. */
interface Reader {
  dtype: DType;
  size: number;
  /** Whether the bytes are already kiln's layout for `dtype` (copied as a block). */
  direct: boolean;
  read(view: DataView, at: number): number;
}

const READERS: Record<string, Reader> = {
  f4: { dtype: 'float32', size: 4, direct: true, read: (v, at) => v.getFloat32(at, true) },
  f8: { dtype: 'float64', size: 8, direct: true, read: (v, at) => v.getFloat64(at, true) },
  i4: { dtype: 'int32', size: 4, direct: true, read: (v, at) => v.getInt32(at, true) },
  b1: { dtype: 'bool', size: 1, direct: true, read: (v, at) => (v.getUint8(at) ? 1 : 0) },
  i1: { dtype: 'int32', size: 1, direct: false, read: (v, at) => v.getInt8(at) },
  u1: { dtype: 'int32', size: 1, direct: false, read: (v, at) => v.getUint8(at) },
  i2: { dtype: 'int32', size: 2, direct: false, read: (v, at) => v.getInt16(at, true) },
  u2: { dtype: 'int32', size: 2, direct: false, read: (v, at) => v.getUint16(at, true) },
  u4: { dtype: 'int32', size: 4, direct: false, read: (v, at) => v.getUint32(at, true) },
  i8: { dtype: 'int32', size: 8, direct: false, read: (v, at) => Number(v.getBigInt64(at, true)) },
  u8: { dtype: 'int32', size: 8, direct: false, read: (v, at) => Number(v.getBigUint64(at, true)) },
};

const DESCR: Record<DType, string> = { float32: '<f4', float64: '<f8', int32: '<i4', bool: '|b1' };

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

/** Reads a `.npy` file into a tensor (see the module comment for the types). */
export async function readNpy(path: string): Promise<Tensor> {
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => fail('readNpy', err.code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${err.message}`));
  return parseNpy(bytes, path);
}

/** Writes a tensor as a `.npy` file, atomically (see writeFileAtomic). */
export async function writeNpy(path: string, tensor: Tensor): Promise<void> {
  await writeFileAtomic(path, await encodeNpy(tensor), 'writeNpy');
}

/** A tensor from the bytes of a `.npy` file; `source` names it in errors. */
export function parseNpy(bytes: Uint8Array, source = 'the .npy data'): Tensor {
  const op = 'parseNpy';
  const { header, dataAt } = parseHeader(bytes, op, source);
  const code = header.descr.slice(1);
  const reader = Object.hasOwn(READERS, code) ? READERS[code] : undefined;
  if (!reader || header.descr.length !== 3 || !'<>|='.includes(header.descr[0])) fail(op, `${source}: unsupported dtype '${header.descr}' (kiln reads ${Object.keys(READERS).map((k) => `'<${k}'`).join(', ')})`);
  const order = header.descr[0];
  if (order !== '<' && order !== '|' && !(order === '=' && LITTLE_HOST) && reader.size > 1) fail(op, `${source}: big-endian data ('${header.descr}') is not supported; convert it with arr.astype(arr.dtype.newbyteorder('<'))`);
  const n = checkAllocation(op, header.shape, reader.dtype);
  const expected = n * reader.size;
  const available = bytes.length - dataAt;
  if (available !== expected) {
    fail(op, `${source}: ${header.descr} ${fmt(header.shape)} needs ${expected} bytes of data, the file has ${available}${available < expected ? ' (truncated)' : ''}`);
  }
  let values = decode(bytes.subarray(dataAt), reader, n, op, source);
  if (header.fortranOrder && header.shape.length > 1) values = fortranToC(values, header.shape, reader.dtype);
  return ENGINE.upload(values, header.shape, reader.dtype, op);
}

/** The bytes of a `.npy` file (version 1.0, or 2.0 for a header over 64 KiB) holding `tensor`. */
export async function encodeNpy(tensor: Tensor): Promise<Uint8Array> {
  const shape = tensor.shape.length === 1 ? `(${tensor.shape[0]},)` : `(${tensor.shape.join(', ')})`;
  const dict = `{'descr': '${DESCR[tensor.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // the data starts on a 64-byte boundary: NumPy pads the header with spaces and ends it with \n
  const fixed = (len: number) => MAGIC.length + 2 + len;
  const v1 = Math.ceil((fixed(2) + dict.length + 1) / 64) * 64 - fixed(2);
  const version = v1 <= 0xffff ? 1 : 2;
  const lenBytes = version === 1 ? 2 : 4;
  const headerLen = Math.ceil((fixed(lenBytes) + dict.length + 1) / 64) * 64 - fixed(lenBytes);
  const head = Buffer.alloc(fixed(lenBytes) + headerLen, 0x20);
  MAGIC.copy(head, 0);
  head[6] = version;
  head[7] = 0;
  if (version === 1) head.writeUInt16LE(headerLen, 8);
  else head.writeUInt32LE(headerLen, 8);
  head.write(dict, fixed(lenBytes), 'latin1');
  head[head.length - 1] = 0x0a;
  const data = await tensor.data();
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, LITTLE_HOST ? body : swapped(body, data.BYTES_PER_ELEMENT)]);
}

/** The header dict and where the data starts. */
function parseHeader(bytes: Uint8Array, op: string, source: string): { header: NpyHeader; dataAt: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) fail(op, `${source} is not a .npy file (no \\x93NUMPY magic at the start)`);
  const major = buf[6];
  if (major < 1 || major > 3) fail(op, `${source}: .npy format version ${major}.${buf[7]} is not supported (kiln reads 1.0, 2.0 and 3.0)`);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) fail(op, `${source} is truncated inside its header`);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const dataAt = 8 + lenBytes + headerLen;
  if (dataAt > buf.length) fail(op, `${source} is truncated: its header claims ${headerLen} bytes, ${buf.length - 8 - lenBytes} remain`);
  // versions 1 and 2 store the header in latin1, version 3 in UTF-8
  const text = buf.toString(major === 3 ? 'utf8' : 'latin1', 8 + lenBytes, dataAt);
  return { header: parseDict(text, op, source), dataAt };
}

/**
 * The header's Python dict literal, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`:
 * a small parser for just that grammar (strings, True/False, tuples of integers), not an eval.
 */
function parseDict(text: string, op: string, source: string): NpyHeader {
  const bad = (why: string): never => fail(op, `${source}: malformed header (${why}): ${JSON.stringify(text.trim().slice(0, 120))}`);
  let i = 0;
  const space = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const expect = (c: string) => { space(); if (text[i] !== c) bad(`expected '${c}' at ${i}`); i++; };
  // a header is at most a structured dtype's list of tuples of tuples: deeper nesting is an attack on the stack
  const value = (depth = 0): unknown => {
    if (depth > 4) bad(`nested more than 4 deep at ${i}`);
    space();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) bad('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const items: unknown[] = [];
      for (space(); text[i] !== close; space()) {
        items.push(value(depth + 1));
        space();
        if (text[i] === ',') i++;
        else if (text[i] !== close) bad(`expected ',' or '${close}' at ${i}`);
      }
      i++;
      return items;
    }
    const word = /^(True|False|-?\d+)L?/.exec(text.slice(i));
    if (!word) return bad(`unexpected ${JSON.stringify(text.slice(i, i + 10))} at ${i}`);
    i += word[0].length;
    return word[1] === 'True' ? true : word[1] === 'False' ? false : Number(word[1]);
  };
  expect('{');
  const dict: Record<string, unknown> = {};
  for (space(); text[i] !== '}'; space()) {
    const key = value();
    if (typeof key !== 'string') bad('keys must be strings');
    expect(':');
    dict[key as string] = value();
    space();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') bad(`expected ',' or '}' at ${i}`);
  }
  const { descr, fortran_order: fortranOrder, shape } = dict;
  if (Array.isArray(descr)) fail(op, `${source}: structured arrays (several fields per element) are not supported`);
  if (typeof descr !== 'string') bad("'descr' must be a dtype string");
  if (typeof fortranOrder !== 'boolean') bad("'fortran_order' must be True or False");
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) bad("'shape' must be a tuple of non-negative integers");
  checkRank(op, (shape as number[]).length, source);
  return { descr: descr as string, fortranOrder: fortranOrder as boolean, shape: shape as number[] };
}

function decode(data: Uint8Array, reader: Reader, n: number, op: string, source: string): TypedArray {
  const out = typedArrayFor(reader.dtype, n);
  if (reader.direct && (LITTLE_HOST || reader.size === 1)) {
    new Uint8Array(out.buffer).set(data.subarray(0, n * reader.size));
    if (reader.dtype === 'bool') for (let k = 0; k < n; k++) out[k] = out[k] ? 1 : 0;
    return out;
  }
  const view = new DataView(data.buffer, data.byteOffset, n * reader.size);
  for (let k = 0; k < n; k++) {
    const v = reader.read(view, k * reader.size);
    if (reader.dtype === 'int32' && (v > 2147483647 || v < -2147483648)) {
      fail(op, `${source}: value ${k} (${v}) does not fit int32, kiln's integer type; convert the array to float64 first`);
    }
    out[k] = v;
  }
  return out;
}

/** Fortran (column-major) values of `shape` rearranged to C (row-major) order. */
function fortranToC(values: TypedArray, shape: readonly number[], dtype: DType): TypedArray {
  const out = typedArrayFor(dtype, values.length);
  const rank = shape.length;
  const strides = shape.map((_, k) => shape.slice(0, k).reduce((a, b) => a * b, 1));
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let dst = 0; dst < values.length; dst++) {
    out[dst] = values[src];
    // advance the C-order index (last axis fastest), keeping the Fortran offset in step
    for (let k = rank - 1; k >= 0; k--) {
      index[k]++;
      src += strides[k];
      if (index[k] < shape[k]) break;
      src -= strides[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}

function swapped(bytes: Buffer, size: number): Buffer {
  const copy = Buffer.from(bytes);
  if (size === 4) copy.swap32();
  else if (size === 8) copy.swap64();
  return copy;
}

function fmt(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}
