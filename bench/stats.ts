/**
 * Timing helpers shared by every JavaScript engine. Every figure the harness reports is a median:
 * a benchmark on a shared 2-core machine sees outliers (GC, a neighbour's burst) that a mean
 * would smear into the result, and the first calls pay for JIT, page faults and packing buffers.
 */

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const now = (): number => performance.now() / 1000;

export interface Timing {
  /** Median seconds per call. */
  seconds: number;
  /** Seconds per call of every timed run, in order. */
  runs: number[];
  warmups: number;
  /** Calls per timed run (small problems repeat so one run outlasts the timer's noise). */
  reps: number;
}

export interface TimeOptions {
  /** Warm-up lasts at least this many calls and this many seconds. */
  warmups?: number;
  warmupSeconds?: number;
  /** The fewest timed runs; more run while the budget allows, up to maxRuns. */
  minRuns?: number;
  maxRuns?: number;
  /** Seconds the timed runs may take in all, roughly. */
  budget?: number;
  /** The shortest run, in seconds: calls repeat within a run until one lasts this long. */
  minRunSeconds?: number;
}

/** Times `call` after warm-up: the median over several runs of seconds per call. */
export async function timeCalls(call: () => unknown, opts: TimeOptions = {}): Promise<Timing> {
  const { warmups = 1, warmupSeconds = 0.3, minRuns = 3, maxRuns = 9, budget = 3, minRunSeconds = 0.05 } = opts;
  let last = 0;
  let done = 0;
  for (const start = now(); done < warmups || now() - start < warmupSeconds; done++) {
    const t = now();
    await call();
    last = now() - t;
  }
  const reps = Math.max(1, Math.ceil(minRunSeconds / Math.max(last, 1e-6)));
  const runCount = Math.min(maxRuns, Math.max(minRuns, Math.floor(budget / Math.max(last * reps, 1e-6))));
  const runs: number[] = [];
  for (let r = 0; r < runCount; r++) {
    const t = now();
    for (let i = 0; i < reps; i++) await call();
    runs.push((now() - t) / reps);
  }
  return { seconds: median(runs), runs, warmups: done, reps };
}

/**
 * Training throughput from the time stamp taken as each step began (and one after the last):
 * the steps are cut into windows, the first window is the warm-up and is dropped, and the
 * figure is the median window's samples/s. A whole-epoch mean would count the warm-up and any
 * one stall in full.
 */
export function stepThroughput(stamps: number[], batchSize: number, windows = 10): { samplesPerSec: number; windowRates: number[]; stepsPerWindow: number } {
  const steps = stamps.length - 1;
  const per = Math.max(1, Math.floor(steps / windows));
  const rates: number[] = [];
  for (let start = 0; start + per <= steps; start += per) {
    rates.push((per * batchSize) / (stamps[start + per] - stamps[start]));
  }
  const timed = rates.length > 2 ? rates.slice(1) : rates;
  return { samplesPerSec: median(timed), windowRates: rates, stepsPerWindow: per };
}
