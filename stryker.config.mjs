// StrykerJS for `npm run mutate`: mutants in the core's ops and autodiff, the losses, the
// optimizers and the ONNX export tables, each run against the suite in vitest.mutate.config.ts.
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutate.config.ts' },
  mutate: [
    'src/ops/**/*.ts',
    'src/autodiff/**/*.ts',
    'losses/**/*.ts',
    'optimizers/**/*.ts',
    'onnx/layers/**/*.ts',
    'onnx/activations.ts',
    'onnx/primitives.ts',
  ],
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level constant) reruns the whole suite: ~89 % of the time for ~8 %
  // of the mutants. They are left out of the score, and the report counts them as ignored.
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 20000,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  clearTextReporter: { allowColor: false, reportMutants: false, reportTests: false, skipFull: false },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  ignorePatterns: ['dist', 'reports', 'bench/history', '.stryker-tmp'],
  tempDirName: '.stryker-tmp',
};
