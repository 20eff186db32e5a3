#!/usr/bin/env node
/**
 * Mutation testing for the native addon's C++ kernels: hand-written mutants, each a realistic
 * bug (an off-by-one tail, a wrong stride, a dropped epilogue, a wrong accumulation), listed in
 * scripts/native-mutants.mjs and planted one at a time in a copy of the repository, which is
 * rebuilt and tested. A mutant is killed when a test fails; one that survives is a bug the tests
 * would let through. Equivalent mutants (no input can change a result) are not in the list: they
 * are in docs/testing-native-mutants.md with the reason.
 *
 *   node scripts/mutate-native.mjs               every mutant (~25–30 min on two cores)
 *   node scripts/mutate-native.mjs --only a,b    those mutants
 *   node scripts/mutate-native.mjs --list        the list, checked against the sources
 *   options: --keep (leave the copy in place), --skip-baseline (trust the unmutated copy)
 *
 * The copy (a temp dir) holds everything but node_modules (a symlink), dist and .git, with the
 * addon's build folder copied as it is, timestamps kept, so that make recompiles only the files
 * a mutant touches. It is built once unmutated and tested (the baseline: every test must pass,
 * else a failure would count as a kill); the build folder is then kept aside, and after each
 * mutant the source and that folder are put back, so each build compiles one mutant only. The
 * tests (test/native, test/conformance, test/edges, with KILN_REQUIRE_NATIVE=1) stop at the
 * first failure, which the table names.
 *
 * Each mutant's `find` must occur exactly once in its file, or the script stops before building
 * anything: an edit to the kernels that moves a mutant's text makes the list fail loudly instead
 * of quietly testing nothing. A mutant that does not compile (or whose addon does not load) is
 * reported as such, never as killed. Exit status: 0 when every mutant is killed, 1 when one
 * survives or does not compile, 2 when the list or the baseline is broken.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MUTANTS } from './native-mutants.mjs';
import { findNodeGyp } from './node-gyp.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = 'backends/native/src/cpu';
const TESTS = ['test/native', 'test/conformance', 'test/edges'];
// A mutant that makes a kernel loop forever is caught here (counted as killed: a test hangs).
const TEST_TIMEOUT_MS = 20 * 60_000;

// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { only: null, list: false, keep: false, baseline: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') o.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a.startsWith('--only=')) o.only = a.slice(7).split(',').filter(Boolean);
    else if (a === '--list') o.list = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--skip-baseline') o.baseline = false;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/mutate-native.mjs [--list] [--only id,id] [--keep] [--skip-baseline]');
      process.exit(0);
    } else fail(`unknown option ${a}`);
  }
  return o;
}

function fail(message) {
  console.error(`mutate-native: ${message}`);
  process.exit(2);
}

function occurrences(text, find) {
  let count = 0;
  for (let at = text.indexOf(find); at !== -1; at = text.indexOf(find, at + 1)) count++;
  return count;
}

/** Every problem with the list against the sources under `base`: missing files, text not found once. */
function checkList(base) {
  const problems = [];
  const ids = new Set();
  for (const m of MUTANTS) {
    if (ids.has(m.id)) problems.push(`${m.id}: duplicate id`);
    ids.add(m.id);
    const path = join(base, SRC, m.file);
    if (!existsSync(path)) {
      problems.push(`${m.id}: ${SRC}/${m.file} does not exist`);
      continue;
    }
    const n = occurrences(readFileSync(path, 'utf8'), m.find);
    if (n !== 1) problems.push(`${m.id}: its text occurs ${n} times in ${SRC}/${m.file}, not once: ${JSON.stringify(m.find)}`);
    if (m.find === m.replace) problems.push(`${m.id}: replace equals find`);
  }
  return problems;
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  if (r.error) throw r.error;
  return r;
}

/**
 * A copy of the repository: everything but node_modules (linked), dist and .git, timestamps kept.
 * node-gyp's Makefile names node's headers by paths relative to the build folder, so the copy
 * sits as deep as the repository does: then the copied objects stay valid and make recompiles
 * only what changed. Where that cannot be (a repository near /), `reuse` is false and the copy
 * is configured and built from scratch once.
 */
function makeCopy() {
  const work = mkdtempSync(join(tmpdir(), 'kiln-mutate-'));
  const depth = (p) => p.split(sep).filter(Boolean).length;
  const top = mkdtempSync(join(tmpdir(), 'kiln-mutant-'));
  let copy = top;
  while (depth(copy) < depth(root)) copy = join(copy, 'r');
  const reuse = depth(copy) === depth(root);
  sh('mkdir', ['-p', copy]);
  const entries = readdirSync(root).filter((e) => !['node_modules', 'dist', '.git'].includes(e));
  const r = sh('cp', ['-a', ...entries.map((e) => join(root, e)), copy]);
  if (r.status !== 0) fail(`copying the repository failed: ${r.stderr}`);
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  return { work, top, copy, reuse };
}

/** The objects whose recorded dependencies name the file (from make's .d files). */
function objectsUsing(copy, file) {
  const deps = join(copy, 'backends/native/build/Release/.deps/Release/obj.target/kiln_native/src');
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.o.d') && readFileSync(p, 'utf8').includes(`src/cpu/${file}`)) out.push(e.name.slice(0, -2));
    }
  };
  if (existsSync(deps)) walk(deps);
  return out;
}

const firstErrorLine = (log) => log.split('\n').map((l) => l.trim()).find((l) => /(^|\s)(fatal )?error:/i.test(l)) ?? log.trim().split('\n').at(-1) ?? 'unknown error';

/**
 * Rebuilds the copy's addon incrementally (node-gyp build: make, no configure, which would
 * rewrite the Makefile and rebuild everything). Returns { ok, compiled, error, seconds }.
 */
function build(copy, nodeGyp, configure = false) {
  const dir = join(copy, 'backends/native');
  const addon = join(dir, 'build/Release/kiln_native.node');
  const started = Date.now();
  let log = '';
  if (configure) {
    // node's own headers when installed, as scripts/build-native.mjs does (no download)
    const prefix = resolve(dirname(process.execPath), '..');
    const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
    const c = sh(process.execPath, [nodeGyp, 'configure', ...nodedir], { cwd: dir, timeout: 10 * 60_000 });
    log += `${c.stdout}${c.stderr}`;
    if (c.status !== 0) return { ok: false, compiled: [], error: firstErrorLine(log), seconds: (Date.now() - started) / 1000 };
  }
  const r = sh(process.execPath, [nodeGyp, 'build', '--jobs=2'], { cwd: dir, timeout: 30 * 60_000 });
  log += `${r.stdout}${r.stderr}`;
  const seconds = (Date.now() - started) / 1000;
  const compiled = [...log.matchAll(/CXX\(target\) \S*\/([^/\s]+\.o)/g)].map((x) => x[1]);
  if (r.status !== 0) return { ok: false, compiled, error: firstErrorLine(log), seconds };
  const load = sh(process.execPath, ['-e', `require(${JSON.stringify(addon)})`]);
  if (load.status !== 0) return { ok: false, compiled, error: `builds but does not load: ${firstErrorLine(load.stderr)}`, seconds };
  return { ok: true, compiled, error: null, seconds };
}

/**
 * The native tests and the conformance suite in the copy, stopping at the first failure.
 * Returns { failed, first, seconds }: `first` names the first failing test (or file, for a crash).
 */
function runTests(copy, work) {
  const report = join(work, 'vitest.json');
  rmSync(report, { force: true });
  const started = Date.now();
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const args = [vitest, 'run', ...TESTS, '--bail=1', '--reporter=dot', '--reporter=json', `--outputFile.json=${report}`];
  return new Promise((done) => {
    let log = '';
    // its own process group, so that a timeout ends vitest's workers with it
    const child = spawn(process.execPath, args, { cwd: copy, env: { ...process.env, KILN_REQUIRE_NATIVE: '1' }, detached: true });
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, TEST_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      writeFileSync(join(work, 'vitest.log'), log);
      const seconds = (Date.now() - started) / 1000;
      if (timedOut) return done({ failed: true, first: `(timed out after ${TEST_TIMEOUT_MS / 60_000} min)`, seconds, log });
      done({ failed: code !== 0, first: code !== 0 ? firstFailure(report, log) : null, seconds, log });
    });
  });
}

function firstFailure(report, log) {
  if (existsSync(report)) {
    try {
      const json = JSON.parse(readFileSync(report, 'utf8'));
      for (const file of json.testResults ?? []) {
        const t = (file.assertionResults ?? []).find((a) => a.status === 'failed');
        const where = file.name.slice(file.name.indexOf('test/'));
        if (t) return `${where}: ${t.fullName}`;
      }
      for (const file of json.testResults ?? []) {
        if (file.status === 'failed') return `${file.name.slice(file.name.indexOf('test/'))}: ${(file.message || 'failed').split('\n')[0].slice(0, 160)}`;
      }
    } catch {
      // a crash can leave the report unfinished; the log says what happened
    }
  }
  const line = log.split('\n').find((l) => /FAIL|Error|Segmentation|signal/.test(l));
  return (line ?? 'vitest failed (no report)').trim().slice(0, 200);
}

function table(rows) {
  const head = ['mutant', 'file', 'outcome', 'build s', 'test s', 'first failing test / reason'];
  const cells = rows.map((r) => [r.id, r.file, r.outcome, r.build.toFixed(0), r.test.toFixed(0), r.detail]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (i === 5 ? 0 : c[i].length))));
  const line = (c) => c.map((x, i) => (i === 5 ? x : x.padEnd(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
const problems = checkList(root);
if (problems.length) fail(`the mutant list no longer fits the sources:\n  ${problems.join('\n  ')}`);
if (opts.list) {
  for (const m of MUTANTS) console.log(`${m.id.padEnd(30)} ${m.file.padEnd(17)} ${m.models}`);
  console.log(`${MUTANTS.length} mutants, each found exactly once in its file`);
  process.exit(0);
}
let chosen = MUTANTS;
if (opts.only) {
  const unknown = opts.only.filter((id) => !MUTANTS.some((m) => m.id === id));
  if (unknown.length) fail(`unknown mutant ${unknown.join(', ')} (see --list)`);
  chosen = MUTANTS.filter((m) => opts.only.includes(m.id));
}
const nodeGyp = findNodeGyp(root);
if (!nodeGyp) fail('node-gyp not found (it ships with npm)');

const t0 = Date.now();
const { work, top, copy, reuse } = makeCopy();
console.log(`mutate-native: ${chosen.length} mutants, copy in ${copy}`);
const cleanup = () => {
  if (opts.keep) return;
  rmSync(work, { recursive: true, force: true });
  rmSync(top, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

// The unmutated copy: built (which compiles whatever is newer than the objects copied) and, unless
// skipped, tested; then its build folder is set aside, to be put back after every mutant.
const problemsInCopy = checkList(copy);
if (problemsInCopy.length) {
  cleanup();
  fail(`the copy differs from the tree (a file changed while copying?):\n  ${problemsInCopy.join('\n  ')}`);
}
let base = build(copy, nodeGyp, !reuse);
// a build folder that make cannot use from here (made elsewhere, or by another node-gyp): start over
if (!base.ok && reuse) base = build(copy, nodeGyp, true);
console.log(`unmutated build: ${base.compiled.length} files compiled in ${base.seconds.toFixed(0)} s`);
if (!base.ok) {
  cleanup();
  fail(`the unmutated addon does not build: ${base.error}`);
}
const buildDir = join(copy, 'backends/native/build');
const savedBuild = join(work, 'build.unmutated');
sh('cp', ['-a', buildDir, savedBuild]);
if (opts.baseline) {
  const r = await runTests(copy, work);
  console.log(`baseline: ${r.failed ? `FAILED (${r.first})` : 'all tests pass'} in ${r.seconds.toFixed(0)} s`);
  if (r.failed) {
    console.error(r.log.split('\n').slice(-40).join('\n'));
    cleanup();
    fail('the unmutated copy fails a test: fix that first (or a failure would count as a kill)');
  }
}

const rows = [];
for (const m of chosen) {
  const path = join(copy, SRC, m.file);
  const original = readFileSync(path, 'utf8');
  const stat = statSync(path);
  writeFileSync(path, original.replace(m.find, () => m.replace));
  const row = { id: m.id, file: m.file, outcome: '', build: 0, test: 0, detail: '' };
  try {
    const b = build(copy, nodeGyp);
    row.build = b.seconds;
    const expected = objectsUsing(copy, m.file);
    if (!b.ok) {
      row.outcome = 'did not compile';
      row.detail = b.error;
    } else if (!b.compiled.some((o) => expected.includes(o))) {
      // the addon was not rebuilt from the mutated file: nothing was tested
      row.outcome = 'did not compile';
      row.detail = `the build compiled ${b.compiled.join(', ') || 'nothing'}, none of ${expected.join(', ')}`;
    } else {
      const t = await runTests(copy, work);
      row.test = t.seconds;
      row.outcome = t.failed ? 'killed' : 'SURVIVED';
      row.detail = t.failed ? t.first : m.models;
    }
  } finally {
    // the source as it was (contents and time), and the unmutated objects and addon
    writeFileSync(path, original);
    utimesSync(path, stat.atime, stat.mtime);
    rmSync(buildDir, { recursive: true, force: true });
    sh('cp', ['-a', savedBuild, buildDir]);
  }
  rows.push(row);
  console.log(`${m.id}: ${row.outcome} (build ${row.build.toFixed(0)} s, tests ${row.test.toFixed(0)} s) ${row.detail}`);
}
cleanup();

const killed = rows.filter((r) => r.outcome === 'killed').length;
const survived = rows.filter((r) => r.outcome === 'SURVIVED').length;
const broken = rows.filter((r) => r.outcome === 'did not compile').length;
console.log(`\n${table(rows)}\n`);
console.log(`score: ${killed}/${killed + survived} killed (${killed + survived ? ((100 * killed) / (killed + survived)).toFixed(0) : 100} %)` +
  `${broken ? `, ${broken} did not compile` : ''}; ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
process.exit(survived || broken ? 1 : 0);
