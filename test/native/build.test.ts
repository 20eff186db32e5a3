/**
 * The native backend's build: it reports whether it is available (and if not, exactly why), is
 * the default where it is, and a failed compile (CXX=false) still exits 0 with a reason that
 * probe() passes on.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { findBackend } from '../../src/backends.js';
import { NATIVE_ROWS, type NativeBackend } from '../../backends/native/backend.js';
import { KERNEL_ROWS } from '../conformance/harness.js';
import { FUSED_KERNELS } from '../../backends/contract.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const native = kiln.listBackends().find((b) => b.name === 'native');
const available = native?.available === true;
if (!available) console.log(`native backend unavailable here: ${native?.reason}`);

describe('the native backend build', () => {
  it('is registered and says whether it is available, or why not', () => {
    expect(native).toBeDefined();
    if (!available) expect(native?.reason).toMatch(/^addon (not built|failed to load|sources not found|is out of date)/);
  });

  it.runIf(available)('implements every kernel row of the contract, and every fused kernel', async () => {
    const b = (await findBackend('native')) as NativeBackend;
    expect(NATIVE_ROWS.filter((r) => !r.startsWith('fused:')).sort()).toEqual([...KERNEL_ROWS].sort());
    for (const k of FUSED_KERNELS) expect(NATIVE_ROWS.some((r) => r === `fused:${k}` || r.startsWith(`fused:${k}:`))).toBe(true);
    expect(Object.keys(b.fused).sort()).toEqual([...FUSED_KERNELS].sort());
    expect([...b.addon.kernels].sort()).toEqual([...NATIVE_ROWS].sort());
    expect(['avx512', 'avx2', 'portable']).toContain(b.addon.isa());
    expect(b.dtypes).toEqual(['float32', 'float64', 'int32', 'bool']);
  });

  it.runIf(available)('is the default backend where it is available', () => {
    const env = { ...process.env };
    delete env.KILN_BACKEND;
    const script = "import * as kiln from './index.ts'; console.log(kiln.getBackend());";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('native');
  });

  describe('a failed build', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-native-build-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('exits 0, records the reason, and probe() reports it', () => {
      // A copy of the addon's sources and loader, so the real build is left alone.
      for (const f of ['build-native.mjs', 'node-gyp.mjs']) cpSync(join(ROOT, 'scripts', f), join(dir, 'scripts', f));
      for (const f of ['contract.ts', 'tensor-info.ts', 'fused-contract.ts']) cpSync(join(ROOT, 'backends', f), join(dir, 'backends', f));
      for (const f of ['binding.gyp', 'src', 'addon.ts', 'backend.ts', 'index.ts']) {
        cpSync(join(ROOT, 'backends', 'native', f), join(dir, 'backends', 'native', f), { recursive: true });
      }
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));

      const build = spawnSync(process.execPath, [join(dir, 'scripts', 'build-native.mjs')], {
        cwd: dir, env: { ...process.env, CXX: 'false' }, encoding: 'utf8',
      });
      expect(build.status).toBe(0);
      const errorFile = join(dir, 'backends', 'native', 'build', 'BUILD_ERROR.txt');
      expect(existsSync(errorFile)).toBe(true);
      const reason = readFileSync(errorFile, 'utf8').split('\n')[0];
      expect(reason).toContain('CXX=false');
      expect(existsSync(join(dir, 'backends', 'native', 'build', 'Release', 'kiln_native.node'))).toBe(false);

      const script = "import d from './backends/native/index.ts'; console.log(JSON.stringify(d.probe()));";
      const probe = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
      expect(JSON.parse(probe.stdout.trim())).toEqual({ available: false, reason: `addon not built: ${reason}` });
    });
  });
});
