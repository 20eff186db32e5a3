/**
 * Masks through the merge layers, as Keras 3 combines them (keras/src/layers/merging): the
 * elementwise merges OR their inputs' masks, and give none when any input has none; Multiply,
 * Maximum and Minimum also keep masked steps out of their values; Concatenate joins the masks,
 * an input without one counting as all kept; Dot gives none.
 *
 * The data, written out once: Embedding(6, 1, maskZero) with weights [9, 1, 2, 3, 4, 5], so
 * index 0 (masked) reads 9 and index k reads k:
 *   a = [[1, 0, 2], [0, 0, 3]] → va = [[1, 9, 2], [9, 9, 3]], ma = [[T, F, T], [F, F, T]]
 *   b = [[0, 0, 4], [5, 0, 0]] → vb = [[9, 9, 4], [5, 9, 9]], mb = [[F, F, T], [T, F, F]]
 *   ma OR mb = [[T, F, T], [T, F, T]]
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import {
  Add, Average, Concatenate, Dot, Embedding, GlobalAveragePooling1D, Input, Masking, Maximum, Minimum, Multiply, Subtract, maskOf,
  type Layer,
} from '../../layers/index.js';

const T = true;
const F = false;
const OR = [[T, F, T], [T, F, T]];
const idsA = (): kiln.Tensor => kiln.tensor([[1, 0, 2], [0, 0, 3]], [2, 3], 'int32');
const idsB = (): kiln.Tensor => kiln.tensor([[0, 0, 4], [5, 0, 0]], [2, 3], 'int32');
/** Steps of value 7 (none is 0, so Masking keeps them all): an input with a mask of all true. */
const sevens = (): kiln.Tensor => kiln.fill([2, 3, 1], 7);

function embedding(): Embedding {
  const emb = new Embedding(6, 1, { maskZero: true });
  emb.build([null, 3]);
  emb.setWeights([kiln.tensor([[9], [1], [2], [3], [4], [5]])]);
  return emb;
}

/** A Functional model merging the two embedded id inputs, and a float input [3, 1] without a mask. */
function merged(merge: Layer, pick: (ea: kiln.SymbolicTensor, eb: kiln.SymbolicTensor, c: kiln.SymbolicTensor) => kiln.SymbolicTensor[], head?: Layer): kiln.Model {
  const a = Input({ shape: [3], dtype: 'int32' });
  const b = Input({ shape: [3], dtype: 'int32' });
  const c = Input({ shape: [3, 1] });
  const emb = embedding();
  const out = merge.apply(pick(emb.apply(a as never) as never, emb.apply(b as never) as never, c) as never) as unknown as kiln.SymbolicTensor;
  return new kiln.Model({ inputs: [a, b, c], outputs: head ? (head.apply(out as never) as never) : out });
}

const run = (model: kiln.Model): kiln.Tensor => model.apply([idsA(), idsB(), sevens()]) as kiln.Tensor;
const flat = (t: kiln.Tensor): number[] => Array.from(t.dataSync());
const maskValues = (t: kiln.Tensor): unknown => maskOf(t)?.arraySync() ?? null;

describe('elementwise merges OR the masks, as Keras 3', () => {
  it.each([Add, Subtract, Multiply, Average, Maximum, Minimum])('%o: ma OR mb, eagerly and symbolically', (cls) => {
    const model = merged(new cls(), (ea, eb) => [ea, eb]);
    expect(maskValues(run(model))).toEqual(OR);
    const symbolic = maskOf(model.outputs[0])!;
    expect([symbolic.dtype, [...symbolic.shape]]).toEqual(['bool', [null, 3]]);
  });

  it.each([Add, Multiply, Maximum])('%o: no mask when one input has none', (cls) => {
    const model = merged(new cls(), (ea, _eb, c) => [ea, c]);
    expect(maskValues(run(model))).toBeNull();
    expect(maskOf(model.outputs[0])).toBeNull();
  });

  it('a downstream GlobalAveragePooling1D averages the steps of the OR mask', () => {
    // Add: va + vb = [[10, 18, 6], [14, 18, 12]]; kept steps 0 and 2: (10 + 6) / 2 = 8, (14 + 12) / 2 = 13
    const model = merged(new Add(), (ea, eb) => [ea, eb], new GlobalAveragePooling1D());
    expect(flat(run(model))).toEqual([8, 13]);
  });

  it('Multiply multiplies kept steps only and zeroes the steps no input keeps', () => {
    // masked entries become 1: [[1, 1, 2], [1, 1, 3]] · [[1, 1, 4], [5, 1, 1]] = [[1, 1, 8], [5, 1, 3]];
    // then 0 where ma OR mb is false: [[1, 0, 8], [5, 0, 3]]
    expect(flat(run(merged(new Multiply(), (ea, eb) => [ea, eb])))).toEqual([1, 0, 8, 5, 0, 3]);
    // c has no mask: a's masked steps still count as 1, nothing is zeroed: [[7, 7, 14], [7, 7, 21]]
    expect(flat(run(merged(new Multiply(), (ea, _eb, c) => [ea, c])))).toEqual([7, 7, 14, 7, 7, 21]);
  });

  it('Maximum and Minimum take the kept inputs at each step, the first input where none is kept', () => {
    // s0: a only → 1; none → va = 9; both → max(2, 4) = 4. s1: b only → 5; none → 9; a only → 3
    expect(flat(run(merged(new Maximum(), (ea, eb) => [ea, eb])))).toEqual([1, 9, 4, 5, 9, 3]);
    // the same steps with min: 1, 9, min(2, 4) = 2; 5, 9, 3
    expect(flat(run(merged(new Minimum(), (ea, eb) => [ea, eb])))).toEqual([1, 9, 2, 5, 9, 3]);
    // c (7, unmasked) stands in at a's masked steps: max(va where kept else 7, 7) = [[7, 7, 7], [7, 7, 7]]
    expect(flat(run(merged(new Maximum(), (ea, _eb, c) => [ea, c])))).toEqual([7, 7, 7, 7, 7, 7]);
  });
});

describe('Concatenate joins the masks, as Keras 3', () => {
  it('on the features axis: a step is kept when any input keeps it; an unmasked input keeps all', () => {
    expect(maskValues(run(merged(new Concatenate(), (ea, eb) => [ea, eb])))).toEqual(OR);
    expect(maskValues(run(merged(new Concatenate(), (ea, _eb, c) => [ea, c])))).toEqual([[T, T, T], [T, T, T]]);
  });

  it('on the steps axis: the masks side by side, all true for an unmasked input', () => {
    const model = merged(new Concatenate({ axis: 1 }), (ea, eb) => [ea, eb]);
    expect(maskValues(run(model))).toEqual([[T, F, T, F, F, T], [F, F, T, T, F, F]]);
    expect([...maskOf(model.outputs[0])!.shape]).toEqual([null, 6]);
    expect(maskValues(run(merged(new Concatenate({ axis: 1 }), (_ea, eb, c) => [c, eb])))).toEqual([[T, T, T, F, F, T], [T, T, T, T, F, F]]);
  });

  it('a downstream GlobalAveragePooling1D uses the joined mask', () => {
    // steps va ++ vb: s0 [1, 9, 2, 9, 9, 4] kept at 0, 2, 5: (1 + 2 + 4) / 3; s1 [9, 9, 3, 5, 9, 9] kept at 2, 3: (3 + 5) / 2
    const out = flat(run(merged(new Concatenate({ axis: 1 }), (ea, eb) => [ea, eb], new GlobalAveragePooling1D())));
    expect(out[0]).toBeCloseTo(7 / 3, 6);
    expect(out[1]).toBe(4);
  });

  it('gives no mask when no input has one', () => {
    const x = new Concatenate().apply([kiln.zeros([2, 3, 1]), kiln.zeros([2, 3, 2])]) as kiln.Tensor;
    expect(maskOf(x)).toBeNull();
  });

  it('joins Masking masks in a Functional model', () => {
    const x = Input({ shape: [2, 1] });
    const y = Input({ shape: [2, 1] });
    const out = new Concatenate({ axis: 1 }).apply([new Masking().apply(x as never), new Masking().apply(y as never)] as never);
    const model = new kiln.Model({ inputs: [x, y], outputs: out as never });
    const z = model.apply([kiln.tensor([[[0], [1]]]), kiln.tensor([[[2], [0]]])]) as kiln.Tensor;
    expect(maskValues(z)).toEqual([[F, T, T, F]]);
  });
});

describe('Dot gives no mask, as Keras 3', () => {
  it('even when both inputs have one', () => {
    const model = merged(new Dot(2), (ea, eb) => [ea, eb]);
    expect(maskValues(run(model))).toBeNull();
    expect(maskOf(model.outputs[0])).toBeNull();
  });
});
