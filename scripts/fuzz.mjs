#!/usr/bin/env node
/**
 * `npm run fuzz [-- options]`: mutates valid inputs (.kiln files, .npy and IDX files, `kiln train`
 * configs, models for ONNX export) and counts how kiln takes each: a clean error (a KilnError),
 * accepted, silently different (accepted, but not as the original), a crash (the child died, ran
 * over its memory cap, or threw something other than a KilnError) or a hang (the watchdog fired).
 * Not part of `npm test`; test/reliability/fuzz.test.ts runs a short seeded round.
 *
 * Options: --seed S (default 1), --cases N per target (default 200), --targets kiln,npy,idx,cli,onnx,
 * --from I (first case index, with --cases: rerun one case with --from I --cases 1), --batch B
 * (cases per child, default 100), --timeout SECONDS per case (default 10), --heap MB (each
 * child's --max-old-space-size, default 512), --rss MB (the cap on a child's resident memory,
 * default 1536), --max-tensor-bytes (kiln's limit in the children, default 64 MiB), --json FILE
 * (the summary), --log FILE (one JSON line per case, with the error message of a clean error).
 * One child runs at a time. Exits 1 when any case crashed, hung or was silently different, and
 * prints the command that reruns each.
 */
import { fork } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['kiln', 'npy', 'idx', 'cli', 'onnx'];
const OUTCOMES = ['clean', 'accepted', 'silent', 'crash', 'hang'];
const BAD = new Set(['silent', 'crash', 'hang']);

const { values: opts } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    cases: { type: 'string', default: '200' },
    from: { type: 'string', default: '0' },
    targets: { type: 'string', default: ALL.join(',') },
    batch: { type: 'string', default: '100' },
    timeout: { type: 'string', default: '10' },
    heap: { type: 'string', default: '512' },
    rss: { type: 'string', default: '1536' },
    'max-tensor-bytes': { type: 'string', default: String(64 * 2 ** 20) },
    json: { type: 'string' },
    log: { type: 'string' },
  },
});
const int = (name, min) => {
  const v = Number(opts[name]);
  if (!Number.isSafeInteger(v) || v < min) throw new Error(`fuzz: --${name} must be an integer >= ${min}, got '${opts[name]}'`);
  return v;
};
const seed = int('seed', 0);
const cases = int('cases', 1);
const from = int('from', 0);
const batch = int('batch', 1);
const timeoutMs = int('timeout', 1) * 1000;
const rssCap = int('rss', 64) * 2 ** 20;
const targets = opts.targets.split(',');
for (const t of targets) if (!ALL.includes(t)) throw new Error(`fuzz: unknown target '${t}'; known: ${ALL.join(', ')}`);
const tsx = createRequire(import.meta.url).resolve('tsx');
// a rerun needs the limits the case failed under
const limits = ['timeout', 'heap', 'rss', 'max-tensor-bytes'].filter((k) => process.argv.some((a) => a.startsWith(`--${k}`))).map((k) => ` --${k} ${opts[k]}`).join('');

/** Resident and peak resident bytes of a live process, from /proc (0 where there is no /proc). */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

/**
 * Runs cases [start, end) of `target` in one child; resolves with the index it stopped at
 * (end, or one past a case that killed it), having recorded every finished case in `report`.
 */
function runChild(target, start, end, report) {
  const scratch = mkdtempSync(join(tmpdir(), `kiln-fuzz-${target}-`));
  const child = fork(join(root, 'scripts/fuzz/worker.ts'), [target, String(seed), String(start), String(end), scratch, opts['max-tensor-bytes']], {
    execArgv: ['--import', tsx, `--max-old-space-size=${opts.heap}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  let current = null;
  let killedFor = null;
  let watchdog = null;
  const arm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => { killedFor = 'hang'; child.kill('SIGKILL'); }, timeoutMs + (current === null ? 60_000 : 0));
  };
  arm();
  const poll = setInterval(() => {
    const { rss, peak } = memoryOf(child.pid);
    report.peakRss = Math.max(report.peakRss, peak);
    if (rss > rssCap && !killedFor) {
      killedFor = 'memory';
      child.kill('SIGKILL');
    }
  }, 50);
  child.on('message', (m) => {
    if (m.type === 'start') {
      current = m;
      arm();
    } else {
      record(report, target, m.index, m.kind, current?.what, m.detail);
      current = null;
      arm();
    }
  });
  return new Promise((done) => {
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      clearInterval(poll);
      rmSync(scratch, { recursive: true, force: true });
      // outside a case (setup, or making the next case) the fault is the harness's, not kiln's
      if (current === null) {
        const why = killedFor === 'hang' ? 'stalled' : killedFor === 'memory' ? `went over ${rssCap / 2 ** 20} MiB` : code !== 0 ? `failed (exit ${code ?? signal})` : null;
        if (why) throw new Error(`fuzz: a ${target} child ${why} outside any case:\n${stderr}`);
        return done(end);
      }
      const why = killedFor === 'hang' ? `no answer within ${timeoutMs / 1000} s`
        : killedFor === 'memory' ? `resident memory over ${rssCap / 2 ** 20} MiB`
        : `the child died (exit ${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      record(report, target, current.index, killedFor === 'hang' ? 'hang' : 'crash', current.what, why);
      done(current.index + 1);
    });
  });
}

function record(report, target, index, kind, what, detail) {
  if (opts.log) appendFileSync(opts.log, `${JSON.stringify({ target, index, outcome: kind, what, detail })}\n`);
  const t = report.targets[target];
  t[kind]++;
  t.cases++;
  if (BAD.has(kind)) {
    report.findings.push({ target, index, outcome: kind, what, detail,
      rerun: `npm run fuzz -- --targets ${target} --seed ${seed} --from ${index} --cases 1${limits}` });
  }
}

const report = {
  seed, from, casesPerTarget: cases, machine: `${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores`, node: process.version,
  targets: Object.fromEntries(targets.map((t) => [t, { cases: 0, ...Object.fromEntries(OUTCOMES.map((o) => [o, 0])), seconds: 0 }])),
  peakRss: 0, seconds: 0, findings: [],
};
const started = Date.now();
for (const target of targets) {
  const t0 = Date.now();
  for (let i = from; i < from + cases;) i = await runChild(target, i, Math.min(i + batch, from + cases), report);
  report.targets[target].seconds = (Date.now() - t0) / 1000;
  const t = report.targets[target];
  console.log(`${target.padEnd(5)} ${String(t.cases).padStart(6)} cases: ${OUTCOMES.map((o) => `${o} ${t[o]}`).join(', ')} (${t.seconds.toFixed(1)} s)`);
}
report.seconds = (Date.now() - started) / 1000;

console.log(`\n| target | cases | clean error | accepted | silently different | crash | hang | seconds |\n|---|--:|--:|--:|--:|--:|--:|--:|`);
for (const [name, t] of Object.entries(report.targets)) console.log(`| ${name} | ${t.cases} | ${t.clean} | ${t.accepted} | ${t.silent} | ${t.crash} | ${t.hang} | ${t.seconds.toFixed(1)} |`);
console.log(`\nseed ${seed}, peak child RSS ${(report.peakRss / 2 ** 20).toFixed(0)} MiB, ${report.seconds.toFixed(1)} s, ${report.machine}`);
for (const f of report.findings) console.log(`\n${f.outcome}: ${f.target} case ${f.index}: ${f.what}\n  ${f.detail}\n  rerun: ${f.rerun}`);
const summary = JSON.stringify(report, null, 2);
if (opts.json) writeFileSync(opts.json, summary);
else console.log(`\n${summary}`);
process.exitCode = report.findings.length ? 1 : 0;
