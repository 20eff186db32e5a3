import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'kiln-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the package', () => {
  it('installs into another folder and imports as `kiln`', async () => {
    if (!existsSync(join(root, 'dist/index.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe' });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'kiln-user', version: '1.0.0', type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', root], { cwd: dir, stdio: 'pipe' });
    const script = [
      "import * as kiln from 'kiln';",
      'const t = kiln.ops.matmul(kiln.tensor([[1, 2], [3, 4]]), kiln.eye(2));',
      'console.log(JSON.stringify({ backend: kiln.getBackend(), value: await t.array() }));',
    ].join('\n');
    writeFileSync(join(dir, 'use.mjs'), script);
    const out = execFileSync('node', ['use.mjs'], { cwd: dir, encoding: 'utf8' });
    // the default is the fastest available backend: native where its addon built, else reference
    const available = (await import('../../index.js')).listBackends().filter((b) => b.available).map((b) => b.name);
    const result = JSON.parse(out.trim());
    expect(result.value).toEqual([[1, 2], [3, 4]]);
    expect(result.backend).toBe(available.includes('native') ? 'native' : 'reference');
  }, 120_000);
});
