/**
 * What the run was measured on, and a wait for the other processes on the machine to go quiet:
 * on 2 shared cores, a neighbour's busy core makes a 2-thread engine wait at every barrier
 * (OpenMP and OpenBLAS spin for the missing thread), which slows it many times over.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';

export function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // not Linux: fall back to what Node knows
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** CPU flags that matter for these kernels. */
export function simdFlags(): string {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'))?.split(':')[1].trim().split(/\s+/) ?? [];
    return ['avx2', 'fma', 'avx512f', 'avx512_bf16', 'amx_tile'].filter((f) => flags.includes(f)).join(' ');
  } catch {
    return '';
  }
}

function busyTicks(): [busy: number, total: number] {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}

/** Busy core-seconds of the whole machine since boot (/proc/stat counts in USER_HZ = 100 ticks/s). */
export function busySeconds(): number {
  try {
    return busyTicks()[0] / 100;
  } catch {
    return NaN;
  }
}

/** Share of all cores busy over the next `seconds`. */
export async function busyShare(seconds = 0.5): Promise<number> {
  try {
    const [b0, t0] = busyTicks();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const [b1, t1] = busyTicks();
    return t1 > t0 ? (b1 - b0) / (t1 - t0) : 0;
  } catch {
    return 0;
  }
}

/** Waits (at most `maxSeconds`) until other processes use under a quarter of the cores; returns the share seen last. */
export async function waitQuiet(maxSeconds: number): Promise<number> {
  const start = performance.now();
  let share = await busyShare();
  while (share > 0.25 && (performance.now() - start) / 1000 < maxSeconds) share = await busyShare(1);
  return share;
}

export const machine = () => ({
  cpu: cpuModel(),
  simd: simdFlags(),
  threads: availableParallelism(),
  node: process.version,
  loadavg: loadavg().map((l) => Number(l.toFixed(2))),
});
