/**
 * TFRecord framing, the container of TensorBoard's event files: each record is its length as a
 * little-endian uint64, the masked CRC32C of those 8 bytes, the data, and the masked CRC32C of
 * the data. A reader checks both checksums, so a record is whole or detectably torn.
 */
import crc32c from 'crc-32/crc32c.js';

// TFRecord's mask: a CRC stored beside data that itself holds CRCs would be easy to confuse with them
const MASK_DELTA = 0xa282ead8;

export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c.buf(bytes) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function frameRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}
