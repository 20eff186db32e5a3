import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Tests of what has a fused kernel (layers, losses, optimizers, activations): run a second time
 * with fused kernels off, so the composed path is held to the same independent oracles. The
 * async-only backend's test too: a backend without fused kernels must not upload per step either.
 */
const BOTH_PATHS = ['test/layers/**/*.test.ts', 'test/losses.test.ts', 'test/optimizers.test.ts', 'test/activations.test.ts', 'test/async-backend.test.ts'];

export default defineConfig({
  resolve: {
    // examples import 'kiln' as users do; in tests that is the source, one module instance with the tests'
    alias: { kiln: fileURLToPath(new URL('./index.ts', import.meta.url)) },
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'kiln', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'composed', include: BOTH_PATHS, env: { KILN_FUSED: '0' } } },
    ],
  },
});
