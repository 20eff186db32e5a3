/**
 * Output dtypes, symbolic and eager: the layers that move data (padding, cropping, reshaping,
 * nearest up-sampling, repetition, permutation, pass-through) keep an integer or boolean input's
 * dtype, as Keras's calls do; the ones that compute (pooling, bilinear up-sampling) give floats.
 * A Functional graph's tensors must carry the dtype its eager run gives.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import {
  AveragePooling1D, Cropping1D, Cropping2D, Cropping3D, Flatten, GlobalAveragePooling1D, GlobalMaxPooling1D, Identity, Input, Lambda, Layer,
  MaxPooling1D, Permute, RepeatVector, Reshape, UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D,
} from '../../layers/index.js';
import type { DType } from '../../backends/contract.js';

type Case = [string, () => Layer, number[], 'input' | 'float32'];

const CASES: Case[] = [
  ['ZeroPadding1D', () => new ZeroPadding1D(1), [2, 3, 2], 'input'],
  ['ZeroPadding2D', () => new ZeroPadding2D(1), [2, 3, 3, 2], 'input'],
  ['ZeroPadding3D', () => new ZeroPadding3D(1), [2, 2, 2, 2, 1], 'input'],
  ['Cropping1D', () => new Cropping1D(1), [2, 4, 2], 'input'],
  ['Cropping2D', () => new Cropping2D(1), [2, 4, 4, 2], 'input'],
  ['Cropping3D', () => new Cropping3D(1), [2, 3, 3, 3, 1], 'input'],
  ['Reshape', () => new Reshape([-1]), [2, 3, 2], 'input'],
  ['Flatten', () => new Flatten(), [2, 3, 2], 'input'],
  ['UpSampling1D', () => new UpSampling1D(), [2, 3, 2], 'input'],
  ['UpSampling2D nearest', () => new UpSampling2D(), [2, 3, 3, 2], 'input'],
  ['UpSampling3D', () => new UpSampling3D(), [2, 2, 2, 2, 1], 'input'],
  ['RepeatVector', () => new RepeatVector(3), [2, 4], 'input'],
  ['Permute', () => new Permute([2, 1]), [2, 3, 2], 'input'],
  ['Identity', () => new Identity(), [2, 3, 2], 'input'],
  ['GlobalMaxPooling1D', () => new GlobalMaxPooling1D(), [2, 4, 2], 'input'],
  ['Lambda with outputShape', () => new Lambda((x) => kiln.ops.flip(x, 1), { outputShape: [4, 2] }), [2, 4, 2], 'input'],
  ['UpSampling2D bilinear', () => new UpSampling2D(2, { interpolation: 'bilinear' }), [2, 3, 3, 2], 'float32'],
  ['MaxPooling1D', () => new MaxPooling1D(), [2, 4, 2], 'float32'],
  ['AveragePooling1D', () => new AveragePooling1D(2), [2, 4, 2], 'float32'],
  ['GlobalAveragePooling1D', () => new GlobalAveragePooling1D(), [2, 4, 2], 'float32'],
];

/** A data-moving layer of a user's that states its output shape instead of inferring it. */
class Reverse extends Layer {
  static readonly className = 'Reverse';
  call(x: kiln.Tensor): kiln.Tensor {
    return kiln.ops.flip(x, 1);
  }

  override computeOutputShape(inputShape: readonly (number | null)[]): (number | null)[] {
    return [...inputShape];
  }
}

describe.each(['int32', 'bool'] as DType[])('%s inputs', (dtype) => {
  it.each(CASES)('%s: the symbolic dtype is the eager one', (_name, make, shape, kind) => {
    const want = kind === 'input' ? dtype : 'float32';
    const symbolic = make().apply(Input({ shape: shape.slice(1), dtype }) as never) as unknown as kiln.SymbolicTensor;
    const eager = make().apply(kiln.ops.cast(kiln.zeros(shape), dtype));
    expect([symbolic.dtype, eager.dtype]).toEqual([want, want]);
  });

  it('a layer that overrides computeOutputShape and moves data keeps the input dtype too', () => {
    const symbolic = new Reverse().apply(Input({ shape: [3], dtype }) as never) as unknown as kiln.SymbolicTensor;
    const eager = new Reverse().apply(kiln.ops.cast(kiln.zeros([2, 3]), dtype));
    expect([symbolic.dtype, eager.dtype]).toEqual([dtype, dtype]);
  });

  it('a Functional model\'s outputs carry the dtype its predictions have', () => {
    const inputs = Input({ shape: [4, 2], dtype });
    const x = new Lambda((t) => kiln.ops.flip(t, 1), { outputShape: [4, 2] }).apply(new ZeroPadding1D(0).apply(inputs as never) as never);
    const model = new kiln.Model({ inputs, outputs: new Flatten().apply(x as never) as never });
    const out = model.predictOnBatch(kiln.ops.cast(kiln.zeros([2, 4, 2]), dtype)) as kiln.Tensor;
    expect([model.outputs[0].dtype, out.dtype]).toEqual([dtype, dtype]);
  });
});

describe('integer values through data-moving layers', () => {
  it('stay exact integers: ZeroPadding1D pads int32 with 0', () => {
    // [[1, 2], [3, 4]] per sample, one zero step each side
    const y = new ZeroPadding1D(1).apply(kiln.tensor([[[1, 2], [3, 4]]], [1, 2, 2], 'int32'));
    expect([y.dtype, Array.from(y.dataSync())]).toEqual(['int32', [0, 0, 1, 2, 3, 4, 0, 0]]);
  });
});
