/**
 * The native thread pool: KILN_NUM_THREADS sets its size (default: the cores this process may
 * use), and results do not depend on it.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { findBackend } from '../../src/backends.js';
import type { NativeBackend } from '../../backends/native/backend.js';
import { gruSequence, lstmSequence } from '../../src/fused/recurrent.js';

const ADDON = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'backends', 'native', 'build', 'Release', 'kiln_native.node');
const available = kiln.listBackends().some((b) => b.name === 'native' && b.available);
if (!available) console.log(`test/native/threads: skipped, the native backend is unavailable: ${kiln.listBackends().find((b) => b.name === 'native')?.reason}`);

function threadsWith(value: string | undefined): number {
  const env = { ...process.env };
  if (value === undefined) delete env.KILN_NUM_THREADS;
  else env.KILN_NUM_THREADS = value;
  const r = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(ADDON)}).numThreads())`], { env, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return Number(r.stdout.trim());
}

describe.runIf(available)('native thread pool', () => {
  it('KILN_NUM_THREADS sets the number of threads', () => {
    expect(threadsWith('1')).toBe(1);
    expect(threadsWith('3')).toBe(3);
  });

  it('defaults to the cores this process may run on, and ignores a bad value', () => {
    expect(threadsWith(undefined)).toBe(availableParallelism());
    expect(threadsWith('lots')).toBe(availableParallelism());
    expect(threadsWith('0')).toBe(availableParallelism());
  });

  describe('results do not depend on the thread count', () => {
    let backend: NativeBackend;
    let initial = 1;
    afterAll(() => backend?.addon.setNumThreads(initial));

    it('for large elementwise ops, reductions and matmul', async () => {
      backend = (await findBackend('native')) as NativeBackend;
      initial = backend.addon.numThreads();
      await kiln.setBackend('native');
      const results: Float32Array[][] = [];
      for (const threads of [1, 3]) {
        backend.addon.setNumThreads(threads);
        expect(backend.addon.numThreads()).toBe(threads);
        kiln.setSeed(11);
        const out = kiln.tidy(() => {
          const x = kiln.random.normal([300, 700]);
          const w = kiln.random.normal([700, 130]);
          const y = kiln.ops.tanh(kiln.ops.add(kiln.ops.multiply(x, 3), kiln.ops.sum(x, 0)));
          return [y, kiln.ops.matmul(x, w), kiln.ops.max(y, 1), kiln.ops.sum(y, 0)];
        });
        results.push(out.map((t) => t.dataSync() as Float32Array));
        kiln.dispose(out);
      }
      // Every output element is computed by one thread in the same order either way.
      for (let k = 0; k < results[0].length; k++) expect(results[1][k]).toEqual(results[0][k]);
    });

    it('for the fused recurrent kernels, forward and backward (batch rows split across threads)', async () => {
      backend = (await findBackend('native')) as NativeBackend;
      await kiln.setBackend('native');
      const results: Float32Array[][] = [];
      for (const threads of [1, 3]) {
        backend.addon.setNumThreads(threads);
        kiln.setSeed(12);
        const out = kiln.tidy(() => {
          const [B, T, U] = [80, 3, 50];
          const mask = kiln.ops.greater(kiln.random.uniform([B, T]), 0.3);
          const x = kiln.random.normal([B, T, 4 * U]);
          const h0 = kiln.random.normal([B, U]);
          const k = kiln.random.normal([U, 4 * U], { stddev: 0.1 });
          const gk = kiln.random.normal([U, 3 * U], { stddev: 0.1 });
          const bias = kiln.random.normal([3 * U]);
          const xg = kiln.ops.slice(x, [0, 0, 0], [B, T, 3 * U]);
          const tape = new kiln.GradientTape();
          const loss = tape.record(() => kiln.ops.add(
            kiln.ops.sum(kiln.ops.square(lstmSequence(x, h0, h0, k, { mask }).outputs)),
            kiln.ops.sum(kiln.ops.square(gruSequence(xg, h0, gk, bias, { mask, resetAfter: true }).outputs)),
          ));
          return [loss, ...tape.gradient(loss, [x, h0, k, gk, bias]).map((g) => g!)];
        });
        results.push(out.map((t) => t.dataSync() as Float32Array));
        kiln.dispose(out);
      }
      for (let k = 0; k < results[0].length; k++) expect(results[1][k]).toEqual(results[0][k]);
    });
  });
});
