import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Activation, ELU, LeakyReLU, PReLU, ReLU, Softmax } from '../../layers/index.js';
import { runLayerTest } from './harness.js';

const xs = kiln.tensor([-3, -1, -0.5, 0.5, 2, 7]);
const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());

describe('Activation', () => {
  it('passes the layer harness', () => {
    runLayerTest(Activation, { args: ['gelu'], inputShape: [2, 3], expectedOutputShape: [2, 3] });
  });

  it('saves aliases as Keras ids and rejects unknown ones', () => {
    expect(new Activation('swish').getConfig().activation).toBe('silu');
    expect(() => new Activation('nope')).toThrow(/unknown activation 'nope'/);
  });
});

describe('ReLU', () => {
  it('passes the layer harness with every option', () => {
    runLayerTest(ReLU, { args: [{ maxValue: 1, negativeSlope: 0.1, threshold: 0.2 }], inputShape: [3, 4], expectedOutputShape: [3, 4] });
  });

  it('computes Keras formula: min(x, maxValue) above threshold, else negativeSlope · (x - threshold)', () => {
    expect(values(new ReLU().apply(xs))).toEqual([0, 0, 0, 0.5, 2, 7]);
    expect(values(new ReLU({ maxValue: 6 }).apply(xs))).toEqual([0, 0, 0, 0.5, 2, 6]);
    const leaky = values(new ReLU({ negativeSlope: 0.5, threshold: 1 }).apply(xs));
    [-2, -1, -0.75, -0.25, 2, 7].forEach((v, i) => expect(leaky[i]).toBeCloseTo(v, 6));
  });

  it('rejects negative options', () => {
    expect(() => new ReLU({ maxValue: -1, name: 'r' })).toThrow("ReLU 'r': maxValue must be a number >= 0, got -1");
    expect(() => new ReLU({ negativeSlope: -0.1 })).toThrow(/negativeSlope must be a number >= 0/);
  });
});

describe('LeakyReLU', () => {
  it('passes the layer harness', () => {
    runLayerTest(LeakyReLU, { args: [{ negativeSlope: 0.1 }], inputShape: [2, 5], expectedOutputShape: [2, 5] });
  });

  it('defaults to the Keras 3 layer slope 0.3', () => {
    const layer = new LeakyReLU();
    expect(layer.getConfig().negativeSlope).toBe(0.3);
    const y = values(layer.apply(xs));
    [-0.9, -0.3, -0.15, 0.5, 2, 7].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
  });
});

describe('PReLU', () => {
  it('passes the layer harness (alpha of the sample shape)', () => {
    runLayerTest(PReLU, {
      args: [{ alphaInitializer: { className: 'Constant', config: { value: 0.25 } } }],
      inputShape: [2, 3, 4],
      expectedOutputShape: [2, 3, 4],
      expectedWeights: [['alpha', [3, 4]]],
    });
  });

  it('shares alpha along sharedAxes', () => {
    runLayerTest(PReLU, { args: [{ sharedAxes: [1, 2] }], inputShape: [2, 3, 3, 2], expectedOutputShape: [2, 3, 3, 2], expectedWeights: [['alpha', [1, 1, 2]]] });
  });

  it('scales negatives by alpha', () => {
    const layer = new PReLU();
    layer.apply(kiln.zeros([1, 2]));
    layer.setWeights([kiln.tensor([0.5, 2])]);
    expect(values(layer.apply(kiln.tensor([[-2, -2], [3, 3]])))).toEqual([-1, -4, 3, 3]);
    expect(() => layer.apply(kiln.zeros([1, 3]))).toThrow(/PReLU 'p_re_lu(_\d+)?': expects inputs of shape \[batch,2\] \(1 = shared\), got shape \[1,3\]/);
  });
});

describe('ELU', () => {
  it('passes the layer harness', () => {
    runLayerTest(ELU, { args: [{ alpha: 0.5 }], inputShape: [4, 3], expectedOutputShape: [4, 3] });
  });

  it('is alpha · (exp(x) - 1) below 0', () => {
    const y = values(new ELU({ alpha: 2 }).apply(xs));
    expect(y[0]).toBeCloseTo(2 * Math.expm1(-3), 6);
    expect(y[5]).toBe(7);
  });
});

describe('Softmax', () => {
  it('passes the layer harness, over one axis and over several', () => {
    runLayerTest(Softmax, { inputShape: [2, 5], expectedOutputShape: [2, 5] });
    runLayerTest(Softmax, { args: [{ axis: [1, 2] }], inputShape: [2, 3, 2], expectedOutputShape: [2, 3, 2] });
  });

  it('gives masked positions probability 0', () => {
    const sm = new Softmax();
    const y = values(sm.apply(kiln.tensor([[1, 2, 1]]), { mask: kiln.tensor([[true, false, true]]) }));
    expect(y).toEqual([0.5, 0, 0.5]);
    const numeric = values(sm.apply(kiln.tensor([[1, 2, 1]]), { mask: kiln.tensor([[1, 0, 0]]) }));
    expect(numeric).toEqual([1, 0, 0]);
  });

  it('gives a wholly masked row zeros, not a uniform distribution (Keras 3)', () => {
    const y = new Softmax().apply(kiln.tensor([[1, 2, 1], [3, 0, -1]]), { mask: kiln.tensor([[false, false, false], [true, false, true]]) });
    const e = Math.exp(4);
    expect(values(y)[0]).toBe(0);
    expect(values(y).slice(0, 3)).toEqual([0, 0, 0]);
    expect(values(y)[3]).toBeCloseTo(e / (e + 1), 6);
    expect(values(y)[4]).toBe(0);
  });
});
