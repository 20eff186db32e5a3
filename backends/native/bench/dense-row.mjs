#!/usr/bin/env node
/**
 * Batch-1 latency of the native addon's fused dense kernel (one row through x·w + bias, relu),
 * called directly (no kiln overhead), for the layers of the bench's MLP and the whole MLP:
 *   node backends/native/bench/dense-row.mjs
 * Prints the median of many calls in µs. KILN_NUM_THREADS sets the threads.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const addon = createRequire(import.meta.url)(join(here, '..', 'build', 'Release', 'kiln_native.node'));
const DENSE = addon.kernels.indexOf('fused:dense');
const SOFTMAX = addon.kernels.indexOf('fused:softmax');
const floats = new Float64Array(0);

function random(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

function buffer(values) {
  const id = addon.alloc(0, values.length);
  addon.write(id, values);
  return id;
}

/** A relu Dense layer k -> n on one row: its run() arguments. */
function layer(x, k, n) {
  const w = buffer(random(k * n));
  const b = buffer(random(n));
  const y = addon.alloc(0, n);
  return { y, args: new Int32Array([4, x, 2, 1, k, w, 2, k, n, b, 1, n, y, 2, 1, n, 1, 1, 0]) };
}

/** Median µs per call of f over `calls` calls, after a warm-up. */
function median(f, calls = 20000) {
  for (let i = 0; i < 2000; i++) f();
  const times = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    f();
    times[i] = Number(process.hrtime.bigint() - t0) / 1e3;
  }
  return times.sort()[calls >> 1];
}

console.log(`isa ${addon.isa()}, threads ${addon.numThreads()}`);
const x = buffer(random(784));
const l1 = layer(x, 784, 256);
const l2 = layer(l1.y, 256, 256);
const l3 = layer(l2.y, 256, 10);
const p = addon.alloc(0, 10);
const softmax = new Int32Array([2, l3.y, 2, 1, 10, p, 2, 1, 10, 1, 0, 0]);
for (const [name, l] of [['784x256', l1], ['256x256', l2], ['256x10', l3]]) {
  console.log(`${name.padEnd(8)} ${median(() => addon.run(DENSE, l.args, floats)).toFixed(2).padStart(7)} µs`);
}
console.log(`softmax  ${median(() => addon.run(SOFTMAX, softmax, floats)).toFixed(2).padStart(7)} µs`);
const mlp = () => {
  addon.run(DENSE, l1.args, floats);
  addon.run(DENSE, l2.args, floats);
  addon.run(DENSE, l3.args, floats);
  addon.run(SOFTMAX, softmax, floats);
};
console.log(`mlp      ${median(mlp).toFixed(2).padStart(7)} µs`);
