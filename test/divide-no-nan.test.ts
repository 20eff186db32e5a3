/**
 * kiln.ops.divideNoNan (keras.ops.divide_no_nan): x / y with 0 where y is 0, and a gradient that
 * is 0 at those positions, never NaN or infinite, even when x there is infinite or NaN. Values
 * and gradients worked out by hand; away from y = 0 the finite-difference check in
 * test/gradients.test.ts covers it too.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../index.js';

const { ops } = kiln;

beforeAll(async () => {
  await kiln.setBackend('reference');
});

const t64 = (values: number[]) => kiln.tensor(values, [values.length], 'float64');

describe('ops.divideNoNan', () => {
  it('divides, with 0 wherever the divisor is 0', () => {
    const q = ops.divideNoNan(kiln.tensor([1, 2, 3, 0]), kiln.tensor([2, 0, 4, 0]));
    expect(q.dtype).toBe('float32');
    expect(Array.from(q.dataSync())).toEqual([0.5, 0, 0.75, 0]);
  });

  it('gives 0 at a zero divisor whatever the dividend: infinite or NaN', () => {
    const q = ops.divideNoNan(t64([Infinity, NaN, -Infinity, 6]), t64([0, 0, 0, -3]));
    expect(Array.from(q.dataSync())).toEqual([0, 0, 0, -2]);
  });

  it('broadcasts, takes numbers, and divides integers in float32 as divide does', () => {
    const q = ops.divideNoNan(kiln.tensor([[2, 4], [6, 8]], [2, 2], 'int32'), kiln.tensor([0, 4], [2], 'int32'));
    expect(q.dtype).toBe('float32');
    expect([...q.shape]).toEqual([2, 2]);
    expect(Array.from(q.dataSync())).toEqual([0, 1, 0, 2]);
    expect(Array.from(ops.divideNoNan(3, kiln.tensor([0, 2])).dataSync())).toEqual([0, 1.5]);
  });

  it('sends no NaN back from a zero divisor: its gradients there are 0', () => {
    // d(x/y)/dx = 1/y and d(x/y)/dy = -x/y², where y is not 0; 0 where it is
    const x = t64([1, Infinity, 3, NaN]);
    const y = t64([2, 0, 4, 0]);
    const [dx, dy] = kiln.grad((a, b) => ops.sum(ops.divideNoNan(a, b)))(x, y) as kiln.Tensor[];
    expect(Array.from(dx.dataSync())).toEqual([0.5, 0, 0.25, 0]);
    expect(Array.from(dy.dataSync())).toEqual([-0.25, 0, -3 / 16, 0]);
  });
});
