/**
 * Where the WebGPU backend is required (CI sets KILN_REQUIRE_WEBGPU=1 with SwiftShader's ICD),
 * an adapter that does not answer fails the run instead of quietly skipping the webgpu half of
 * the conformance suite. Elsewhere the webgpu tests skip and print why.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { UNAVAILABLE } from './setup.js';

const required = process.env.KILN_REQUIRE_WEBGPU === '1';
if (!required) console.log('test/webgpu/required: skipped, KILN_REQUIRE_WEBGPU is not 1 (CI sets it)');

describe.runIf(required)('the webgpu backend, where required', () => {
  it('is offered and an adapter answers; it is never the default', () => {
    expect(UNAVAILABLE, `the webgpu backend is unavailable: ${UNAVAILABLE}`).toBeNull();
    expect(kiln.listBackends().find((b) => b.name === 'webgpu')?.available).toBe(true);
    expect(kiln.getBackend()).not.toBe('webgpu');
  });
});
