/**
 * W5 (LSTM) and W6 (transformer encoder) training: a fixed number of Adam 1e-3 steps on the
 * generated sequences of bench/sequences.ts, samples/s from the median window of steps after
 * the first (warm-up) window, and accuracy on 512 held-out sequences after training (a check
 * that the engine trained the model it claims, not a target).
 */
import type { JsEngine } from '../engines/engine.js';
import { SEQUENCE_TASKS, type SequenceArch } from '../sequences.js';
import type { Plan, Row, Workload } from '../results.js';
import { stepThroughput } from '../stats.js';

export const sequenceWorkload = (arch: SequenceArch): Workload => (arch === 'lstm' ? 'W5' : 'W6');

export async function trainSequences(engine: JsEngine, arch: SequenceArch, plan: Plan): Promise<Row[]> {
  const task = SEQUENCE_TASKS[arch];
  const steps = plan.quick ? 20 : 60;
  const out = await engine.trainSequences({ task, steps });
  const t = stepThroughput(out.stamps, task.batchSize);
  const wall = out.stamps[out.stamps.length - 1] - out.stamps[0];
  const w = sequenceWorkload(arch);
  return [
    { workload: w, engine: engine.name, case: 'samples/s', value: t.samplesPerSec, runs: t.windowRates, note: `${steps} steps of batch ${task.batchSize}, median of ${t.windowRates.length - 1} windows of ${t.stepsPerWindow} steps after 1 warm-up window; ${wall.toFixed(1)} s wall` },
    { workload: w, engine: engine.name, case: 'held-out acc %', value: out.accuracy! * 100, note: `after ${steps} steps` },
  ];
}
