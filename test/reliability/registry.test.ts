/** Names read from configs are looked up among a registry's own entries, never Object.prototype's. */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const INHERITED = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];

const model = () => new kiln.Sequential([kiln.Input({ shape: [2] }), new kiln.layers.Dense(1)]);

const LOOKUPS: [string, (name: string) => unknown, RegExp][] = [
  ['loss', (n) => model().compile({ optimizer: 'sgd', loss: n }), /getLoss: unknown loss '.*'; known ids: mse/],
  ['optimizer', (n) => model().compile({ optimizer: n, loss: 'mse' }), /getOptimizer: unknown optimizer .*; known: sgd/],
  ['metric', (n) => model().compile({ optimizer: 'sgd', loss: 'mse', metrics: [n] }), /compile: unknown metric '.*'; known ids: accuracy/],
  ['activation', (n) => kiln.activations.getActivation(n), /getActivation: unknown activation '.*'; known ids: linear/],
  ['initializer', (n) => kiln.initializers.getInitializer(n), /getInitializer: unknown initializer '.*'; known ids: zeros/],
  ['regularizer', (n) => kiln.regularizers.getRegularizer(n), /unknown regularizer '.*'/],
  ['constraint', (n) => kiln.constraints.getConstraint(n), /unknown constraint '.*'/],
  ['layer', (n) => kiln.layers.layerFromConfig({ className: n, config: { name: 'x', trainable: true, dtype: 'float32' } }), /layerFromConfig: unknown layer class '.*'/],
  ['schedule', (n) => kiln.optimizers.getOptimizer({ className: 'SGD', config: { learningRate: { className: n, config: {} } } }), /unknown schedule '.*'|schedule/],
];

describe.each(LOOKUPS)('the %s registry', (_, lookup, message) => {
  it.each(INHERITED)("refuses '%s', listing the known names", (name) => {
    expect(() => lookup(name)).toThrow(message);
  });
});

describe('compile', () => {
  it('fails at compile, not at the first batch, for an unknown metric', () => {
    expect(() => model().compile({ optimizer: 'sgd', loss: 'mse', metrics: ['toString'] })).toThrow(/^compile: unknown metric 'toString'; known ids: accuracy, acc, /);
    expect(() => model().compile({ optimizer: 'sgd', loss: 'mse', weightedMetrics: ['constructor'] })).toThrow(/^compile: unknown metric 'constructor'/);
  });
});
