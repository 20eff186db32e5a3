/** A short seeded round of `npm run fuzz` (scripts/fuzz.mjs): the full run is in docs/reliability.md. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'kiln-reliability-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('30 cases per target: no crash, no hang, nothing silently different', () => {
  const summary = join(dir, 'fuzz.json');
  const run = spawnSync(process.execPath, [join(root, 'scripts/fuzz.mjs'), '--seed', '12', '--cases', '30', '--batch', '30', '--json', summary], { cwd: root, encoding: 'utf8', timeout: 110_000 });
  expect(run.stderr).toBe('');
  const report = JSON.parse(readFileSync(summary, 'utf8'));
  expect(report.findings).toEqual([]);
  for (const [target, t] of Object.entries<Record<string, number>>(report.targets)) {
    expect({ target, cases: t.cases, crash: t.crash, hang: t.hang, silent: t.silent }).toEqual({ target, cases: 30, crash: 0, hang: 0, silent: 0 });
  }
  expect(run.status).toBe(0);
}, 120_000);
