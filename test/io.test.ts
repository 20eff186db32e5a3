import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../io/npy.js';
import { idxToTensor, parseIdx, readIdx } from '../io/idx.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A .npy file built byte by byte: magic, version, header length, header text, then `data`. */
function npy(header: string, data: number[] | Uint8Array, version = 1): Buffer {
  const lenBytes = version === 1 ? 2 : 4;
  const len = Buffer.alloc(lenBytes);
  if (version === 1) len.writeUInt16LE(header.length);
  else len.writeUInt32LE(header.length);
  return Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]), len, Buffer.from(header, 'latin1'), Buffer.from(data)]);
}

const le = (kind: 'f4' | 'i4' | 'i8', values: number[]) => {
  const size = kind === 'i8' ? 8 : 4;
  const b = Buffer.alloc(values.length * size);
  values.forEach((v, k) => (kind === 'f4' ? b.writeFloatLE(v, k * 4) : kind === 'i4' ? b.writeInt32LE(v, k * 4) : b.writeBigInt64LE(BigInt(v), k * 8)));
  return b;
};

const read = (t: kiln.Tensor) => ({ dtype: t.dtype, shape: t.shape, values: Array.from(t.dataSync()) });

describe('npy', () => {
  it('parses hand-built v1, v2 and v3 headers', () => {
    const f4 = parseNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", le('f4', [1, 2.5, -3, 4])));
    expect(read(f4)).toEqual({ dtype: 'float32', shape: [2, 2], values: [1, 2.5, -3, 4] });
    const v2 = parseNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3,)}", le('i4', [7, -8, 9]), 2));
    expect(read(v2)).toEqual({ dtype: 'int32', shape: [3], values: [7, -8, 9] });
    const v3 = parseNpy(npy('{"descr": "|b1", "fortran_order": False, "shape": ()}', [1], 3));
    expect(read(v3)).toEqual({ dtype: 'bool', shape: [], values: [1] });
  });

  it('reads uint8 and in-range int64 as int32, and transposes Fortran order', () => {
    expect(read(parseNpy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", [0, 128, 255])))).toEqual({ dtype: 'int32', shape: [3], values: [0, 128, 255] });
    expect(read(parseNpy(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", le('i8', [-5, 2 ** 31 - 1]))))).toMatchObject({ dtype: 'int32', values: [-5, 2 ** 31 - 1] });
    // column-major [[1, 2, 3], [4, 5, 6]] is stored 1, 4, 2, 5, 3, 6
    const f = parseNpy(npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", le('f4', [1, 4, 2, 5, 3, 6])));
    expect(read(f)).toEqual({ dtype: 'float32', shape: [2, 3], values: [1, 2, 3, 4, 5, 6] });
  });

  it('explains what it cannot read', () => {
    const h = (descr: string, shape = '(1,)') => `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
    expect(() => parseNpy(npy(h('<i8'), le('i8', [2 ** 31])), 'big.npy')).toThrow('parseNpy: big.npy: value 0 (2147483648) does not fit int32');
    expect(() => parseNpy(npy(h('>f4'), [0, 0, 0, 0]), 'x.npy')).toThrow(/x.npy: big-endian data \('>f4'\) is not supported/);
    expect(() => parseNpy(npy(h('<f2'), [0, 0]), 'x.npy')).toThrow(/unsupported dtype '<f2'/);
    expect(() => parseNpy(npy(h('|O'), [0]), 'x.npy')).toThrow(/unsupported dtype '\|O'/);
    expect(() => parseNpy(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0]))).toThrow(/structured arrays/);
    expect(() => parseNpy(npy(h('<f4', '(2, 2)'), le('f4', [1, 2, 3])), 'short.npy')).toThrow('parseNpy: short.npy: <f4 (2, 2) needs 16 bytes of data, the file has 12 (truncated)');
    expect(() => parseNpy(Buffer.from('PK\u0003\u0004 not npy'), 'z.npy')).toThrow(/z.npy is not a .npy file/);
    expect(() => parseNpy(npy(h('<f4'), le('f4', [1])).subarray(0, 20), 't.npy')).toThrow(/t.npy is truncated: its header claims/);
    expect(() => parseNpy(npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", le('f4', [1])), 'g.npy')).toThrow(/g.npy: malformed header/);
    expect(() => parseNpy(npy(h('<f4'), le('f4', [1]), 4), 'v4.npy')).toThrow(/format version 4.0 is not supported/);
  });

  it('round-trips every dtype through encodeNpy and writeNpy/readNpy, with 64-byte-aligned data', async () => {
    const tensors = [
      kiln.tensor([[1.5, -2], [3, 4], [5, 6]], undefined, 'float32'),
      kiln.tensor([1e300, -1e-300], undefined, 'float64'),
      kiln.tensor([[-7, 8, 2147483647]], undefined, 'int32'),
      kiln.tensor([true, false, true]),
      kiln.tensor(3.25),
    ];
    for (const [k, t] of tensors.entries()) {
      const bytes = await encodeNpy(t);
      expect((bytes.length - t.size * ({ float32: 4, float64: 8, int32: 4, bool: 1 } as const)[t.dtype]) % 64).toBe(0);
      expect(read(parseNpy(bytes))).toEqual(read(t));
      const path = join(dir, `t${k}.npy`);
      await writeNpy(path, t);
      expect(read(await readNpy(path))).toEqual(read(t));
    }
    await expect(readNpy(join(dir, 'none.npy'))).rejects.toThrow(/none.npy does not exist/);
  });

  describe('against NumPy', () => {
    let numpy = true;
    try {
      execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    } catch {
      numpy = false;
      console.log('skipping the NumPy cross-checks: python3 with numpy is not available');
    }
    const py = (code: string) => execFileSync('python3', ['-c', `import numpy as np\n${code}`], { encoding: 'utf8', cwd: dir });

    it.runIf(numpy)('reads the files NumPy writes (versions 1, 2, 3; every dtype; Fortran order)', async () => {
      py(`
from numpy.lib import format as f
a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7
np.save('f4.npy', a)
np.save('fortran.npy', np.asfortranarray(a))
np.save('f8.npy', np.linspace(-1, 1, 5))
np.save('i8.npy', np.array([[-3, 4], [2**31 - 1, -2**31]], dtype=np.int64))
np.save('u1.npy', np.array([0, 7, 255], dtype=np.uint8))
np.save('b1.npy', np.array([[True, False]]))
for v in [(2, 0), (3, 0)]:
    with open(f'v{v[0]}.npy', 'wb') as out:
        f.write_array(out, a, version=v)
np.save('x_big.npy', np.array([1, 2], dtype='>f4'))
`);
      const expected = Array.from({ length: 24 }, (_, k) => Math.fround(k / 7));
      for (const name of ['f4', 'fortran', 'v2', 'v3']) {
        expect(read(await readNpy(join(dir, `${name}.npy`)))).toEqual({ dtype: 'float32', shape: [2, 3, 4], values: expected });
      }
      expect(read(await readNpy(join(dir, 'f8.npy')))).toEqual({ dtype: 'float64', shape: [5], values: [-1, -0.5, 0, 0.5, 1] });
      expect(read(await readNpy(join(dir, 'i8.npy')))).toEqual({ dtype: 'int32', shape: [2, 2], values: [-3, 4, 2 ** 31 - 1, -(2 ** 31)] });
      expect(read(await readNpy(join(dir, 'u1.npy')))).toEqual({ dtype: 'int32', shape: [3], values: [0, 7, 255] });
      expect(read(await readNpy(join(dir, 'b1.npy')))).toEqual({ dtype: 'bool', shape: [1, 2], values: [1, 0] });
      await expect(readNpy(join(dir, 'x_big.npy'))).rejects.toThrow(/big-endian/);
    });

    it.runIf(numpy)('writes files NumPy reads', async () => {
      await writeNpy(join(dir, 'k_f4.npy'), kiln.tensor([[0.5, 1], [2, -3]], undefined, 'float32'));
      await writeNpy(join(dir, 'k_i4.npy'), kiln.tensor([1, -2, 3], undefined, 'int32'));
      await writeNpy(join(dir, 'k_b1.npy'), kiln.tensor([false, true]));
      await writeNpy(join(dir, 'k_f8.npy'), kiln.tensor(2.5, undefined, 'float64'));
      const out = py(`
for n in ['k_f4', 'k_i4', 'k_b1', 'k_f8']:
    a = np.load(n + '.npy')
    print(n, a.dtype.str, a.shape, a.ravel().tolist())
`);
      expect(out.trim().split('\n')).toEqual([
        'k_f4 <f4 (2, 2) [0.5, 1.0, 2.0, -3.0]',
        'k_i4 <i4 (3,) [1, -2, 3]',
        'k_b1 |b1 (2,) [False, True]',
        'k_f8 <f8 () [2.5]',
      ]);
    });
  });
});

describe('idx', () => {
  /** An IDX file: zero, zero, type code, rank, big-endian sizes, then the values. */
  const idx = (type: number, shape: number[], body: number[] | Buffer) => {
    const head = Buffer.alloc(4 + 4 * shape.length);
    head.set([0, 0, type, shape.length]);
    shape.forEach((d, k) => head.writeUInt32BE(d, 4 + 4 * k));
    return Buffer.concat([head, Buffer.from(body)]);
  };

  it('parses hand-made ubyte, int and float files, gzipped or not', async () => {
    const bytes = idx(0x08, [2, 3], [0, 1, 2, 253, 254, 255]);
    expect(parseIdx(bytes)).toEqual({ type: 'uint8', shape: [2, 3], data: new Uint8Array([0, 1, 2, 253, 254, 255]) });
    expect(parseIdx(gzipSync(bytes))).toEqual(parseIdx(bytes));
    const ints = Buffer.alloc(8);
    ints.writeInt32BE(-2, 0);
    ints.writeInt32BE(70000, 4);
    expect(Array.from(parseIdx(idx(0x0c, [2], ints)).data)).toEqual([-2, 70000]);
    const floats = Buffer.alloc(8);
    floats.writeDoubleBE(-0.125, 0);
    expect(parseIdx(idx(0x0e, [1], floats))).toEqual({ type: 'float64', shape: [1], data: new Float64Array([-0.125]) });
    const path = join(dir, 'x.idx.gz');
    await writeFile(path, gzipSync(bytes));
    const t = idxToTensor(await readIdx(path), { dtype: 'float32', scale: 1 / 255 });
    expect(t.dtype).toBe('float32');
    expect(Array.from(t.dataSync())).toEqual([0, 1, 2, 253, 254, 255].map((v) => Math.fround(v / 255)));
    expect(idxToTensor(parseIdx(bytes)).dtype).toBe('int32');
  });

  it('checks the magic, type code and sizes', () => {
    expect(() => parseIdx(Buffer.from([1, 0, 8, 1, 0, 0, 0, 0]), 'a.idx')).toThrow('parseIdx: a.idx is not an IDX file (its first two bytes must be zero)');
    expect(() => parseIdx(idx(0x0a, [1], [0]), 'b.idx')).toThrow(/b.idx: unknown IDX type code 0x0a/);
    expect(() => parseIdx(idx(0x08, [2, 2], [1, 2, 3]), 'c.idx')).toThrow('parseIdx: c.idx: uint8 [2,2] needs 4 bytes of data, the file has 3 (truncated)');
    expect(() => parseIdx(idx(0x08, [2, 2], [1, 2, 3]).subarray(0, 9), 'd.idx')).toThrow(/d.idx is truncated: its 2 dimension sizes need 12 header bytes/);
    expect(() => parseIdx(gzipSync(idx(0x08, [1], [1])).subarray(0, 12), 'e.gz')).toThrow(/e.gz looks gzipped but cannot be inflated/);
  });
});
