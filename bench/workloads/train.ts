/**
 * W2 (MLP) and W3 (CNN) training: one epoch of Adam 1e-3 on MNIST, samples/s from the median
 * window of steps after the first (warm-up) window, and test accuracy after the epoch. Engines
 * too slow for a whole epoch in the time budget train a fixed number of steps instead, labelled.
 */
import type { Arch, JsEngine } from '../engines/engine.js';
import type { Mnist } from '../data.js';
import { missingRow, type Plan, type Row, type Workload } from '../results.js';
import { stepThroughput } from '../stats.js';

export interface TrainPlan {
  workload: Workload;
  arch: Arch;
  batchSize: number;
  /** Samples in a whole epoch: all 60,000. */
  epochSamples: number;
  /** Steps for engines that cannot do a whole epoch here, or for every engine with --quick. */
  fixedSteps: number | null;
  label: string;
  /** Test accuracy after training; off where predicting 10k images would cost minutes (tfjs cpu CNN). */
  evaluate: boolean;
}

export const SLOW_ENGINES = new Set(['kiln reference', 'tfjs cpu', 'kiln webgpu']);

export function trainPlan(arch: Arch, engine: string, plan: Plan): TrainPlan {
  const mlp = arch === 'mlp';
  const base = { workload: (mlp ? 'W2' : 'W3') as Workload, arch, batchSize: 128, epochSamples: 60000, evaluate: true };
  const quickSteps = mlp ? 100 : 30;
  // kiln reference and tfjs cpu take ~7 s and ~50 s per CNN step (JavaScript convolution loops): 1 warm-up + 2 timed steps
  const slowSteps = mlp ? 100 : 3;
  if (SLOW_ENGINES.has(engine)) return { ...base, evaluate: mlp, fixedSteps: slowSteps, label: `${slowSteps} steps (slow engine), samples/s extrapolated` };
  if (plan.quick) return { ...base, fixedSteps: quickSteps, label: `${quickSteps} steps (--quick), samples/s extrapolated` };
  return { ...base, fixedSteps: null, label: '1 epoch' };
}

export async function train(engine: JsEngine, data: Mnist, tp: TrainPlan): Promise<Row[]> {
  const samples = tp.fixedSteps ? Math.min(tp.fixedSteps * tp.batchSize, tp.epochSamples) : tp.epochSamples;
  const out = await engine.train({ data, arch: tp.arch, samples, batchSize: tp.batchSize, learningRate: 1e-3, evaluate: tp.evaluate });
  // a short last batch would inflate its window's samples/s: only whole batches are timed
  const fullSteps = Math.floor(samples / tp.batchSize);
  const t = stepThroughput(out.stamps.slice(0, fullSteps + 1), tp.batchSize);
  const wall = out.stamps[out.stamps.length - 1] - out.stamps[0];
  const note = `${tp.label}; ${samples} samples, median of ${t.windowRates.length - 1} windows of ${t.stepsPerWindow} steps after 1 warm-up window; ${wall.toFixed(1)} s wall`;
  return [
    { workload: tp.workload, engine: engine.name, case: 'samples/s', value: t.samplesPerSec, runs: t.windowRates, note },
    out.accuracy === null
      ? missingRow(tp.workload, engine.name, 'test acc %', `not measured after ${tp.fixedSteps} steps (predicting 10k images takes minutes here)`)
      : { workload: tp.workload, engine: engine.name, case: 'test acc %', value: out.accuracy * 100, note: tp.fixedSteps ? `after ${tp.label.split(' (')[0]} only` : 'after 1 epoch' },
  ];
}
