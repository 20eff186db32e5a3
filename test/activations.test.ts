import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import { getActivation, linear, serializeActivation } from '../src/activations.js';

const xs = [-4, -2, -0.5, 0, 1, 3, 7];

/** Expected values at xs, computed in float64 from Keras's definitions (Python's math module). */
const EXPECTED: Record<string, number[]> = {
  linear: xs,
  relu: [0, 0, 0, 0, 1, 3, 7],
  relu6: [0, 0, 0, 0, 1, 3, 6],
  leaky_relu: [-0.8, -0.4, -0.1, 0, 1, 3, 7], // Keras 3's slope 0.2
  elu: [-0.9816844, -0.8646647, -0.3934693, 0, 1, 3, 7],
  selu: [-1.7258986, -1.5201665, -0.6917582, 0, 1.050701, 3.152103, 7.3549069],
  gelu: [-0.0001267, -0.0455003, -0.1542688, 0, 0.8413447, 2.9959503, 7], // exact (erf) form
  silu: [-0.0719448, -0.2384058, -0.1887703, 0, 0.7310586, 2.8577224, 6.9936226],
  sigmoid: [0.0179862, 0.1192029, 0.3775407, 0.5, 0.7310586, 0.9525741, 0.9990889],
  hard_sigmoid: [0, 1 / 6, 5 / 12, 0.5, 2 / 3, 1, 1], // clip(x/6 + 1/2, 0, 1)
  hard_silu: [0, -1 / 3, -5 / 24, 0, 2 / 3, 3, 7],
  softplus: [0.0181499, 0.126928, 0.474077, 0.6931472, 1.3132617, 3.0485874, 7.0009115],
  softsign: [-0.8, -2 / 3, -1 / 3, 0, 0.5, 0.75, 0.875],
  tanh: xs.map(Math.tanh),
  exponential: xs.map(Math.exp),
  mish: [-0.0725917, -0.2525015, -0.2207438, 0, 0.8650984, 2.986535, 6.9999884],
};

function expectValues(t: kiln.Tensor, expected: number[]): void {
  const got = Array.from(t.dataSync());
  expect(got.length).toBe(expected.length);
  // float32 results: relative 1e-6 plus an absolute floor
  got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(expected[i])) + 2e-7));
}

describe('getActivation: each Keras id computes its function', () => {
  for (const [id, expected] of Object.entries(EXPECTED)) {
    it(id, () => expectValues(getActivation(id)(kiln.tensor(xs)), expected));
  }

  it('aliases: swish is silu, hard_swish is hard_silu', () => {
    expect(getActivation('swish')).toBe(getActivation('silu'));
    expect(getActivation('hard_swish')).toBe(getActivation('hard_silu'));
  });

  it('softmax and log_softmax over the last axis', () => {
    const x = kiln.tensor([[1, 2, 3], [0, 0, 0]]);
    expectValues(getActivation('softmax')(x), [0.09003057, 0.24472847, 0.66524096, 1 / 3, 1 / 3, 1 / 3]);
    expectValues(getActivation('log_softmax')(x), [-2.40760596, -1.40760596, -0.40760596, ...Array(3).fill(-Math.log(3))]);
  });

  it('null and undefined mean linear; camelCase and class-style names work', () => {
    expect(getActivation(null)).toBe(linear);
    expect(getActivation(undefined)).toBe(linear);
    expect(getActivation('logSoftmax')).toBe(getActivation('log_softmax'));
    expect(getActivation('LeakyReLU')).toBe(getActivation('leaky_relu'));
    expect(getActivation('hardSigmoid')).toBe(getActivation('hard_sigmoid'));
  });

  it('passes functions through', () => {
    const fn = (x: kiln.Tensor) => kiln.ops.multiply(x, 2);
    expect(getActivation(fn)).toBe(fn);
  });

  it('unknown ids name themselves and list the known ones', () => {
    expect(() => getActivation('rectifier')).toThrow(
      /getActivation: unknown activation 'rectifier'; known ids: linear, relu, relu6, leaky_relu, elu, selu, gelu, silu, swish, sigmoid, hard_sigmoid, hard_silu, hard_swish, softplus, softsign, softmax, log_softmax, tanh, exponential, mish/,
    );
    expect(() => getActivation(5 as unknown as string)).toThrow(/getActivation: expected a string id, a function or null, got number/);
  });
});

describe('serializeActivation', () => {
  it('gives back the id of every known function, aliases as their Keras name', () => {
    for (const id of Object.keys(EXPECTED)) expect(serializeActivation(getActivation(id))).toBe(id);
    expect(serializeActivation(getActivation('swish'))).toBe('silu');
    expect(serializeActivation('hard_swish')).toBe('hard_silu');
    expect(serializeActivation('logSoftmax')).toBe('log_softmax');
    expect(serializeActivation(null)).toBe('linear');
    expect(serializeActivation(kiln.ops.relu)).toBe('relu');
  });

  it('refuses functions without an id, with a clear error', () => {
    expect(() => serializeActivation((x) => x)).toThrow(/serializeActivation: cannot save the activation function \(anonymous\): it is not one of the known ids \(linear, relu/);
    function myAct(x: kiln.Tensor) { return x; }
    expect(() => serializeActivation(myAct)).toThrow(/cannot save the activation function 'myAct'.*pass a string id/);
    expect(() => serializeActivation('nope')).toThrow(/unknown activation 'nope'/);
  });
});
