/** The rows every engine reports, in the child processes and in results.json. */

export type Workload = 'W1' | 'W2' | 'W3' | 'W4' | 'W5' | 'W6';

export interface Row {
  workload: Workload;
  /** Table name of the engine: 'kiln native', 'tfjs wasm', 'onnxruntime', 'pytorch', 'numpy (…)'. */
  engine: string;
  /** What was measured within the workload: 'n=1024', 'samples/s', 'mlp b1 µs', … */
  case: string;
  value: number | null;
  /** Every timed run behind a median, for results.json. */
  runs?: number[];
  /** How the figure was obtained, when it differs from the plain workload (steps, extrapolation). */
  note?: string;
  /** Why there is no figure: a peer that cannot run, or a failed result check (bench/check.ts). */
  missing?: string;
  /** What the result check before timing verified, where there was one. */
  checked?: string;
}

export interface EngineReport {
  engine: string;
  threads: number | null;
  info: string;
  rows: Row[];
  /** CPU seconds the child itself used (all its threads), to tell its load from its neighbours'. */
  cpuSeconds?: number;
}

/** The plan a child runs, from run.ts's flags. */
export interface Plan {
  quick: boolean;
  threads: number;
}

export const missingRow = (workload: Workload, engine: string, kase: string, why: string): Row => ({ workload, engine, case: kase, value: null, missing: why });

/** The child's stdout line that carries its report (everything else it prints is log). */
export const REPORT_PREFIX = 'BENCH_REPORT ';
