/**
 * W1: float32 SGEMM C = A·B, n×n, in GFLOPS (2n³ / seconds per call, readback included). Each
 * size's product is checked before it is timed (bench/check.ts); a wrong one gets no figure.
 */
import { checked, checkGemm } from '../check.js';
import type { JsEngine } from '../engines/engine.js';
import { missingRow, type Plan, type Row } from '../results.js';
import { timeCalls } from '../stats.js';

export const GEMM_SIZES = [256, 512, 1024, 2048];

/** Seconds one call may take before a size is skipped: slow engines would eat the run's time. */
const capSeconds = (plan: Plan): number => (plan.quick ? 4 : 20);

export async function gemm(engine: JsEngine, plan: Plan): Promise<Row[]> {
  const rows: Row[] = [];
  let lastSeconds = 0;
  let lastN = 0;
  for (const n of GEMM_SIZES) {
    const kase = `n=${n}`;
    // a call costs n³: predict this size from the last one and skip it past the cap
    const predicted = lastSeconds * (n / Math.max(lastN, 1)) ** 3;
    if (predicted > capSeconds(plan)) {
      rows.push(missingRow('W1', engine.name, kase, `skipped: ~${predicted.toFixed(0)} s per call (cap ${capSeconds(plan)} s${plan.quick ? ', --quick' : ''})`));
      continue;
    }
    const runner = await engine.matmul(n);
    const check = await checked(() => runner.computed(), (c) => checkGemm(n, c));
    if ('failed' in check) {
      await runner.dispose();
      rows.push(missingRow('W1', engine.name, kase, check.failed));
      continue;
    }
    const t = await timeCalls(() => runner.call(), { budget: plan.quick ? 1 : 3 });
    await runner.dispose();
    const flops = 2 * n ** 3;
    rows.push({ workload: 'W1', engine: engine.name, case: kase, value: flops / t.seconds / 1e9, runs: t.runs.map((s) => flops / s / 1e9), checked: check.checked });
    [lastSeconds, lastN] = [t.seconds, n];
  }
  return rows;
}
