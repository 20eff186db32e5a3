/**
 * Masking: the layer harness, then values, masks and gradients written out by hand on every
 * backend, symbolic masks, and the options Keras refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Input, Masking, maskOf } from '../../layers/index.js';
import { runLayerTest } from './harness.js';

const values = (t: kiln.Tensor): number[] => Array.from(t.dataSync());

describe('Masking passes the layer harness on reference', () => {
  beforeAll(() => kiln.setBackend('reference'));

  // normal draws never hit maskValue exactly, where the output jumps and has no derivative
  it('default maskValue 0, and another value', () => {
    runLayerTest(Masking, { inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 4] });
    runLayerTest(Masking, { args: [{ maskValue: -1 }], inputShape: [3, 2, 5], expectedOutputShape: [3, 2, 5] });
  });
});

const AVAILABLE = kiln.listBackends().filter((b) => b.available).map((b) => b.name);

describe.each(AVAILABLE)('Masking on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  afterAll(() => kiln.setBackend('reference'));

  // sample 0: step 1 is all -1 (masked); step 2 has one -1 only (kept). Sample 1: steps 0 and 2 masked.
  const x = (): kiln.Tensor => kiln.tensor([[[1, 2], [-1, -1], [-1, 3]], [[-1, -1], [4, -1], [-1, -1]]]);

  it('zeroes the steps whose every feature is maskValue and masks them', () => {
    const y = new Masking({ maskValue: -1 }).apply(x());
    expect(values(y)).toEqual([1, 2, 0, 0, -1, 3, 0, 0, 4, -1, 0, 0]);
    expect(maskOf(y)!.arraySync()).toEqual([[true, false, true], [false, true, false]]);
  });

  it('passes the gradient through the kept steps only', () => {
    const g = kiln.grad((t) => kiln.ops.sum(kiln.ops.multiply(new Masking({ maskValue: -1 }).apply(t), 3)))(x());
    expect(values(g as kiln.Tensor)).toEqual([3, 3, 0, 0, 3, 3, 0, 0, 3, 3, 0, 0]);
  });

  it('masks integer inputs, and the last axis of any rank', () => {
    const ints = kiln.tensor([[0, 0], [0, 7]], [2, 2], 'int32');
    const y = new Masking().apply(ints);
    expect([y.dtype, values(y)]).toEqual(['int32', [0, 0, 0, 7]]);
    expect(maskOf(y)!.arraySync()).toEqual([false, true]);
    const four = new Masking().apply(kiln.zeros([2, 3, 4, 5]));
    expect([...maskOf(four)!.shape]).toEqual([2, 3, 4]);
  });
});

describe('Masking masks and config', () => {
  it('supports masking, and its mask replaces the one it is given', () => {
    const layer = new Masking();
    expect(layer.supportsMasking).toBe(true);
    const given = kiln.tensor([[true, true]], [1, 2], 'bool');
    const y = layer.apply(kiln.tensor([[[0, 0], [5, 0]]]), { mask: given });
    expect(maskOf(y)!.arraySync()).toEqual([[false, true]]);
  });

  it('gives symbolic outputs a symbolic mask over the steps', () => {
    const y = new Masking().apply(Input({ shape: [7, 3] }) as never) as unknown as kiln.SymbolicTensor;
    expect([...y.shape]).toEqual([null, 7, 3]);
    const mask = maskOf(y)!;
    expect([mask.dtype, [...mask.shape]]).toEqual(['bool', [null, 7]]);
  });

  it('saves maskValue and refuses a value that is not a number', () => {
    const layer = new Masking({ maskValue: 0.5, name: 'pad' });
    expect(layer.getConfig()).toEqual({ name: 'pad', trainable: true, dtype: 'float32', maskValue: 0.5 });
    expect(Masking.fromConfig(layer.getConfig()).maskValue).toBe(0.5);
    expect(() => new Masking({ maskValue: '0' as never, name: 'pad' })).toThrow(`Masking 'pad': maskValue must be a number, got "0"`);
  });
});
