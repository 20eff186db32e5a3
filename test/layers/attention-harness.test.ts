import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { AdditiveAttention, Attention, EinsumDense, GroupedQueryAttention, MultiHeadAttention } from '../../layers/index.js';
import { runLayerTest } from './harness.js';

const names = (layer: kiln.layers.Layer): string[] => layer.getWeightVariables().map((v) => v.name);

describe('attention layers pass the layer harness', () => {
  it('EinsumDense: a dense layer, a sequence projection, and both ellipsis forms', () => {
    runLayerTest(EinsumDense, { args: ['ab,bc->ac', 4, { biasAxes: 'c' }], inputShape: [2, 3], expectedOutputShape: [2, 4], expectedWeights: [['kernel', [3, 4]], ['bias', [4]]] });
    runLayerTest(EinsumDense, { args: ['abc,cde->abde', [null, 2, 3], { biasAxes: 'de', activation: 'tanh' }], inputShape: [2, 5, 4], expectedOutputShape: [2, 5, 2, 3], expectedWeights: [['kernel', [4, 2, 3]], ['bias', [2, 3]]] });
    runLayerTest(EinsumDense, { args: ['...b,bc->...c', 3, { biasAxes: 'c' }], inputShape: [2, 4, 5], expectedOutputShape: [2, 4, 3], expectedWeights: [['kernel', [5, 3]], ['bias', [3]]] });
    // Keras's bias for 'ab...,bc->ac...' spans the trailing elided axes as size 1
    runLayerTest(EinsumDense, { args: ['ab...,bc->ac...', 3, { biasAxes: 'c' }], inputShape: [2, 4, 5], expectedOutputShape: [2, 3, 5], expectedWeights: [['kernel', [4, 3]], ['bias', [3, 1]]] });
    // a bias over the first of two output axes spans the second as size 1
    runLayerTest(EinsumDense, { args: ['ab,bcd->acd', [2, 3], { biasAxes: 'c' }], inputShape: [2, 4], expectedOutputShape: [2, 2, 3], expectedWeights: [['kernel', [4, 2, 3]], ['bias', [2, 1]]] });
  });

  it('MultiHeadAttention: Keras weight names, shapes and order, with and without a key', () => {
    const weights: [string, number[]][] = [
      ['kernel', [4, 2, 3]], ['bias', [2, 3]], ['kernel', [5, 2, 3]], ['bias', [2, 3]],
      ['kernel', [5, 2, 6]], ['bias', [2, 6]], ['kernel', [2, 6, 4]], ['bias', [4]],
    ];
    runLayerTest(MultiHeadAttention, { args: [2, 3, { valueDim: 6, name: 'mha' }], inputShape: [[2, 3, 4], [2, 5, 5]], expectedOutputShape: [2, 3, 4], expectedWeights: weights });
    runLayerTest(MultiHeadAttention, { args: [2, 3, { valueDim: 6 }], inputShape: [[2, 3, 4], [2, 5, 5], [2, 5, 5]], expectedOutputShape: [2, 3, 4], expectedWeights: weights });
    const mha = new MultiHeadAttention(2, 3, { name: 'mha_names' });
    mha.apply([kiln.zeros([1, 2, 4]), kiln.zeros([1, 2, 4])]);
    expect(names(mha)).toEqual(['query/kernel', 'query/bias', 'key/kernel', 'key/bias', 'value/kernel', 'value/bias', 'attention_output/kernel', 'attention_output/bias'].map((n) => `mha_names/${n}`));
  });

  it('MultiHeadAttention without biases, with a gate, an outputShape and attention over two axes', () => {
    runLayerTest(MultiHeadAttention, { args: [2, 2, { useBias: false }], inputShape: [[2, 3, 4], [2, 2, 4]], expectedOutputShape: [2, 3, 4], expectedWeights: [['kernel', [4, 2, 2]], ['kernel', [4, 2, 2]], ['kernel', [4, 2, 2]], ['kernel', [2, 2, 4]]] });
    const gated = new MultiHeadAttention(2, 2, { useGate: true, name: 'gated' });
    gated.apply([kiln.zeros([1, 2, 4]), kiln.zeros([1, 2, 4])]);
    expect(names(gated).filter((n) => n.endsWith('kernel'))).toEqual(['gated/query/kernel', 'gated/key/kernel', 'gated/gate/kernel', 'gated/value/kernel', 'gated/attention_output/kernel']);
    runLayerTest(MultiHeadAttention, { args: [1, 2, { outputShape: [3, 2] }], inputShape: [[2, 3, 4], [2, 2, 4]], expectedOutputShape: [2, 3, 3, 2], expectedWeights: [['kernel', [4, 1, 2]], ['bias', [1, 2]], ['kernel', [4, 1, 2]], ['bias', [1, 2]], ['kernel', [4, 1, 2]], ['bias', [1, 2]], ['kernel', [1, 2, 3, 2]], ['bias', [3, 2]]] });
    runLayerTest(MultiHeadAttention, { args: [2, 2, { attentionAxes: [1, 2] }], inputShape: [[2, 2, 3, 4], [2, 3, 2, 4]], expectedOutputShape: [2, 2, 3, 4], expectedWeights: [['kernel', [4, 2, 2]], ['bias', [2, 2]], ['kernel', [4, 2, 2]], ['bias', [2, 2]], ['kernel', [4, 2, 2]], ['bias', [2, 2]], ['kernel', [2, 2, 4]], ['bias', [4]]] });
  });

  it('GroupedQueryAttention: Keras weight names, shapes and order', () => {
    runLayerTest(GroupedQueryAttention, { args: [3, 4, 2], inputShape: [[2, 3, 5], [2, 4, 5]], expectedOutputShape: [2, 3, 5], expectedWeights: [['kernel', [5, 4, 3]], ['bias', [4, 3]], ['kernel', [5, 2, 3]], ['bias', [2, 3]], ['kernel', [5, 2, 3]], ['bias', [2, 3]], ['kernel', [4, 3, 5]], ['bias', [5]]] });
    const gqa = new GroupedQueryAttention(2, 2, 1, { name: 'gqa', useBias: false });
    gqa.apply([kiln.zeros([1, 2, 4]), kiln.zeros([1, 2, 4])]);
    expect(names(gqa)).toEqual(['gqa/query/kernel', 'gqa/key/kernel', 'gqa/value/kernel', 'gqa/attention_output/kernel']);
  });

  it('Attention and AdditiveAttention: their scalar and per-feature weights', () => {
    runLayerTest(Attention, { inputShape: [[2, 3, 4], [2, 5, 4]], expectedOutputShape: [2, 3, 4] });
    runLayerTest(Attention, { args: [{ useScale: true, scoreMode: 'concat' }], inputShape: [[2, 3, 4], [2, 5, 6], [2, 5, 4]], expectedOutputShape: [2, 3, 6], expectedWeights: [['scale', []], ['concat_score_weight', []]] });
    runLayerTest(AdditiveAttention, { inputShape: [[2, 3, 4], [2, 5, 4]], expectedOutputShape: [2, 3, 4], expectedWeights: [['scale', [4]]] });
    runLayerTest(AdditiveAttention, { args: [{ useScale: false }], inputShape: [[2, 3, 4], [2, 5, 4]], expectedOutputShape: [2, 3, 4] });
  });

  it('EinsumDense scales a fan-based initializer by the axes the equation contracts and produces, as Keras 3', () => {
    // kernel [16, 4, 8]: fan-in 16, fan-out 32, Glorot limit √(6 / 48) = 0.3536; fans read as a
    // convolution's ([…, in, out] with a receptive field of 16) would give √(6 / 192) = 0.1768
    const layer = new EinsumDense('abc,cde->abde', [null, 4, 8]);
    layer.apply(kiln.zeros([1, 2, 16]));
    const w = Array.from(layer.getWeights()[0].dataSync(), Math.abs);
    expect(Math.max(...w)).toBeLessThanOrEqual(Math.sqrt(6 / 48));
    expect(Math.max(...w)).toBeGreaterThan(0.3);
    // the output projection [4, 8, 16]: fan-in 32, fan-out 16, the same limit
    const out = new EinsumDense('abcd,cde->abe', [null, 16]);
    out.apply(kiln.zeros([1, 2, 4, 8]));
    const wo = Array.from(out.getWeights()[0].dataSync(), Math.abs);
    expect(Math.max(...wo)).toBeLessThanOrEqual(Math.sqrt(6 / 48));
    expect(Math.max(...wo)).toBeGreaterThan(0.3);
  });

  it('MultiHeadAttention hands its regularizers to every projection, activity penalties per call', () => {
    const mha = new MultiHeadAttention(1, 2, { kernelRegularizer: 'l2', activityRegularizer: 'l1', useBias: false });
    const x = kiln.ones([1, 2, 2]);
    mha.apply([x, x]);
    mha.setWeights([[[[1, 0]], [[0, 1]]], [[[0, 0]], [[0, 0]]], [[[2, 0]], [[0, 0]]], [[[1, 1], [0, 0]]]].map((w) => kiln.tensor(w)));
    mha.apply([x, x]);
    // l2 (0.01 · Σw²): 2, 0, 4 and 2; l1 (0.01 · Σ|y|, over batch 1): query [1, 1] per step, key 0,
    // value [2, 0] per step, output: the value heads averaged, [2, 0] · [[1, 1], [0, 0]] = [2, 2] per step
    // (each projection's weight penalty, then its activity penalty, in Keras's projection order)
    const losses = mha.losses.map((t) => +t.dataSync()[0].toFixed(6));
    expect(losses).toEqual([0.02, 0.04, 0, 0, 0.04, 0.04, 0.02, 0.08]);
    mha.apply([x, x]);
    expect(mha.losses.length).toBe(8);
  });
});

