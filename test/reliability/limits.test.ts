/**
 * Tensor size and rank limits, checked in core before any backend sees a request, so every
 * backend and reader fails the same way. The byte limit is set low here: nothing large is allocated.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { encodeNpy, parseNpy } from '../../io/npy.js';
import { parseIdx } from '../../io/idx.js';
import { gzipSync } from 'node:zlib';

const backends = kiln.listBackends().filter((b) => b.available).map((b) => b.name);

afterEach(() => kiln.setMaxTensorBytes());

describe.each(backends)('on %s', (backend) => {
  it('refuses a tensor over the byte limit, naming the op and the shape', async () => {
    await kiln.setBackend(backend);
    const before = kiln.memory().numTensors;
    kiln.setMaxTensorBytes(1024);
    expect(() => kiln.zeros([16, 17])).toThrow(/^zeros: shape \[16, 17\] of float32 needs 1,088 bytes, over the limit of 1,024 \(kiln.setMaxTensorBytes raises it\)/);
    const x = kiln.zeros([1, 100]);
    expect(() => kiln.ops.broadcastTo(x, [100, 100])).toThrow(/^broadcastTo: shape \[100, 100\] of float32 needs 40,000 bytes, over the limit/);
    expect(() => kiln.random.normal([300])).toThrow(/^normal: shape \[300\]/);
    expect(() => kiln.range(0, 300)).toThrow(/^range: shape \[300\] of int32/);
    expect(() => kiln.eye(20)).toThrow(/^eye: shape \[20, 20\]/);
    expect(() => kiln.tensor(new Float32Array(300))).toThrow(/^tensor: shape \[300\]/);
    x.dispose();
    expect(kiln.memory().numTensors).toBe(before);
  });

  it('refuses more elements than Number.MAX_SAFE_INTEGER whatever the limit', async () => {
    await kiln.setBackend(backend);
    kiln.setMaxTensorBytes(Number.MAX_SAFE_INTEGER);
    expect(() => kiln.zeros([1e6, 1e6, 1e6])).toThrow(/^zeros: shape \[1000000, 1000000, 1000000\] has more than Number.MAX_SAFE_INTEGER elements or bytes/);
  });

  it('refuses the default limit (4 GiB) without allocating', async () => {
    await kiln.setBackend(backend);
    expect(() => kiln.zeros([1e6, 1e6])).toThrow(/^zeros: shape \[1000000, 1000000\] of float32 needs 4,000,000,000,000 bytes, over the limit of 4,294,967,296/);
    const x = kiln.zeros([1, 1]);
    expect(() => kiln.ops.broadcastTo(x, [1e5, 1e5])).toThrow(/^broadcastTo: shape \[100000, 100000\]/);
    x.dispose();
  });

  it('allows rank 32 and refuses rank 33, computed or reshaped', async () => {
    await kiln.setBackend(backend);
    const ones = (n: number) => Array<number>(n).fill(1);
    const x = kiln.zeros(ones(32));
    expect(x.rank).toBe(32);
    expect(() => kiln.zeros(ones(33))).toThrow(/^zeros: a tensor may have at most 32 dimensions, got rank 33/);
    expect(() => kiln.ops.reshape(x, ones(33))).toThrow(/^reshape: a tensor may have at most 32 dimensions, got rank 33/);
    expect(() => kiln.ops.expandDims(x, 0)).toThrow(/at most 32 dimensions, got rank 33/);
    x.dispose();
  });
});

describe('setMaxTensorBytes', () => {
  it.each([0, -1, 1.5, NaN, 2 ** 60])('refuses %d', (bytes) => {
    expect(() => kiln.setMaxTensorBytes(bytes)).toThrow(/^setMaxTensorBytes: expected a positive safe integer number of bytes/);
  });
  it('reads back, and undefined restores the default', () => {
    kiln.setMaxTensorBytes(4096);
    expect(kiln.maxTensorBytes()).toBe(4096);
    kiln.setMaxTensorBytes();
    expect(kiln.maxTensorBytes()).toBe(4 * 2 ** 30);
  });
});

describe('readers', () => {
  const npy = (shape: string) => {
    const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
    const head = Buffer.alloc(10);
    Buffer.from('\x93NUMPY', 'latin1').copy(head);
    head[6] = 1;
    head.writeUInt16LE(dict.length, 8);
    return Buffer.concat([head, Buffer.from(dict, 'latin1')]);
  };
  const idx = (rank: number) => Buffer.from([0, 0, 0x08, rank, ...Array<number>(rank * 4).fill(0)]);

  it('NPY: a rank over 32 is refused before its data is read', () => {
    expect(() => parseNpy(npy(`(${Array<number>(33).fill(1).join(', ')})`), 'deep.npy')).toThrow(/^parseNpy: deep.npy may have at most 32 dimensions, got rank 33/);
    expect(() => parseNpy(npy(`(${Array<number>(300).fill(0).join(', ')})`), 'deep.npy')).toThrow(/got rank 300/);
  });
  it('NPY: a shape over the byte limit is refused before decoding', () => {
    kiln.setMaxTensorBytes(64);
    expect(() => parseNpy(npy('(17,)'), 'big.npy')).toThrow(/^parseNpy: shape \[17\] of float32 needs 68 bytes, over the limit of 64/);
  });
  it('NPY: a deeply nested header fails naming the file, not with a stack overflow', () => {
    expect(() => parseNpy(npy(`${'('.repeat(5000)}${')'.repeat(5000)}`), 'nested.npy')).toThrow(/^parseNpy: nested.npy: malformed header \(nested more than 4 deep at 5\d\)/);
  });
  it('NPY: a rank-32 array still round-trips', async () => {
    const x = kiln.zeros(Array<number>(32).fill(1));
    const back = parseNpy(await encodeNpy(x));
    expect(back.shape).toEqual(x.shape);
    kiln.dispose([x, back]);
  });
  it('IDX: rank 33 and 255 are refused', () => {
    expect(() => parseIdx(idx(33), 'deep.idx')).toThrow(/^parseIdx: deep.idx may have at most 32 dimensions, got rank 33/);
    expect(() => parseIdx(idx(255), 'deep.idx')).toThrow(/got rank 255/);
  });
  it('IDX: gzip inflates at most to the largest tensor allowed', () => {
    kiln.setMaxTensorBytes(1000);
    const bomb = gzipSync(Buffer.concat([Buffer.from([0, 0, 0x08, 1, 0, 0, 0x10, 0]), Buffer.alloc(4096)]));
    expect(() => parseIdx(bomb, 'bomb.idx.gz')).toThrow(/^parseIdx: bomb.idx.gz inflates to more than 1,132 bytes \(the largest tensor allowed, kiln.setMaxTensorBytes, plus the header/);
    const small = gzipSync(Buffer.from([0, 0, 0x08, 1, 0, 0, 0, 3, 1, 2, 3]));
    expect(Array.from(parseIdx(small).data)).toEqual([1, 2, 3]);
  });
});
