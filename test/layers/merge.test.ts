import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Add, Average, Concatenate, Dot, Input, Maximum, Minimum, Multiply, Subtract } from '../../layers/index.js';
import { runLayerTest } from './harness.js';

const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());
const a = kiln.tensor([[1, -2], [3, 4]]);
const b = kiln.tensor([[2, 5], [-1, 0.5]]);
const c = kiln.tensor([[0, 1], [1, 8]]);

describe('elementwise merges', () => {
  it.each([Add, Subtract, Multiply, Average, Maximum, Minimum])('%o passes the layer harness', (cls) => {
    runLayerTest(cls, { inputShape: [[2, 3], [2, 3]], expectedOutputShape: [2, 3] });
  });

  it('broadcast across ranks as Keras: [batch, 3] with [batch, 4, 3]', () => {
    runLayerTest(Add, { inputShape: [[2, 3], [2, 4, 3], [2, 1, 3]], expectedOutputShape: [2, 4, 3] });
  });

  it('compute their function', () => {
    expect(values(new Add().apply([a, b, c]))).toEqual([3, 4, 3, 12.5]);
    expect(values(new Subtract().apply([a, b]))).toEqual([-1, -7, 4, 3.5]);
    expect(values(new Multiply().apply([a, b, c]))).toEqual([0, -10, -3, 16]);
    expect(values(new Average().apply([a, b]))).toEqual([1.5, 1.5, 1, 2.25]);
    expect(values(new Maximum().apply([a, b, c]))).toEqual([2, 5, 3, 8]);
    expect(values(new Minimum().apply([a, b, c]))).toEqual([0, -2, -1, 0.5]);
  });

  it('name the layer in shape and arity errors', () => {
    expect(() => new Add({ name: 'sum' }).apply([kiln.zeros([2, 3]), kiln.zeros([2, 4])])).toThrow("Add 'sum': inputs have incompatible shapes: [2,3], [2,4]");
    expect(() => new Add({ name: 'sum2' }).apply([kiln.zeros([2, 3]), kiln.zeros([3, 3])])).toThrow("Add 'sum2': inputs have different batch sizes: [2,3], [3,3]");
    expect(() => new Subtract({ name: 'sub' }).apply([a, b, c])).toThrow("Subtract 'sub': expects exactly 2 inputs, got 3");
    expect(() => new Add({ name: 'one' }).apply(a)).toThrow("Add 'one': expects a list of inputs, got one tensor");
  });

  it('check symbolic inputs when a model is built', () => {
    const x = Input({ shape: [3] });
    const y = Input({ shape: [5] });
    expect(() => new Maximum({ name: 'mx' }).apply([x, y] as never)).toThrow("Maximum 'mx': inputs have incompatible shapes: [null,3], [null,5]");
  });
});

describe('Concatenate', () => {
  it('passes the layer harness', () => {
    runLayerTest(Concatenate, { inputShape: [[2, 3], [2, 5]], expectedOutputShape: [2, 8] });
    runLayerTest(Concatenate, { args: [{ axis: 1 }], inputShape: [[2, 1, 4], [2, 2, 4], [2, 3, 4]], expectedOutputShape: [2, 6, 4] });
  });

  it('joins along the axis and names the layer when shapes differ elsewhere', () => {
    expect(values(new Concatenate().apply([a, c]))).toEqual([1, -2, 0, 1, 3, 4, 1, 8]);
    expect(values(new Concatenate({ axis: 0 }).apply([a, c]))).toEqual([1, -2, 3, 4, 0, 1, 1, 8]);
    expect(() => new Concatenate({ name: 'cat' }).apply([kiln.zeros([2, 3]), kiln.zeros([2, 3, 1])]))
      .toThrow("Concatenate 'cat': expects inputs of one rank whose dimensions match except on axis -1, got shapes [2,3], [2,3,1]");
    expect(() => new Concatenate({ axis: 1, name: 'cat2' }).apply([kiln.zeros([2, 3]), kiln.zeros([4, 3])])).toThrow(/Concatenate 'cat2': .*got shapes \[2,3\], \[4,3\]/);
  });
});

describe('Dot', () => {
  it('passes the layer harness', () => {
    runLayerTest(Dot, { args: [1], inputShape: [[2, 4], [2, 4]], expectedOutputShape: [2, 1] });
    runLayerTest(Dot, { args: [[1, 2]], inputShape: [[2, 3, 5], [2, 10, 3]], expectedOutputShape: [2, 5, 10] });
    runLayerTest(Dot, { args: [-1, { normalize: true }], inputShape: [[2, 3, 4], [2, 4]], expectedOutputShape: [2, 3] });
  });

  it('computes per-sample dot products, and cosine similarity when normalizing', () => {
    expect(values(new Dot(1).apply([a, b]))).toEqual([-8, -1]);
    const cos = values(new Dot(1, { normalize: true }).apply([kiln.tensor([[3, 4]]), kiln.tensor([[4, 3]])]));
    expect(cos[0]).toBeCloseTo(24 / 25, 6);
    // keras's batch_dot example: [1, 5, 2] · [1, 2, 5] over axes (1, 2) → x[b,i,j] summed with y[b,k,i]
    const x = kiln.ops.reshape(kiln.range(10), [1, 5, 2]);
    const y = kiln.ops.reshape(kiln.range(10, 20), [1, 2, 5]);
    expect(values(new Dot([1, 2]).apply([x, y]))).toEqual([260, 360, 320, 445]);
  });

  it('names the layer when the dot axes differ', () => {
    expect(() => new Dot(1, { name: 'dt' }).apply([kiln.zeros([2, 3]), kiln.zeros([2, 4])]))
      .toThrow("Dot 'dt': the dot axes differ in size: 3 (axis 1 of [2,3]) vs 4 (axis 1 of [2,4])");
    expect(() => new Dot(0, { name: 'dt0' }).apply([kiln.zeros([2, 3]), kiln.zeros([2, 3])])).toThrow(/axes 0 must name non-batch axes/);
  });
});
