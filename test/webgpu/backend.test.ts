/**
 * The WebGPU backend's own behaviour, beyond what the conformance suite asks of every backend:
 * buffer pooling and memory() accounting, ordering of writes against recorded kernels, the
 * adapter's size limit, refused dtypes and foreign tensors, a lost device, and the creation rows
 * (fill, random) against a Philox written here with BigInt and Random123's known answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import type { TensorInfo } from '../../backends/contract.js';
import { WebGPUBackend } from '../../backends/webgpu/backend.js';
import { Runtime } from '../../backends/webgpu/runtime.js';
import { UNAVAILABLE, freshBackend, reportSkip } from './setup.js';

reportSkip('backend.test.ts');

const info = (id: number, shape: number[], dtype: TensorInfo['dtype'] = 'float32'): TensorInfo => ({ id, shape, dtype });

describe.skipIf(UNAVAILABLE !== null)('webgpu buffers', () => {
  let b: WebGPUBackend;
  beforeAll(async () => {
    b = await freshBackend();
  });
  afterAll(() => b.dispose());

  it('memory() counts live buffers at 4 bytes an element (bool included); free brings it back', () => {
    const before = b.memory();
    const ids = [b.alloc('float32', 10), b.alloc('bool', 3), b.alloc('int32', 5), b.alloc('float32', 0)];
    expect(b.memory()).toEqual({ numBuffers: before.numBuffers + 4, numBytes: before.numBytes + 40 + 12 + 20 });
    for (const id of ids) b.free(id);
    expect(b.memory()).toEqual(before);
  });

  it('a freed buffer serves the next request of its size class; a new class creates one', () => {
    const first = b.alloc('float32', 1000);
    b.free(first);
    const { created, idleBuffers } = b.pool();
    // 1000 and 1010 floats (4000, 4040 bytes) share the class of 4096 bytes
    const again = b.alloc('float32', 1010);
    expect(b.pool()).toMatchObject({ created, idleBuffers: idleBuffers - 1 });
    const other = b.alloc('float32', 100_000);
    expect(b.pool().created).toBe(created + 1);
    b.free(again);
    b.free(other);
    expect(b.pool().idleBuffers).toBe(idleBuffers + 1);
  });

  it('writes and reads round-trip every dtype bit for bit', async () => {
    const cases = [
      new Float32Array([NaN, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, -1.5]),
      new Int32Array([-2147483648, 2147483647, 0, -1, 123456789]),
      new Uint8Array([1, 0, 0, 1, 1]),
    ];
    const dtypes = ['float32', 'int32', 'bool'] as const;
    for (let k = 0; k < cases.length; k++) {
      const id = b.alloc(dtypes[k], cases[k].length);
      b.write(id, cases[k]);
      const got = await b.read(id);
      expect(got.constructor).toBe(cases[k].constructor);
      expect(Array.from(got).map((v) => Object.is(v, -0) ? '-0' : String(v))).toEqual(Array.from(cases[k]).map((v) => Object.is(v, -0) ? '-0' : String(v)));
      b.free(id);
    }
    const empty = b.alloc('int32', 0);
    expect(await b.read(empty)).toEqual(new Int32Array(0));
    b.free(empty);
  });

  it('a kernel recorded before its input was freed reads the old contents, not what the reused buffer is given next', async () => {
    const x = b.alloc('float32', 3);
    b.write(x, new Float32Array([1, 2, 3]));
    const y = b.alloc('float32', 3);
    b.unary('neg', info(x, [3]), info(y, [3]));
    b.free(x);
    const { created } = b.pool();
    const z = b.alloc('float32', 3);
    expect(b.pool().created).toBe(created); // z took x's GPU buffer
    b.write(z, new Float32Array([9, 9, 9]));
    expect(Array.from(await b.read(y))).toEqual([-1, -2, -3]);
    expect(Array.from(await b.read(z))).toEqual([9, 9, 9]);
    b.free(y);
    b.free(z);
  });

  it('fill converts its value as cast does', async () => {
    const cases: [TensorInfo['dtype'], number, number][] = [
      ['float32', 0.1, Math.fround(0.1)], ['float32', NaN, NaN], ['int32', -2.9, -2], ['int32', 3e9, 3e9 | 0],
      ['int32', NaN, 0], ['bool', NaN, 1], ['bool', 0, 0], ['bool', -0.5, 1],
    ];
    for (const [dtype, value, want] of cases) {
      const id = b.alloc(dtype, 5);
      b.fill(value, info(id, [5], dtype));
      expect(Array.from(await b.read(id)), `${dtype} fill(${value})`).toEqual(new Array(5).fill(want));
      b.free(id);
    }
  });
});

// Philox 4x32-10 with exact 64-bit products (BigInt): an implementation independent of the kernel's
// 16-bit halves.
function philox(counter: number[], key: number[]): number[] {
  let c = counter.map(BigInt);
  let k = key.map(BigInt);
  const mask = 0xffffffffn;
  for (let round = 0; round < 10; round++) {
    if (round > 0) k = [(k[0] + 0x9e3779b9n) & mask, (k[1] + 0xbb67ae85n) & mask];
    const p0 = 0xd2511f53n * c[0];
    const p1 = 0xcd9e8d57n * c[2];
    c = [(p1 >> 32n) ^ c[1] ^ k[0], p1 & mask, (p0 >> 32n) ^ c[3] ^ k[1], p0 & mask];
  }
  return c.map(Number);
}

describe.skipIf(UNAVAILABLE !== null)('webgpu random', () => {
  let b: WebGPUBackend;
  beforeAll(async () => {
    b = await freshBackend();
  });
  afterAll(() => b.dispose());

  const draw = async (dist: 'uniform' | 'normal', key: [number, number], n: number) => {
    const id = b.alloc('float32', n);
    b.random(dist, key, info(id, [n]));
    const got = Array.from(await b.read(id));
    b.free(id);
    return got;
  };

  it("the oracle is Philox: Random123's known answers", () => {
    expect(philox([0, 0, 0, 0], [0, 0]).map((w) => w.toString(16))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    expect(philox([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]).map((w) => w.toString(16)))
      .toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
  });

  it('uniform: (word >>> 8)·2^-24 of word i % 4 of block i / 4, exactly', async () => {
    const key: [number, number] = [0x12345678, 0xfedcba98];
    const got = await draw('uniform', key, 4 * 300 + 3);
    const want = got.map((_, i) => (philox([Math.floor(i / 4), 0, 0, 0], key)[i % 4] >>> 8) * 2 ** -24);
    expect(got).toEqual(want);
    expect((await draw('uniform', [0, 0], 4)).map((u) => u * 2 ** 24)).toEqual([0x6627e8, 0xe169c5, 0xbc57ac, 0x9b00db]);
  });

  it('normal: Box–Muller on word pairs, within float32 rounding of the float64 formula', async () => {
    const key: [number, number] = [7, 0x80000001];
    const got = await draw('normal', key, 4 * 2000 + 1);
    got.forEach((v, i) => {
      const w = philox([Math.floor(i / 4), 0, 0, 0], key);
      const pair = i % 4 < 2 ? 0 : 2;
      const r = Math.sqrt(-2 * Math.log(((w[pair] >>> 8) + 1) * 2 ** -24));
      const theta = 2 * Math.PI * (w[pair + 1] >>> 8) * 2 ** -24;
      const want = r * (i % 2 === 0 ? Math.cos(theta) : Math.sin(theta));
      expect(Math.abs(v - want), `element ${i}: ${v} vs ${want}`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(want));
    });
  });
});

describe.skipIf(UNAVAILABLE !== null)('webgpu bad input', () => {
  beforeAll(async () => {
    await kiln.setBackend('webgpu');
  });
  afterAll(async () => {
    await kiln.setBackend('reference');
  });

  it("a tensor past the adapter's maxStorageBufferBindingSize is refused, naming the limit", async () => {
    const limit = (await freshLimits()).maxStorageBufferBindingSize;
    const before = kiln.memory();
    expect(() => kiln.zeros([limit / 4 + 1])).toThrow(`over this adapter's maxStorageBufferBindingSize of ${limit.toLocaleString('en-US')} bytes`);
    expect(kiln.memory()).toEqual(before);
  });

  it('float64 is refused, naming the dtypes webgpu stores', () => {
    expect(() => kiln.tensor([1, 2], [2], 'float64')).toThrow("backend 'webgpu' does not support dtype float64 (it supports float32, int32, bool)");
    expect(() => kiln.ops.cast(kiln.tensor([1, 2]), 'float64')).toThrow('it supports float32, int32, bool');
  });

  it('a tensor from another backend is refused, naming both', async () => {
    await kiln.setBackend('reference');
    const t = kiln.tensor([1, 2, 3]);
    await kiln.setBackend('webgpu');
    expect(() => kiln.ops.add(t, 1)).toThrow("input 0 lives on backend 'reference' but the current backend is 'webgpu'");
    const moved = await kiln.toBackend(t, 'webgpu');
    expect(Array.from(await kiln.ops.add(moved, 1).data())).toEqual([2, 3, 4]);
    t.dispose();
  });
});

async function freshLimits(): Promise<GPUSupportedLimits> {
  const b = await freshBackend();
  const limits = b.limits;
  b.dispose();
  return limits;
}

describe.skipIf(UNAVAILABLE !== null)('webgpu lost device', () => {
  it('a device destroyed while a read waits fails the read with a clear error instead of hanging', async () => {
    const b = await freshBackend();
    const x = b.alloc('float32', 1 << 16);
    b.fill(1, info(x, [1 << 16]));
    const pending = b.read(x);
    b.dispose();
    await expect(pending).rejects.toThrow(/^webgpu: /);
    expect(() => b.alloc('float32', 4)).toThrow('webgpu: the webgpu backend was disposed');
  });

  it("a device lost by the driver makes the next call fail with the driver's reason", async () => {
    const real = (await freshBackend()).runtime.device;
    let lose!: (info: GPUDeviceLostInfo) => void;
    const lost = new Promise<GPUDeviceLostInfo>((resolve) => { lose = resolve; });
    // the real device, except that its loss is ours to trigger
    const device = new Proxy(real, {
      get: (target, prop) => {
        if (prop === 'lost') return lost;
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const b = new WebGPUBackend(new Runtime(device as GPUDevice, 'test'));
    const x = b.alloc('float32', 8);
    b.fill(2, info(x, [8]));
    expect(Array.from(await b.read(x))).toEqual(new Array(8).fill(2));
    lose({ reason: 'unknown', message: 'GPU hung (TDR)' } as GPUDeviceLostInfo);
    await new Promise((r) => setTimeout(r, 0));
    const message = 'webgpu: the GPU device was lost (unknown: GPU hung (TDR)); tensors on it are gone';
    expect(() => b.fill(3, info(x, [8]))).toThrow(message);
    await expect(b.read(x)).rejects.toThrow(message);
    expect(() => b.alloc('int32', 1)).toThrow(message);
    real.destroy();
  });
});
