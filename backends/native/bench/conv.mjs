#!/usr/bin/env node
/**
 * Convolution throughput of the native addon's fused:conv and fused:convGrad rows, called
 * directly (no kiln overhead), float32, channels last:
 *   node backends/native/bench/conv.mjs
 * Default: an MNIST-CNN-like Conv2D, 3x3, 32 -> 64 channels on 28x28, batch 128, 'same', relu;
 * then a few other shapes. GFLOPS count 2·N·Ho·Wo·F·K·C per product: one for the forward pass,
 * two (dx and dw) for the backward one; "cores busy" is the process's CPU time over wall time (on
 * a machine shared with other work, less than the threads). KILN_NUM_THREADS sets the threads,
 * KILN_GEMM_ISA=avx2|portable a lesser micro-kernel.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const addon = createRequire(import.meta.url)(join(here, '..', 'build', 'Release', 'kiln_native.node'));
const CONV = addon.kernels.indexOf('fused:conv');
const GRAD = addon.kernels.indexOf('fused:convGrad');
const RELU = 1;

function random(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

function tensor(shape) {
  const size = shape.reduce((a, b) => a * b, 1);
  const id = addon.alloc(0, size);
  addon.write(id, random(size));
  return { id, shape };
}

const encode = (tensors, ints) => Int32Array.from([
  tensors.length, ...tensors.flatMap((t) => (t ? [t.id, t.shape.length, ...t.shape] : [0, 0])), ints.length, ...ints, 0,
]);

/**
 * Seconds per call, the best of a few trials of ~1 s of work each, and the CPU time the process
 * spent per call in that trial: on a machine shared with other work, wall time counts waiting
 * for a core, and CPU time divided by the threads shows it.
 */
function time(run, flops) {
  run(); // warm-up: page faults, packing buffers, the pool's size classes
  const reps = Math.max(2, Math.ceil(1e9 / flops));
  let best = Infinity;
  let cpu = Infinity;
  for (let trial = 0; trial < Number(process.env.TRIALS ?? 3); trial++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (let r = 0; r < reps; r++) run();
    const wall = Number(process.hrtime.bigint() - t0) / 1e9 / reps;
    const used = process.cpuUsage(c0);
    if (wall < best) {
      best = wall;
      cpu = (used.user + used.system) / 1e6 / reps;
    }
  }
  return { wall: best, cpu };
}

/** [N, H, W, C] -> F filters of k x k, stride s, 'same' padding, groups g. */
function bench(name, N, H, W, C, F, k, s = 1, g = 1) {
  const pad = Math.floor((k - 1) / 2);
  const Ho = Math.ceil(H / s), Wo = Math.ceil(W / s);
  const x = tensor([N, H, W, C]), w = tensor([k, k, C / g, F]), b = tensor([F]);
  const y = tensor([N, Ho, Wo, F]), dy = tensor([N, Ho, Wo, F]), dx = tensor([N, H, W, C]), dw = tensor([k, k, C / g, F]), db = tensor([F]);
  const ints = [2, s, s, 1, 1, pad, pad, g, RELU];
  const fwd = encode([x, w, b, y], ints);
  const bwd = encode([dy, y, x, w, dx, dw, db], ints);
  const none = new Float64Array(0);
  const flops = (2 * N * Ho * Wo * F * k * k * C) / g;
  const tf = time(() => addon.run(CONV, fwd, none), flops);
  const tb = time(() => addon.run(GRAD, bwd, none), 2 * flops);
  const gf = (f, t) => `${(f / t.wall / 1e9).toFixed(1).padStart(6)} GFLOPS (${(t.wall * 1e3).toFixed(2).padStart(7)} ms, ${(t.cpu / t.wall).toFixed(1)} cores busy)`;
  console.log(`${name.padEnd(44)} forward ${gf(flops, tf)}   backward ${gf(2 * flops, tb)}`);
  for (const t of [x, w, b, y, dy, dx, dw, db]) addon.free(t.id);
}

console.log(`isa ${addon.isa()}, threads ${addon.numThreads()}`);
bench('3x3 32->64, 28x28, batch 128 (MNIST CNN)', 128, 28, 28, 32, 64, 3);
bench('3x3 1->32, 28x28, batch 128 (first layer)', 128, 28, 28, 1, 32, 3);
bench('3x3 64->64, 14x14, batch 128', 128, 14, 14, 64, 64, 3);
bench('3x3 128->128, 28x28, batch 16, stride 2', 16, 28, 28, 128, 128, 3, 2);
bench('1x1 128->256, 14x14, batch 64', 64, 14, 14, 128, 256, 1);
bench('3x3 depthwise 128, 28x28, batch 32', 32, 28, 28, 128, 128, 3, 1, 128);
bench('3x3 32->64, 28x28, batch 1', 1, 28, 28, 32, 64, 3);
