#!/usr/bin/env node
/**
 * SGEMM throughput of the native addon's matmul kernel, called directly (no kiln overhead):
 *   node backends/native/bench/sgemm.mjs [sizes...]        default 256 512 1024 2048
 * KILN_NUM_THREADS sets the threads, KILN_GEMM_ISA=avx2|portable a lesser micro-kernel.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const addon = createRequire(import.meta.url)(join(here, '..', 'build', 'Release', 'kiln_native.node'));
const MATMUL = addon.kernels.indexOf('matmul');
const sizes = process.argv.slice(2).map(Number);

function random(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

console.log(`isa ${addon.isa()}, threads ${addon.numThreads()}`);
for (const n of sizes.length ? sizes : [256, 512, 1024, 2048]) {
  const a = addon.alloc(0, n * n);
  const b = addon.alloc(0, n * n);
  const c = addon.alloc(0, n * n);
  addon.write(a, random(n * n));
  addon.write(b, random(n * n));
  const args = new Int32Array([3, a, 2, n, n, b, 2, n, n, c, 2, n, n, 2, 0, 0, 0]);
  const floats = new Float64Array(0);
  addon.run(MATMUL, args, floats); // warm-up: page faults, packing buffers
  const flops = 2 * n ** 3;
  let reps = Math.max(3, Math.ceil(2e9 / flops));
  let best = Infinity;
  for (let trial = 0; trial < Number(process.env.TRIALS ?? 3); trial++) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < reps; r++) addon.run(MATMUL, args, floats);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9 / reps);
  }
  console.log(`n=${String(n).padStart(4)}  ${(flops / best / 1e9).toFixed(1).padStart(7)} GFLOPS  (${(best * 1e3).toFixed(2)} ms)`);
  for (const id of [a, b, c]) addon.free(id);
}
