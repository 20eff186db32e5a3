/**
 * The native buffer pool: freed buffers are reused by size class, so allocating and freeing in a
 * loop (or training step after step) asks the system for nothing new, while memory() still
 * counts live buffers and their bytes exactly.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { findBackend } from '../../src/backends.js';
import type { NativeBackend } from '../../backends/native/backend.js';

const available = kiln.listBackends().some((b) => b.name === 'native' && b.available);
if (!available) console.log(`test/native/pool: skipped, the native backend is unavailable: ${kiln.listBackends().find((b) => b.name === 'native')?.reason}`);
const native = async () => (await findBackend('native')) as NativeBackend;

describe.runIf(available)('native buffer pool', () => {
  it('memory() counts live buffers and their requested bytes', async () => {
    const b = await native();
    const before = b.memory();
    const ids = [b.alloc('float32', 10), b.alloc('bool', 3), b.alloc('float64', 5), b.alloc('int32', 0)];
    expect(b.memory()).toEqual({ numBuffers: before.numBuffers + 4, numBytes: before.numBytes + 40 + 3 + 40 });
    for (const id of ids) b.free(id);
    expect(b.memory()).toEqual(before);
  });

  it('allocating and freeing in a loop does not grow memory', async () => {
    const b = await native();
    const before = b.memory();
    const sizes = [1, 7, 100, 1000, 4097, 250_000];
    const cycle = () => {
      const ids = sizes.map((s, i) => b.alloc(i % 2 ? 'float32' : 'int32', s));
      for (const id of ids) b.free(id);
    };
    cycle();
    const warm = b.addon.pool();
    for (let i = 0; i < 2000; i++) cycle();
    const after = b.addon.pool();
    expect(after.reservedBytes).toBe(warm.reservedBytes);
    expect(after.misses).toBe(warm.misses);
    expect(after.hits - warm.hits).toBe(2000 * sizes.length);
    expect(b.memory()).toEqual(before);
  });

  it('a buffer freed and taken again reads back what is written, not what was there', async () => {
    const b = await native();
    const a = b.alloc('float32', 4);
    b.write(a, new Float32Array([1, 2, 3, 4]));
    b.free(a);
    const c = b.alloc('float32', 4);
    b.write(c, new Float32Array([5, 6, 7, 8]));
    expect(Array.from(b.readSync(c))).toEqual([5, 6, 7, 8]);
    b.free(c);
    expect(() => b.free(c)).toThrow(/no buffer/);
  });

  it('training steps stop asking the system for memory after the first epoch', async () => {
    await kiln.setBackend('native');
    const b = await native();
    kiln.setSeed(5);
    const x = kiln.random.normal([256, 20]);
    const y = kiln.random.uniform([256, 1]);
    const model = new kiln.Sequential([
      kiln.Input({ shape: [20] }),
      new kiln.layers.Dense(32, { activation: 'relu' }),
      new kiln.layers.Dense(1),
    ]);
    model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 1e-3 }), loss: 'mse' });
    await model.fit(x, y, { epochs: 2, batchSize: 64, verbose: 0 });
    const warm = b.addon.pool();
    const live = b.memory();
    await model.fit(x, y, { epochs: 3, batchSize: 64, verbose: 0 });
    const after = b.addon.pool();
    expect(after.misses).toBe(warm.misses);
    expect(after.reservedBytes).toBe(warm.reservedBytes);
    expect(after.hits).toBeGreaterThan(warm.hits);
    expect(b.memory()).toEqual(live);
    model.dispose();
    kiln.dispose([x, y]);
  });
});
