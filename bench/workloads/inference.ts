/**
 * W4: inference of the W2 MLP and the W3 CNN (untrained weights: only the shapes matter for
 * time). Batch-1 latency is the median of individually timed calls, since a latency figure is
 * about one call; batch-256 throughput is samples/s from the median run. Before either is timed,
 * the output is checked against a float64 forward pass (bench/check.ts, bench/check-cnn.ts): a
 * wrong result gets no figure.
 */
import { checked, checkMlp } from '../check.js';
import { checkCnn } from '../check-cnn.js';
import { Missing, type Arch, type JsEngine, type Runner } from '../engines/engine.js';
import { missingRow, type Plan, type Row } from '../results.js';
import { median, now, timeCalls } from '../stats.js';

const verify = (arch: Arch, runner: Runner): Promise<{ checked: string } | { failed: string }> =>
  checked(() => runner.computed(), arch === 'mlp' ? (c) => checkMlp(c) : (c) => checkCnn(c));

export async function inference(engine: JsEngine, plan: Plan): Promise<Row[]> {
  const rows: Row[] = [];
  const calls = plan.quick ? 200 : 1000;
  for (const arch of ['mlp', 'cnn'] as Arch[]) {
    const b1 = `${arch} b1 µs`;
    const b256 = `${arch} b256 samples/s`;
    try {
      const one = await engine.predictor(arch, 1);
      const check1 = await verify(arch, one);
      if ('failed' in check1) rows.push(missingRow('W4', engine.name, b1, check1.failed));
      else {
        for (let i = 0; i < 50; i++) await one.call();
        const times: number[] = [];
        for (let i = 0; i < calls; i++) {
          const t = now();
          await one.call();
          times.push((now() - t) * 1e6);
        }
        rows.push({ workload: 'W4', engine: engine.name, case: b1, value: median(times), note: `median of ${calls} calls after 50 warm-up calls`, checked: check1.checked });
      }
      await one.dispose();
      const many = await engine.predictor(arch, 256);
      const check256 = await verify(arch, many);
      if ('failed' in check256) rows.push(missingRow('W4', engine.name, b256, check256.failed));
      else {
        const t = await timeCalls(() => many.call(), { budget: plan.quick ? 1 : 2 });
        rows.push({ workload: 'W4', engine: engine.name, case: b256, value: 256 / t.seconds, runs: t.runs.map((s) => 256 / s), checked: check256.checked });
      }
      await many.dispose();
    } catch (err) {
      if (!(err instanceof Missing)) throw err;
      rows.push(missingRow('W4', engine.name, b1, err.message), missingRow('W4', engine.name, b256, err.message));
    }
  }
  return rows;
}
