#!/usr/bin/env node
/**
 * `npm run mutate [folder ...]`: StrykerJS over the folders stryker.config.mjs names (or those
 * given), then the mutation score per folder from its JSON report. Not part of `npm test`: a full
 * run takes long (each mutant reruns the tests that cover it). docs/testing.md lists the survivors
 * and why each is equivalent.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const folders = process.argv.slice(2);
const args = ['stryker', 'run'];
if (folders.length > 0) args.push('--mutate', folders.map((f) => `${f.replace(/\/$/, '')}/**/*.ts`).join(','));
const run = spawnSync('npx', args, { cwd: root, stdio: 'inherit' });
if (run.status !== 0) process.exit(run.status ?? 1);

const report = JSON.parse(readFileSync(join(root, 'reports', 'mutation', 'mutation.json'), 'utf8'));
const byFolder = new Map();
for (const [file, { mutants }] of Object.entries(report.files)) {
  // src/ops/binary.ts → src/ops; losses/loss.ts → losses; onnx/layers/core.ts → onnx/layers
  const folder = dirname(file);
  const tally = byFolder.get(folder) ?? { killed: 0, survived: 0, noCoverage: 0, timeout: 0, ignored: 0 };
  for (const m of mutants) {
    if (m.status === 'Killed') tally.killed++;
    else if (m.status === 'Timeout') tally.timeout++;
    else if (m.status === 'Survived') tally.survived++;
    else if (m.status === 'NoCoverage') tally.noCoverage++;
    else tally.ignored++;
  }
  byFolder.set(folder, tally);
}
console.log('\nmutation score per folder (killed + timeout) / (killed + timeout + survived + no coverage):');
for (const [folder, t] of [...byFolder].sort()) {
  const detected = t.killed + t.timeout;
  const valid = detected + t.survived + t.noCoverage;
  const score = valid ? (100 * detected) / valid : 100;
  console.log(`  ${folder.padEnd(16)} ${score.toFixed(1).padStart(5)} %  killed ${t.killed}, timeout ${t.timeout}, survived ${t.survived}, no coverage ${t.noCoverage}, ignored ${t.ignored}`);
}
