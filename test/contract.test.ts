/**
 * The backend contract and the conformance harness agree: 42 kernel rows, each exercised by one
 * conformance family, every backend folder registered, and known failures well formed (and none
 * for reference, the oracle).
 */
import { describe, expect, it, vi } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../index.js';
import { KERNEL_COUNT } from '../backends/contract.js';
import { ReferenceBackend } from '../backends/reference/backend.js';
import { FAMILY_ROWS, KERNEL_ROWS, backendsUnderTest, knownFailures } from './conformance/harness.js';

const BACKENDS = join(dirname(fileURLToPath(import.meta.url)), '..', 'backends');
const folders = readdirSync(BACKENDS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

describe('the kernel contract', () => {
  it('has 42 rows', () => {
    expect(KERNEL_COUNT).toBe(42);
    expect(new Set(KERNEL_ROWS).size).toBe(KERNEL_COUNT);
  });

  it('each row belongs to exactly one conformance family', () => {
    const all = Object.values(FAMILY_ROWS).flat();
    expect(all.length).toBe(new Set(all).size);
    expect([...all].sort()).toEqual([...KERNEL_ROWS].sort());
    const files = readdirSync(join(dirname(fileURLToPath(import.meta.url)), 'conformance'));
    for (const family of Object.keys(FAMILY_ROWS)) expect(files).toContain(`${family}.test.ts`);
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
