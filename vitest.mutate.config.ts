import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The suite StrykerJS runs against each mutant (`npm run mutate`): one project, without the tests
 * that only spawn processes, build the package or train MNIST. Those check the install, the CLI
 * and the examples, not the mutated folders, and would make each mutant's run minutes long.
 */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/package/**', 'test/native/build.test.ts', 'test/native/required.test.ts', 'test/cli.test.ts',
      'test/onnx/cli.test.ts', 'test/structure.test.ts', 'test/examples/**', 'test/datasets.test.ts', 'test/data/mnist-pipeline.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
