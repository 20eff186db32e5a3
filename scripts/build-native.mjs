#!/usr/bin/env node
/**
 * Builds the native backend's addon (backends/native) with node-gyp. It is the package's
 * `install` script, and it never fails the install: without a compiler (or with CXX=false, or on
 * a compile error) it writes the reason to backends/native/build/BUILD_ERROR.txt, where the
 * native backend's probe() reads it, exits 0, and kiln runs on the reference backend.
 *
 *   node scripts/build-native.mjs          build the addon (nothing to do when it is up to date)
 *   node scripts/build-native.mjs --force  rebuild it anyway
 *   KILN_SKIP_NATIVE_BUILD=1 npm install   skip it
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeGyp } from './node-gyp.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'backends', 'native');
const buildDir = join(dir, 'build');
const errorFile = join(buildDir, 'BUILD_ERROR.txt');
const stampFile = join(buildDir, 'SOURCE_STAMP.txt');
const addon = join(buildDir, 'Release', 'kiln_native.node');

/** Records why there is no addon and exits 0: the install goes on without it. */
function giveUp(reason, log = '') {
  mkdirSync(buildDir, { recursive: true });
  // No stale addon may outlive a failed build: probe() must report this failure.
  rmSync(addon, { force: true });
  rmSync(stampFile, { force: true });
  writeFileSync(errorFile, `${reason}\n${log ? `\n${log}` : ''}`);
  console.warn(`kiln: native backend not built: ${reason}`);
  console.warn('kiln: the reference backend will be used; details in backends/native/build/BUILD_ERROR.txt');
  process.exit(0);
}

/** The first line that says what went wrong: the compiler's error, else make's, else node-gyp's. */
function firstError(output) {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const compiler = lines.find((l) => /(^|\s)(fatal )?error:/i.test(l) && !l.startsWith('gyp'));
  const make = lines.find((l) => /^make(\[\d+\])?: \*\*\*/.test(l));
  const gyp = lines.find((l) => l.startsWith('gyp ERR!') && !/gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(l));
  if (compiler) return compiler;
  if (make) return process.env.CXX ? `the C++ compiler (CXX=${process.env.CXX}) failed: ${make}` : make;
  return gyp ?? lines.at(-1) ?? 'unknown error';
}

/** What the build depends on: the sources, this node, and the compiler settings. */
function sourceStamp() {
  const hash = createHash('sha256');
  const files = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
  for (const f of [join(dir, 'binding.gyp'), ...files(join(dir, 'src')).sort()]) hash.update(f.slice(dir.length)).update(readFileSync(f));
  hash.update([process.version, process.arch, process.env.CXX ?? '', process.env.CXXFLAGS ?? ''].join('\n'));
  return hash.digest('hex');
}

/** Whether the addon loads in a fresh process; the first error line when it does not. */
function loads() {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], { encoding: 'utf8' });
  return r.status === 0 ? null : firstError(r.stderr ?? '') || `exit ${r.status}`;
}

if (!existsSync(join(dir, 'binding.gyp'))) process.exit(0); // an install without the addon's sources
const stamp = sourceStamp();
// An up-to-date addon is kept: npm install runs this every time, and a rebuild takes minutes.
if (!process.argv.includes('--force') && existsSync(addon) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && loads() === null) {
  console.log('kiln: native backend up to date');
  process.exit(0);
}
if (process.env.KILN_SKIP_NATIVE_BUILD) giveUp('skipped: KILN_SKIP_NATIVE_BUILD is set');

try {
  createRequire(join(dir, 'binding.gyp')).resolve('node-addon-api');
} catch {
  giveUp('node-addon-api is not installed (it is a dependency: run npm install)');
}

const nodeGyp = findNodeGyp(root);
if (!nodeGyp) giveUp('node-gyp not found (it ships with npm)');

// Use the headers installed with this node when there are any: node-gyp would otherwise
// download them, which fails offline.
const prefix = resolve(dirname(process.execPath), '..');
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];

console.log('kiln: building the native backend (backends/native) ...');
const started = Date.now();
// configure + build rather than rebuild: unchanged objects are kept, and the finished addon
// replaces the old one in one step, so a process using it meanwhile is not left without one.
let log = '';
for (const step of [['configure', ...nodedir], ['build', '--jobs=max']]) {
  const r = spawnSync(process.execPath, [nodeGyp, ...step], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 20 * 60_000 });
  log += `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) giveUp(`node-gyp could not run: ${r.error.message}`, log);
  if (r.status !== 0) giveUp(firstError(log), log);
}

// A library that builds but cannot load (a missing symbol, a libstdc++ mismatch) counts as a failure too.
const loadError = loads();
if (loadError !== null) {
  rmSync(addon, { force: true });
  giveUp(`the addon built but does not load: ${loadError}`);
}
rmSync(errorFile, { force: true });
writeFileSync(stampFile, stamp);
console.log(`kiln: native backend built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
