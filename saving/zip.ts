/**
 * A minimal ZIP writer and reader for kiln's save files: stored entries only (no compression),
 * CRC-32 checked on read, no ZIP64. A model file stays one file (it renames atomically) that
 * `unzip -l` lists, and stored entries keep the weights readable in place without inflating.
 */
import { fail } from '../src/errors.js';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const END_SIZE = 22;
/** The largest size or offset a plain (non-ZIP64) archive can hold; 0xffffffff itself marks ZIP64. */
const MAX_32 = 0xfffffffe;
const MAX_ENTRIES = 0xfffe;
/** Bit 11: names are UTF-8. */
const FLAG_UTF8 = 0x0800;
/** Android zipalign's extra field: it pads the local header so the entry's data starts aligned. */
const ALIGN_EXTRA_ID = 0xd935;
/** Data alignment: 64 bytes suits any dtype and cache lines, so weights can be mapped in place. */
const ALIGN = 64;
/** Made by Unix (3), spec 2.0, so that `unzip` applies the 0644 permissions below. */
const MADE_BY = (3 << 8) | 20;
const EXTERNAL_ATTRS = (0o100644 << 16) >>> 0;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3), as ZIP stores it. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** MS-DOS date and time fields, which ZIP uses for modification times (local time, 2 s steps). */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/**
 * The archive as a list of chunks (headers, and the entries' own bytes uncopied), to be written
 * in order: a model's weights need not be copied into one more buffer.
 */
export function zipChunks(entries: readonly ZipEntry[], modified = new Date()): Uint8Array[] {
  const op = 'zip';
  if (entries.length > MAX_ENTRIES) fail(op, `${entries.length} entries need ZIP64, which kiln does not write (at most ${MAX_ENTRIES})`);
  const { time, date } = dosDateTime(modified);
  const chunks: Uint8Array[] = [];
  const central: Buffer[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const { name, data } of entries) {
    if (seen.has(name)) fail(op, `duplicate entry name '${name}'`);
    seen.add(name);
    const nameBytes = Buffer.from(name, 'utf8');
    if (data.length > MAX_32 || offset > MAX_32) {
      fail(op, `entry '${name}' (${data.length} bytes at offset ${offset}) needs ZIP64, which kiln does not write: a save file must stay under 4 GiB`);
    }
    const crc = crc32(data);
    // pad so that this entry's data starts on an ALIGN boundary of the file
    const unpadded = offset + LOCAL_SIZE + nameBytes.length + 6;
    const extra = Buffer.alloc(6 + ((ALIGN - (unpadded % ALIGN)) % ALIGN));
    extra.writeUInt16LE(ALIGN_EXTRA_ID, 0);
    extra.writeUInt16LE(extra.length - 4, 2);
    extra.writeUInt16LE(ALIGN, 4);
    const local = Buffer.alloc(LOCAL_SIZE);
    local.writeUInt32LE(LOCAL_SIG, 0);
    local.writeUInt16LE(10, 4); // version needed: 1.0 suffices for stored entries
    local.writeUInt16LE(FLAG_UTF8, 6);
    local.writeUInt16LE(0, 8); // method: stored
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(extra.length, 28);
    chunks.push(local, nameBytes, extra, data);

    const head = Buffer.alloc(CENTRAL_SIZE);
    head.writeUInt32LE(CENTRAL_SIG, 0);
    head.writeUInt16LE(MADE_BY, 4);
    head.writeUInt16LE(10, 6);
    head.writeUInt16LE(FLAG_UTF8, 8);
    head.writeUInt16LE(0, 10);
    head.writeUInt16LE(time, 12);
    head.writeUInt16LE(date, 14);
    head.writeUInt32LE(crc, 16);
    head.writeUInt32LE(data.length, 20);
    head.writeUInt32LE(data.length, 24);
    head.writeUInt16LE(nameBytes.length, 28);
    // extra 30, comment 32, disk 34, internal attributes 36: all zero
    head.writeUInt32LE(EXTERNAL_ATTRS, 38);
    head.writeUInt32LE(offset, 42);
    central.push(head, nameBytes);
    offset += LOCAL_SIZE + nameBytes.length + extra.length + data.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  if (offset > MAX_32 || offset + centralSize > MAX_32) fail(op, `the archive (${offset + centralSize} bytes) needs ZIP64, which kiln does not write: a save file must stay under 4 GiB`);
  const end = Buffer.alloc(END_SIZE);
  end.writeUInt32LE(END_SIG, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  chunks.push(...central, end);
  return chunks;
}

/** The archive in one buffer (for small archives and tests; large ones are written as chunks). */
export function zip(entries: readonly ZipEntry[], modified?: Date): Buffer {
  return Buffer.concat(zipChunks(entries, modified));
}

/**
 * The entries of an archive by name, each a view into `file` (no copy). Checks the structure,
 * that every entry is stored (not compressed or encrypted) and every CRC. Errors read
 * `op: path is not a …`, naming the file.
 */
export function unzip(file: Uint8Array, op: string, path: string): Map<string, Uint8Array> {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const bad = (why: string): never => fail(op, `${path} is not a valid kiln file: ${why}`);
  const endAt = findEnd(buf);
  if (endAt < 0) fail(op, `${path} is not a kiln file (no zip end-of-central-directory record: it is not a zip archive, or it is truncated)`);
  const count = buf.readUInt16LE(endAt + 10);
  const centralSize = buf.readUInt32LE(endAt + 12);
  const centralAt = buf.readUInt32LE(endAt + 16);
  if (count === 0xffff || centralSize === 0xffffffff || centralAt === 0xffffffff) bad('it is a ZIP64 archive, which kiln does not read');
  if (buf.readUInt16LE(endAt + 4) !== 0 || buf.readUInt16LE(endAt + 8) !== count) bad('it is a multi-disk (split) archive');
  if (centralAt + centralSize > endAt) bad(`the central directory (${centralSize} bytes at ${centralAt}) runs past the end record at ${endAt}: the file is truncated or corrupt`);
  const out = new Map<string, Uint8Array>();
  let p = centralAt;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > centralAt + centralSize || buf.readUInt32LE(p) !== CENTRAL_SIG) bad(`central directory entry ${i} is missing or corrupt`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const size = buf.readUInt32LE(p + 20);
    const uncompressed = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const skip = nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    const localAt = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
    p += CENTRAL_SIZE + skip;
    if (p > centralAt + centralSize) bad(`central directory entry ${i} runs past the directory's end`);
    if (flags & 1) bad(`entry '${name}' is encrypted`);
    if (method !== 0) bad(`entry '${name}' is compressed (method ${method}); kiln files hold stored entries only (zip -0)`);
    if (size !== uncompressed) bad(`entry '${name}' has different compressed and uncompressed sizes for a stored entry`);
    if (localAt + LOCAL_SIZE > centralAt || buf.readUInt32LE(localAt) !== LOCAL_SIG) bad(`entry '${name}': no local header at offset ${localAt}`);
    const dataAt = localAt + LOCAL_SIZE + buf.readUInt16LE(localAt + 26) + buf.readUInt16LE(localAt + 28);
    if (buf.toString('utf8', localAt + LOCAL_SIZE, localAt + LOCAL_SIZE + buf.readUInt16LE(localAt + 26)) !== name) {
      bad(`entry '${name}': its local header names a different file`);
    }
    if (dataAt + size > centralAt) bad(`entry '${name}' (${size} bytes at ${dataAt}) runs into the central directory at ${centralAt}: the file is truncated or corrupt`);
    const data = buf.subarray(dataAt, dataAt + size);
    const actual = crc32(data);
    if (actual !== crc) bad(`entry '${name}' fails its CRC-32 check (stored ${hex(crc)}, computed ${hex(actual)}): the file is corrupt`);
    if (out.has(name)) bad(`entry '${name}' appears twice`);
    out.set(name, data);
  }
  return out;
}

/** Where the end-of-central-directory record starts, or -1; it is last, before a comment of up to 64 KiB. */
function findEnd(buf: Buffer): number {
  for (let p = buf.length - END_SIZE; p >= Math.max(0, buf.length - END_SIZE - 0xffff); p--) {
    if (buf.readUInt32LE(p) === END_SIG && p + END_SIZE + buf.readUInt16LE(p + 20) === buf.length) return p;
  }
  return -1;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
