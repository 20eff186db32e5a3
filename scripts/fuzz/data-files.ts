/**
 * `.npy` and IDX files: bytes mutated anywhere, headers edited (shapes, dtypes, dimension sizes up
 * to 2^32 - 1), and for IDX, gzip bombs that stay small on disk. A file either fails with a
 * KilnError or parses to an array whose size its shape accounts for.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as kiln from '../../index.js';
import { encodeNpy } from '../../io/npy.js';
import { idxToTensor } from '../../io/idx.js';
import { mutateBytes, type Rng } from './mutate.js';
import { ACCEPTED, type Outcome, type Target } from './target.js';

interface Base {
  files: Uint8Array[];
}

function consistent(shape: readonly number[], size: number): Outcome {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== size) return { kind: 'silent', detail: `shape [${shape}] holds ${n} values, the array ${size}` };
  return ACCEPTED;
}

const NPY_HEADERS = [
  "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967295, 4294967295), }",
  "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 0), }",
  "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
  "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
  "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }",
  "{'descr': '<f4', 'fortran_order': False, 'shape': (1e3,), }",
  "{'descr': '<f4', 'fortran_order': False, 'shape': ((((((2,),),),),),), }",
  "{'descr': '<f4', 'fortran_order': False, 'shape': (" + '1,'.repeat(40) + '), }',
  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'shape': (3, 2), }",
  "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
  "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }",
  "{'descr': '<f4', 'fortran_order': False, 'shape': (9007199254740993,), }",
  "{'descr': '<U4', 'fortran_order': False, 'shape': (2,), }",
  "{'descr': '<f4' 'fortran_order': False, 'shape': (2,) }",
];

/** A .npy file whose header is `header` padded as numpy pads it, version 1.0, followed by `data`. */
function npyWith(header: string, data: Uint8Array): Uint8Array {
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  const text = header.padEnd(total - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, 'latin1'), data]);
}

export const npyFile: Target<Base> = {
  async setup() {
    kiln.setSeed(11);
    const tensors = [kiln.random.normal([3, 4]), kiln.tensor([1, 2, 3], [3], 'int32'), kiln.tensor([true, false], [2], 'bool'), kiln.random.normal([2, 2, 2], { dtype: 'float64' })];
    return { files: await Promise.all(tensors.map((t) => encodeNpy(t))) };
  },
  make(base, rng, dir) {
    const file = rng.pick(base.files);
    const headerEnd = 10 + Buffer.from(file).readUInt16LE(8);
    const edit = rng.int(3);
    const { bytes, what } = edit === 0
      ? { bytes: npyWith(rng.pick(NPY_HEADERS), rng.chance(0.5) ? new Uint8Array(16) : new Uint8Array(0)), what: 'a forged header' }
      : mutateBytes(rng, file, edit === 1 ? [0, headerEnd] : undefined);
    return {
      what: `${what} (${bytes.length} bytes: ${Buffer.from(bytes.subarray(0, 128)).toString('latin1').replace(/[^\x20-\x7e]/g, '.')})`,
      async run() {
        const path = join(dir, 'case.npy');
        writeFileSync(path, bytes);
        const t = await kiln.io.readNpy(path);
        const outcome = consistent(t.shape, (await t.data()).length);
        t.dispose();
        return outcome;
      },
    };
  },
};

/** An IDX header: type code, then each size big-endian. */
function idxHeader(type: number, shape: readonly number[]): Buffer {
  const b = Buffer.alloc(4 + 4 * shape.length);
  b[2] = type;
  b[3] = shape.length;
  shape.forEach((d, k) => b.writeUInt32BE(d >>> 0, 4 + 4 * k));
  return b;
}

const bombs = new Map<number, Buffer>();

/** `mib` MiB of zeros under a uint8 IDX header, gzipped once per child (inflating them is the test, not making them). */
function bomb(mib: number): Buffer {
  const n = mib * 2 ** 20;
  if (!bombs.has(mib)) bombs.set(mib, gzipSync(Buffer.concat([idxHeader(0x08, [n]), Buffer.alloc(n)]), { level: 9 }));
  return bombs.get(mib)!;
}

function idxCase(rng: Rng, base: Base): { bytes: Uint8Array; what: string } {
  switch (rng.int(4)) {
    case 0: {
      const shape = Array.from({ length: 1 + rng.int(4) }, () => rng.pick([0, 1, 2, 3, 255, 65536, 2 ** 31, 2 ** 32 - 1]));
      const type = rng.pick([0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x0a, 0xff]);
      return { bytes: Buffer.concat([idxHeader(type, shape), Buffer.alloc(rng.int(64))]), what: `header type 0x${type.toString(16)} shape [${shape}]` };
    }
    case 1: {
      // a bomb: a claimed shape whose data, all zeros, gzips to almost nothing
      const mib = rng.pick([1, 16, 70, 200]);
      const gz = bomb(mib);
      return { bytes: rng.chance(0.3) ? gz.subarray(0, gz.length - 1 - rng.int(8)) : gz, what: `gzip of ${mib} MiB of zeros (${gz.length} bytes on disk)` };
    }
    case 2: {
      const file = rng.pick(base.files);
      const { bytes, what } = mutateBytes(rng, file);
      return rng.chance(0.3) ? { bytes: gzipSync(bytes), what: `${what}, gzipped` } : { bytes, what };
    }
    default: {
      const gz = gzipSync(rng.pick(base.files));
      const { bytes, what } = mutateBytes(rng, gz);
      return { bytes, what: `gzipped, then ${what}` };
    }
  }
}

export const idxFile: Target<Base> = {
  async setup() {
    const images = Buffer.concat([idxHeader(0x08, [3, 4, 4]), Buffer.from(Array.from({ length: 48 }, (_, i) => i * 5))]);
    const floats = Buffer.concat([idxHeader(0x0d, [2, 3]), Buffer.alloc(24, 0x3f)]);
    const labels = Buffer.concat([idxHeader(0x08, [5]), Buffer.from([0, 1, 2, 3, 9])]);
    return { files: [images, floats, labels] };
  },
  make(base, rng, dir) {
    const { bytes, what } = idxCase(rng, base);
    return {
      what,
      async run() {
        const path = join(dir, 'case.idx');
        writeFileSync(path, bytes);
        const idx = await kiln.io.readIdx(path);
        const outcome = consistent(idx.shape, idx.data.length);
        if (outcome.kind === 'accepted' && idx.data.length > 0) idxToTensor(idx, { dtype: 'float32', scale: 1 / 255 }).dispose();
        return outcome;
      },
    };
  },
};
