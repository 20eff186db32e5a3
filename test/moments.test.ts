/**
 * kiln.ops.var (keras.ops.var, the same function as variance) and kiln.ops.moments
 * (keras.ops.moments): the mean and population variance over axes, checked against values worked
 * out by hand. Their gradients are checked by finite differences in test/gradients.test.ts.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';

const { ops } = kiln;

// [[1, 2], [3, 6]]: columns {1, 3} and {2, 6}, rows {1, 2} and {3, 6}
const x = () => kiln.tensor([[1, 2], [3, 6]]);

function expectTensor(t: kiln.Tensor, shape: number[], values: number[], dtype = 'float32'): void {
  expect([...t.shape]).toEqual(shape);
  expect(t.dtype).toBe(dtype);
  expect(Array.from(t.dataSync())).toEqual(values);
}

describe('ops.var', () => {
  it('is variance under Keras\'s name', () => {
    expect(ops.var).toBe(ops.variance);
  });

  it('divides by n: [1, 2, 3, 4] has mean 2.5 and squared deviations 2.25, 0.25, 0.25, 2.25', () => {
    expectTensor(ops.var([1, 2, 3, 4]), [], [1.25]);
  });

  it('over one axis, with keepdims', () => {
    expectTensor(ops.var(x(), 0), [2], [1, 4]);
    expectTensor(ops.var(x(), -1, true), [2, 1], [0.25, 2.25]);
  });
});

describe('ops.moments', () => {
  it('axes as a number: column means 2 and 4, variances 1 and 4', () => {
    const [m, v] = ops.moments(x(), 0);
    expectTensor(m, [2], [2, 4]);
    expectTensor(v, [2], [1, 4]);
  });

  it('axes as a list: all of [[1, 2], [3, 6]] has mean 3, deviations -2, -1, 0, 3, variance 14 / 4', () => {
    const [m, v] = ops.moments(x(), [0, 1]);
    expectTensor(m, [], [3]);
    expectTensor(v, [], [3.5]);
  });

  it('negative axes count from the end: -1 is the rows', () => {
    const [m, v] = ops.moments(x(), [-1]);
    expectTensor(m, [2], [1.5, 4.5]);
    expectTensor(v, [2], [0.25, 2.25]);
  });

  it('keepdims keeps the reduced axes as size 1', () => {
    const [m, v] = ops.moments(x(), 1, { keepdims: true });
    expectTensor(m, [2, 1], [1.5, 4.5]);
    expectTensor(v, [2, 1], [0.25, 2.25]);
    const [m0, v0] = ops.moments(x(), [0, 1], { keepdims: true });
    expectTensor(m0, [1, 1], [3]);
    expectTensor(v0, [1, 1], [3.5]);
  });

  it('two axes of three: x[i, j, k] = 6i + 2j + k over i and k is {2j, 2j+1, 2j+6, 2j+7}', () => {
    // mean 2j + 3.5; deviations ±2.5 and ±3.5, so the variance is (2 · 6.25 + 2 · 12.25) / 4 = 9.25
    const t = ops.reshape(kiln.range(12), [2, 3, 2]);
    const [m, v] = ops.moments(t, [0, 2]);
    expectTensor(m, [3], [3.5, 5.5, 7.5]);
    expectTensor(v, [3], [9.25, 9.25, 9.25]);
    const [mk, vk] = ops.moments(t, [2, 0], { keepdims: true });
    expectTensor(mk, [1, 3, 1], [3.5, 5.5, 7.5]);
    expectTensor(vk, [1, 3, 1], [9.25, 9.25, 9.25]);
  });

  it('a constant input has variance exactly 0', () => {
    const [m, v] = ops.moments(kiln.fill([3, 4], 7), [0, 1]);
    expectTensor(m, [], [7]);
    expectTensor(v, [], [0]);
    const [, rows] = ops.moments(kiln.fill([3, 4], -0.375), 1);
    expectTensor(rows, [3], [0, 0, 0]);
  });

  it('null reduces every axis, as the other reductions do', () => {
    const [m, v] = ops.moments(x(), null);
    expectTensor(m, [], [3]);
    expectTensor(v, [], [3.5]);
  });

  it('keeps float64, and averages integers in float32', () => {
    const [m, v] = ops.moments(kiln.tensor([1, 2, 4, 5], [4], 'float64'), 0);
    expectTensor(m, [], [3], 'float64');
    expectTensor(v, [], [2.5], 'float64');
    const [mi, vi] = ops.moments(kiln.tensor([1, 2], [2], 'int32'), 0);
    expectTensor(mi, [], [1.5]);
    expectTensor(vi, [], [0.25]);
  });

  it('synchronized changes nothing on one device', () => {
    const [m, v] = ops.moments(x(), 0, { synchronized: true });
    expectTensor(m, [2], [2, 4]);
    expectTensor(v, [2], [1, 4]);
  });

  it('infers shapes symbolically, batch size unknown', () => {
    const input = kiln.Input({ shape: [3, 4] });
    const [m, v] = ops.moments(input as unknown as kiln.Tensor, [-1], { keepdims: false });
    expect([...m.shape]).toEqual([null, 3]);
    expect([...v.shape]).toEqual([null, 3]);
  });

  it('bad axes and options fail, naming what was expected and what was given', () => {
    expect(() => ops.moments(x(), 2)).toThrow('moments: axis 2 is out of range for a tensor of rank 2 (expected an integer in [-2, 1])');
    expect(() => ops.moments(x(), [-3])).toThrow(/moments: axis -3 is out of range/);
    expect(() => ops.moments(x(), [0, -2])).toThrow('moments: repeated axis in [0,-2]');
    expect(() => ops.moments(x(), 0.5)).toThrow(/moments: axis 0.5 is out of range/);
    expect(() => ops.moments(x(), '0' as never)).toThrow('moments: axes must be an integer, a list of integers, or null for all axes, got "0"');
    expect(() => ops.moments(x(), 0, { keepdims: 1 as never })).toThrow('moments: keepdims must be a boolean, got 1');
    expect(() => ops.moments(x(), 0, { synchronized: 'yes' as never })).toThrow('moments: synchronized must be a boolean, got "yes"');
  });
});
