/**
 * The backend contract and the conformance harness agree: 45 kernel rows, each exercised by one
 * conformance family, every fused kernel defined by exactly one fused op, every backend folder
 * registered, and known failures well formed (and none for reference, the oracle).
 */
import { describe, expect, it, vi } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../index.js';
import { FUSED_KERNELS, FUSED_ROWS, KERNEL_COUNT, KERNEL_FAMILIES, KERNEL_ROWS, POOL_OPS, UPDATE_RULES } from '../backends/contract.js';
import { ReferenceBackend } from '../backends/reference/backend.js';
import { FUSED_OPS, defineFused } from '../src/fused/define.js';
import { FAMILY_ROWS, backendsUnderTest, knownFailures } from './conformance/harness.js';

const BACKENDS = join(dirname(fileURLToPath(import.meta.url)), '..', 'backends');
const folders = readdirSync(BACKENDS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

describe('the kernel contract', () => {
  it('has 45 rows', () => {
    expect(KERNEL_COUNT).toBe(45);
    expect(new Set(KERNEL_ROWS).size).toBe(KERNEL_COUNT);
  });

  it('each row belongs to exactly one conformance family', () => {
    const all = Object.values(KERNEL_FAMILIES).flat();
    expect(all.length).toBe(new Set(all).size);
    expect([...all].sort()).toEqual([...KERNEL_ROWS].sort());
    expect(FAMILY_ROWS).toBe(KERNEL_FAMILIES);
    const files = readdirSync(join(dirname(fileURLToPath(import.meta.url)), 'conformance'));
    for (const family of Object.keys(KERNEL_FAMILIES)) expect(files).toContain(`${family}.test.ts`);
  });

  it('has a row per fused kernel, and one per update rule for applyUpdate', () => {
    expect(new Set(FUSED_ROWS).size).toBe(FUSED_ROWS.length);
    // applyUpdate has a row per update rule, pool and poolGrad one per pooling op
    expect(FUSED_ROWS.length).toBe(FUSED_KERNELS.length - 3 + UPDATE_RULES.length + 2 * POOL_OPS.length);
    for (const k of FUSED_KERNELS) expect(FUSED_ROWS.some((r) => r === `fused:${k}` || r.startsWith(`fused:${k}:`)), k).toBe(true);
  });

  it('every fused kernel has exactly one defineFused definition', () => {
    // defineFused refuses a second definition of a kernel, so each one here has exactly one
    expect([...FUSED_OPS.keys()].sort()).toEqual([...FUSED_KERNELS].sort());
  });

  it('refuses a second definition of a fused kernel', () => {
    const again = { kernel: 'softmax', outputs: 'many', infer: () => [], compose: () => [], applies: () => false, run: () => {} } as const;
    expect(() => defineFused(again)).toThrow("defineFused: fused kernel 'softmax' already has a definition; each kernel has exactly one");
  });

  it('reference implements every kernel method', () => {
    const methods = new Set(KERNEL_ROWS.map((r) => r.split(':')[0]));
    const backend = new ReferenceBackend();
    for (const m of methods) expect(typeof (backend as unknown as Record<string, unknown>)[m], m).toBe('function');
  });
});

describe('backends', () => {
  it('every backend folder is registered', () => {
    const registered = kiln.listBackends().map((b) => b.name);
    for (const name of folders.filter((f) => existsSync(join(BACKENDS, f, 'index.ts')))) expect(registered).toContain(name);
  });

  it('known-failures.json files map test ids to reasons', () => {
    for (const name of folders) {
      const file = join(BACKENDS, name, 'known-failures.json');
      if (!existsSync(file)) continue;
      const parsed = JSON.parse(readFileSync(file, 'utf8'));
      expect(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed), file).toBe(true);
      for (const [id, reason] of Object.entries(parsed)) {
        expect(id.split(' > ').length, `${file}: '${id}' is not a full test id`).toBeGreaterThanOrEqual(3);
        expect(id.split(' > ')[1], `${file}: '${id}' names another backend`).toBe(name);
        expect(typeof reason === 'string' && reason.length > 0, `${file}: '${id}' needs a reason`).toBe(true);
      }
    }
  });

  it('the conformance harness skips an unavailable backend and says why', () => {
    kiln.registerBackend({ name: 'unplugged', priority: -1, probe: () => ({ available: false, reason: 'no device here' }), create: () => new ReferenceBackend() });
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const tested = backendsUnderTest();
      expect(tested).toContain('reference');
      expect(tested).not.toContain('unplugged');
      expect(log).toHaveBeenCalledWith("conformance: backend 'unplugged' skipped: no device here");
    } finally {
      log.mockRestore();
    }
  });

  it('reference, the oracle, has no known failures', () => {
    expect(knownFailures('reference')).toEqual({});
  });
});
