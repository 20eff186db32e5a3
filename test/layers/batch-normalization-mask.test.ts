/**
 * BatchNormalization with a mask, as Keras 3's: in training the moments are those of the kept
 * steps only (the kept count plus Keras's epsilon 1e-7 divides the sums), and the moving
 * statistics move toward them; in inference the mask changes nothing and is carried on.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { BatchNormalization, Input, Masking, maskOf } from '../../layers/index.js';

const values = (t: kiln.Tensor): number[] => Array.from(t.dataSync());

function expectClose(got: number[], want: number[], tol = 1e-5): void {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => {
    if (!(Math.abs(g - want[i]) <= tol + tol * Math.abs(want[i]))) expect.fail(`element ${i}: got ${g}, expected ${want[i]}`);
  });
}

// [batch 2, steps 3, features 2]; the mask keeps steps (0, 0), (0, 1) and (1, 1)
const X = [[[1, 10], [3, 20], [100, -50]], [[-70, 7], [5, 30], [8, 9]]];
const MASK = [[true, true, false], [false, true, false]];
// kept feature 0: 1, 3, 5 → mean 3, variance ((1 - 3)² + 0 + (5 - 3)²) / 3 = 8/3
// kept feature 1: 10, 20, 30 → mean 20, variance (100 + 0 + 100) / 3 = 200/3
// (the count is 3 + 1e-7: a relative change of 3e-8, below float32's resolution here)
const MEAN = [3, 20];
const VARIANCE = [8 / 3, 200 / 3];

describe('BatchNormalization with a mask', () => {
  it('normalizes with the kept steps\' moments in training, and moves the moving statistics toward them', () => {
    const bn = new BatchNormalization();
    const y = bn.apply(kiln.tensor(X), { training: true, mask: kiln.tensor(MASK, [2, 3], 'bool') });
    // every entry, kept or not, is normalized with the masked moments (gamma 1, beta 0, epsilon 1e-3)
    const want = X.flat().map(([a, b]) => [(a - MEAN[0]) / Math.sqrt(VARIANCE[0] + 1e-3), (b - MEAN[1]) / Math.sqrt(VARIANCE[1] + 1e-3)]).flat();
    expectClose(values(y), want);
    // momentum 0.99 from mean 0 and variance 1: 0.01 · [3, 20] = [0.03, 0.2]; 0.99 + 0.01 · [8/3, 200/3]
    expectClose(values(bn.movingMean!.value), [0.03, 0.2]);
    expectClose(values(bn.movingVariance!.value), [0.99 + 0.08 / 3, 0.99 + 2 / 3]);
    expect(maskOf(y)!.arraySync()).toEqual(MASK);
  });

  it('takes the mask a Masking layer attached: the zeroed steps stay out of the moments', () => {
    // the masked steps are all zero, so Masking masks exactly the steps above; unmasked, feature 0 would average 9/6
    const x = kiln.tensor([[[1, 10], [3, 20], [0, 0]], [[0, 0], [5, 30], [0, 0]]]);
    const bn = new BatchNormalization({ momentum: 0 });
    bn.apply(new Masking().apply(x), { training: true });
    expectClose(values(bn.movingMean!.value), MEAN);
    expectClose(values(bn.movingVariance!.value), VARIANCE);
  });

  it('gives moments 0 for an all-masked batch, as Keras\'s epsilon in the count does', () => {
    const bn = new BatchNormalization();
    bn.apply(kiln.tensor(X), { training: true, mask: kiln.fill([2, 3], false, 'bool') });
    // 0.99 · 0 + 0.01 · 0 = 0; 0.99 · 1 + 0.01 · 0 = 0.99
    expectClose(values(bn.movingMean!.value), [0, 0]);
    expectClose(values(bn.movingVariance!.value), [0.99, 0.99]);
  });

  it('ignores the mask in inference but carries it on', () => {
    const bn = new BatchNormalization({ epsilon: 0 });
    bn.build([2, 3, 2]);
    bn.setWeights([kiln.tensor([1, 1]), kiln.tensor([0, 0]), kiln.tensor([1, 2]), kiln.tensor([4, 16])]);
    const y = bn.apply(kiln.tensor(X), { mask: kiln.tensor(MASK, [2, 3], 'bool') });
    // (x - [1, 2]) / sqrt([4, 16]) = (x0 - 1) / 2, (x1 - 2) / 4, masked steps included
    expect(values(y)).toEqual(X.flat().map(([a, b]) => [(a - 1) / 2, (b - 2) / 4]).flat());
    expect(maskOf(y)!.arraySync()).toEqual(MASK);
    expect(values(bn.movingMean!.value)).toEqual([1, 2]);
  });

  it('in a Functional model fit uses the mask: a masked step\'s value does not reach the moving mean', async () => {
    const inputs = Input({ shape: [3, 1] });
    const bn = new BatchNormalization({ momentum: 0 });
    const model = new kiln.Model({ inputs, outputs: bn.apply(new Masking().apply(inputs as never) as never) as never });
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0 }), loss: 'mse' });
    // steps 2, 0, 4 and 0, 6, 0: the kept ones are 2, 4, 6 → mean 4 (unmasked it would be 2)
    const x = kiln.tensor([[[2], [0], [4]], [[0], [6], [0]]]);
    await model.fit(x, kiln.zeros([2, 3, 1]), { batchSize: 2, epochs: 1, verbose: 0 });
    expectClose(values(bn.movingMean!.value), [4]);
    // ((2 - 4)² + 0 + (6 - 4)²) / 3 = 8/3
    expectClose(values(bn.movingVariance!.value), [8 / 3]);
  });

  it('names the layer when the mask does not have one axis fewer than the input', () => {
    const bn = new BatchNormalization({ name: 'bn' });
    expect(() => bn.apply(kiln.zeros([2, 3, 2]), { training: true, mask: kiln.fill([2, 3, 2], true, 'bool') }))
      .toThrow("BatchNormalization 'bn': expects a mask of one axis fewer than its input [2,3,2], got a mask of shape [2,3,2]");
  });
});
