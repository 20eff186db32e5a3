/**
 * Where the native backend is required (CI sets KILN_REQUIRE_NATIVE=1), a failed build fails the
 * run instead of quietly dropping the native half of the suite. A user's `npm test` without a
 * compiler still falls back to reference and says why (test/native/build.test.ts).
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const required = process.env.KILN_REQUIRE_NATIVE === '1';
if (!required) console.log('test/native/required: skipped, KILN_REQUIRE_NATIVE is not 1 (CI sets it; a local run may lack a compiler)');

describe.runIf(required)('the native backend, where required', () => {
  it('built, loaded and is the default backend', () => {
    const native = kiln.listBackends().find((b) => b.name === 'native');
    expect(native?.available, `the native backend is unavailable: ${native?.reason}`).toBe(true);
    expect(kiln.getBackend()).toBe('native');
  });
});
