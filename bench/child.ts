/**
 * One engine, one workload, in a process of its own (spawned by run.ts), so that engines never
 * share a core with another engine's thread pool. Prints its report as one JSON line.
 *   tsx bench/child.ts <engine id> <workload> '<plan json>'
 */
import { loadMnist } from './data.js';
import { Missing, type JsEngine } from './engines/engine.js';
import { missingRow, REPORT_PREFIX, type EngineReport, type Plan, type Row } from './results.js';
import { gemm, GEMM_SIZES } from './workloads/gemm.js';
import { train, trainPlan } from './workloads/train.js';
import { inference } from './workloads/inference.js';
import { sequenceWorkload, trainSequences } from './workloads/sequence.js';

/** The sequence workloads by their name on the command line. */
const SEQUENCES = { 'lstm-train': 'lstm', 'transformer-train': 'transformer' } as const;

export const JS_ENGINES: Record<string, string> = {
  'kiln-reference': 'kiln reference',
  'kiln-native': 'kiln native',
  'kiln-native-dataset': 'kiln native dataset',
  'kiln-webgpu': 'kiln webgpu',
  'tfjs-cpu': 'tfjs cpu',
  'tfjs-wasm': 'tfjs wasm',
  onnxruntime: 'onnxruntime',
};

async function open(id: string, plan: Plan): Promise<JsEngine> {
  if (id === 'kiln-native-dataset') return (await import('./engines/kiln.js')).kilnEngine('native', 'dataset');
  if (id.startsWith('kiln-')) return (await import('./engines/kiln.js')).kilnEngine(id.slice(5));
  if (id.startsWith('tfjs-')) return (await import('./engines/tfjs.js')).tfjsEngine(id.slice(5) as 'cpu' | 'wasm', plan.threads);
  if (id === 'onnxruntime') return (await import('./engines/onnxruntime.js')).onnxruntimeEngine(plan.threads);
  throw new Error(`unknown engine ${id}`);
}

/** The rows a workload would have had, each marked missing with `why`. */
function allMissing(name: string, workload: string, why: string): Row[] {
  if (workload === 'gemm') return GEMM_SIZES.map((n) => missingRow('W1', name, `n=${n}`, why));
  if (workload === 'inference') return ['mlp b1 µs', 'mlp b256 samples/s', 'cnn b1 µs', 'cnn b256 samples/s'].map((c) => missingRow('W4', name, c, why));
  const w = workload in SEQUENCES ? sequenceWorkload(SEQUENCES[workload as keyof typeof SEQUENCES]) : workload === 'mlp-train' ? 'W2' : 'W3';
  if (workload in SEQUENCES) return [missingRow(w, name, 'samples/s', why), missingRow(w, name, 'held-out acc %', why)];
  return [missingRow(w, name, 'samples/s', why), missingRow(w, name, 'test acc %', why)];
}

async function main(): Promise<void> {
  const [id, workload, planJson] = process.argv.slice(2);
  const plan = JSON.parse(planJson) as Plan;
  const name = JS_ENGINES[id] ?? id;
  const report: EngineReport = { engine: name, threads: null, info: '', rows: [] };
  try {
    const engine = await open(id, plan);
    Object.assign(report, { threads: engine.threads, info: engine.info });
    if (workload === 'gemm') report.rows = await gemm(engine, plan);
    else if (workload === 'inference') report.rows = await inference(engine, plan);
    else if (workload in SEQUENCES) report.rows = await trainSequences(engine, SEQUENCES[workload as keyof typeof SEQUENCES], plan);
    else report.rows = await train(engine, loadMnist(), trainPlan(workload === 'mlp-train' ? 'mlp' : 'cnn', name, plan));
  } catch (err) {
    // an engine that fails is a missing peer with its error, never a number
    const why = err instanceof Missing ? err.message : `error: ${String((err as Error).message ?? err).split('\n')[0].slice(0, 160)}`;
    report.rows = allMissing(name, workload, why);
  }
  const cpu = process.cpuUsage();
  report.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(`\n${REPORT_PREFIX}${JSON.stringify(report)}\n`);
  // tfjs-wasm and onnxruntime keep worker threads alive; the report is out, so leave now
  process.exit(0);
}

await main();
