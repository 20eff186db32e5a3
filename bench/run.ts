/**
 * `npm run bench [-- --quick] [-- --only W1,W4] [-- --engines kiln-native,pytorch] [-- --render [file]]`: every engine on every workload it can run,
 * each in a child process of its own, then a markdown report on stdout, bench/results.json (the latest run) and a
 * new file in bench/history/ (every run, bench/history.ts). (`--render` prints the report of the last
 * results.json, or of a history file, again, measuring nothing.)
 * Peers that cannot run here are reported as missing, with the reason; no figure is ever made up, and
 * none is given for a result that fails its check (bench/check.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { CHECK_FAILED } from './check.js';
import { mnistFolder } from './data.js';
import { findPythons, pythonPeers } from './engines/python.js';
import { appendHistory, gitState } from './history.js';
import { busySeconds, machine, waitQuiet } from './machine.js';
import { missingRow, type Plan, type Row, type Workload } from './results.js';
import { runChild, type ChildResult } from './spawn.js';
import { render, type RunInfo, type Saved } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a, i) => args[i - 1] === '--only' || a.startsWith('--only='));
const only = onlyArg ? onlyArg.replace('--only=', '').split(',') : ['W1', 'W2', 'W3', 'W4', 'W5', 'W6'];
// `--engines kiln-native,onnxruntime,pytorch`: some engines only (ids as in WORKLOADS, and pytorch, numpy)
const enginesArg = args.find((a, i) => args[i - 1] === '--engines' || a.startsWith('--engines='));
const engines = enginesArg ? enginesArg.replace('--engines=', '').split(',') : null;
const runs = (id: string): boolean => engines === null || engines.includes(id);
const threads = availableParallelism();
const resultsPath = join(here, 'results.json');
const plan: Plan = { quick, threads };

const WORKLOADS: { w: Workload; name: string; js: string[]; torch: boolean; numpy: boolean; python: string }[] = [
  { w: 'W1', name: 'gemm', js: ['kiln-reference', 'kiln-native', 'kiln-webgpu', 'tfjs-cpu', 'tfjs-wasm', 'onnxruntime'], torch: true, numpy: true, python: 'gemm.py' },
  { w: 'W2', name: 'mlp-train', js: ['kiln-reference', 'kiln-native', 'kiln-native-dataset', 'kiln-webgpu', 'tfjs-cpu', 'tfjs-wasm'], torch: true, numpy: false, python: 'torch_nets.py' },
  { w: 'W3', name: 'cnn-train', js: ['kiln-reference', 'kiln-native', 'kiln-webgpu', 'tfjs-cpu', 'tfjs-wasm'], torch: true, numpy: false, python: 'torch_nets.py' },
  { w: 'W4', name: 'inference', js: ['kiln-reference', 'kiln-native', 'tfjs-cpu', 'tfjs-wasm', 'onnxruntime'], torch: true, numpy: false, python: 'torch_nets.py' },
  { w: 'W5', name: 'lstm-train', js: ['kiln-native'], torch: true, numpy: false, python: 'torch_seq.py' },
  { w: 'W6', name: 'transformer-train', js: ['kiln-native'], torch: true, numpy: false, python: 'torch_seq.py' },
];

// every engine gets the same thread count: kiln native, PyTorch/OpenMP, OpenBLAS, ORT (via the plan)
const env: NodeJS.ProcessEnv = { ...process.env, KILN_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
// tsx's loader in the child itself (not the tsx CLI, which would add a wrapper process)
const tsxLoader = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;

/**
 * kiln webgpu where no GPU driver is set up runs on SwiftShader (Chromium's CPU Vulkan driver,
 * when installed), so the row exists everywhere: its figures are then CPU emulation, not a GPU's,
 * and the engine's info names the adapter it ran on.
 */
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const envFor = (id: string): NodeJS.ProcessEnv =>
  (id === 'kiln-webgpu' && !env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER) ? { ...env, VK_ICD_FILENAMES: SWIFTSHADER } : env);

type Ran = RunInfo & { rows: Row[] };

const ran: Ran[] = [];
const rows: Row[] = [];
/** Seconds the whole run may spend waiting for a quiet machine, so that it still ends in time. */
let waitBudget = quick ? 60 : 180;

/** Runs one child, measuring how much of the CPU its neighbours took meanwhile. */
async function attempt(go: () => Promise<ChildResult>): Promise<{ res: ChildResult; neighbours: number }> {
  const t0 = performance.now();
  await waitQuiet(Math.min(waitBudget, quick ? 10 : 30));
  waitBudget = Math.max(0, waitBudget - (performance.now() - t0) / 1000);
  const before = busySeconds();
  const res = await go();
  const others = busySeconds() - before - (res.report?.cpuSeconds ?? 0);
  return { res, neighbours: Math.min(1, Math.max(0, others / (res.seconds * threads))) };
}

async function record(w: Workload, name: string, go: () => Promise<ChildResult>, allMissing: (why: string) => Row[]): Promise<void> {
  let { res, neighbours } = await attempt(go);
  // a neighbour's busy core stalls every 2-thread engine at its barriers: measure once more
  // (short children only, to keep the run's length) and keep the quieter of the two
  const retried = neighbours > 0.2 && res.seconds < 30 && res.report !== null;
  if (retried) {
    const again = await attempt(go);
    if (again.res.report && again.neighbours < neighbours) ({ res, neighbours } = again);
  }
  const report = res.report ?? { engine: name, threads: null, info: '', rows: allMissing(`failed: ${res.error}`) };
  ran.push({ ...report, workload: w, seconds: res.seconds, neighbours: Number(neighbours.toFixed(2)), retried });
  rows.push(...report.rows);
  const figures = report.rows.map((r) => `${r.case} ${r.value === null ? 'missing' : r.value.toFixed(1)}`).join(', ');
  console.error(`[bench] ${w} ${report.engine}: ${figures} (${res.seconds.toFixed(0)} s, neighbours ${(neighbours * 100).toFixed(0)}%${retried ? ', retried' : ''})`);
  for (const r of report.rows) if (r.missing?.startsWith(CHECK_FAILED)) console.error(`[bench] ${w} ${report.engine} ${r.case}: ${r.missing}`);
}

const missingFor = (w: Workload, engine: string, why: string): Row[] => {
  const cases = w === 'W1' ? ['n=256', 'n=512', 'n=1024', 'n=2048']
    : w === 'W4' ? ['mlp b1 µs', 'mlp b256 samples/s', 'cnn b1 µs', 'cnn b256 samples/s']
      : w === 'W5' || w === 'W6' ? ['samples/s', 'held-out acc %'] : ['samples/s', 'test acc %'];
  return cases.map((c) => missingRow(w, engine, c, why));
};

async function main(): Promise<void> {
  const started = new Date();
  // the code measured is the code at the start: read before other work can change the tree
  const git = gitState();
  const info = machine();
  const pythons = findPythons();
  const py = pythonPeers(pythons, threads, env);
  console.error(`[bench] ${quick ? 'quick' : 'full'} run, ${threads} threads, ${info.cpu}; pythons: ${pythons.map((p) => `${p.exe} (torch ${p.torch ?? '-'}, numpy ${p.numpy ?? '-'})`).join('; ') || 'none'}`);
  for (const spec of WORKLOADS.filter((s) => only.includes(s.w))) {
    for (const id of spec.js.filter(runs)) {
      const name = id.replace('-', ' ');
      await record(spec.w, name, () => runChild(process.execPath, ['--import', tsxLoader, join(here, 'child.ts'), id, spec.name, JSON.stringify(plan)], envFor(id), 900), (why) => missingFor(spec.w, name, why));
    }
    const pyArgs = (first: string) => [join(here, 'python', spec.python), first, JSON.stringify(plan), mnistFolder()];
    if (spec.torch && runs('pytorch')) {
      if (typeof py.torch === 'string') rows.push(...missingFor(spec.w, 'pytorch', py.torch));
      else {
        const peer = py.torch;
        await record(spec.w, peer.name, () => runChild(peer.exe, pyArgs(spec.w === 'W1' ? 'torch' : spec.name), peer.env, 900, join(here, 'python')), (why) => missingFor(spec.w, peer.name, why));
      }
    }
    if (spec.numpy && runs('numpy')) {
      if (typeof py.numpy === 'string') rows.push(...missingFor(spec.w, 'numpy', py.numpy));
      else for (const peer of py.numpy) await record(spec.w, peer.name, () => runChild(peer.exe, pyArgs('numpy'), peer.env, 900, join(here, 'python')), (why) => missingFor(spec.w, peer.name, why));
    }
  }

  const saved: Saved = {
    date: started.toISOString(), quick, machine: { ...info, loadavgEnd: machine().loadavg },
    workloads: WORKLOADS.filter((s) => only.includes(s.w)).map((s) => s.w),
    runs: ran.map(({ rows: _rows, ...r }) => r), rows,
  };
  const { markdown, targets } = render(saved);
  console.log(markdown);
  writeFileSync(resultsPath, JSON.stringify({ ...saved, pythons, targets, markdown }, null, 2) + '\n');
  const kept = appendHistory({ ...saved, git, args, pythons, targets });
  console.error(`[bench] wrote ${resultsPath} and ${kept}`);
}

const renderIndex = args.indexOf('--render');
if (renderIndex >= 0) {
  const file = args[renderIndex + 1]?.startsWith('--') === false ? args[renderIndex + 1] : resultsPath;
  console.log(render(JSON.parse(readFileSync(file, 'utf8')) as Saved).markdown);
} else await main();
