/** Bad input to the attention layers: clear errors naming the layer, the option and the shapes, on every backend. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { AdditiveAttention, Attention, EinsumDense, GroupedQueryAttention, Input, MultiHeadAttention } from '../../layers/index.js';

const z = (...shape: number[]): kiln.Tensor => kiln.zeros(shape);
const AVAILABLE = kiln.listBackends().filter((b) => b.available).map((b) => b.name);

describe('attention layers refuse bad options', () => {
  it('MultiHeadAttention', () => {
    expect(() => new MultiHeadAttention(0, 4, { name: 'm' })).toThrow("MultiHeadAttention 'm': numHeads must be a positive integer, got 0");
    expect(() => new MultiHeadAttention(2, 2.5, { name: 'm' })).toThrow("MultiHeadAttention 'm': keyDim must be a positive integer, got 2.5");
    expect(() => new MultiHeadAttention(2, 4, { valueDim: -1, name: 'm' })).toThrow('valueDim must be a positive integer or null, got -1');
    expect(() => new MultiHeadAttention(2, 4, { dropout: 1.5, name: 'm' })).toThrow('dropout must be a number in [0, 1], got 1.5');
    expect(() => new MultiHeadAttention(2, 4, { outputShape: [0], name: 'm' })).toThrow('outputShape must be a positive integer or a list of them, got [0]');
    expect(() => new MultiHeadAttention(2, 4, { attentionAxes: [1.5], name: 'm' })).toThrow('attentionAxes must be an integer or a list of integers, got [1.5]');
    expect(() => new MultiHeadAttention(2, 4, { slidingWindow: 0, name: 'm' })).toThrow('slidingWindow must be a positive integer or null, got 0');
    expect(() => new MultiHeadAttention(2, 4, { kernelInitializer: 'glorot_unifrom', name: 'm' })).toThrow(/glorot_unifrom/);
  });

  it('GroupedQueryAttention: query heads must be a multiple of the key/value heads', () => {
    expect(() => new GroupedQueryAttention(4, 6, 4, { name: 'g' })).toThrow("GroupedQueryAttention 'g': numQueryHeads must be a multiple of numKeyValueHeads: got numQueryHeads 6, numKeyValueHeads 4");
    expect(() => new GroupedQueryAttention(4, 4, 0, { name: 'g' })).toThrow('numKeyValueHeads must be a positive integer, got 0');
  });

  it('Attention, AdditiveAttention and EinsumDense', () => {
    expect(() => new Attention({ scoreMode: 'sum' as never, name: 'a' })).toThrow("Attention 'a': scoreMode must be 'dot' or 'concat', got \"sum\"");
    expect(() => new AdditiveAttention({ dropout: -0.1, name: 'a' })).toThrow("AdditiveAttention 'a': dropout must be a number in [0, 1], got -0.1");
    expect(() => new EinsumDense('ab,bc', 4, { name: 'e' })).toThrow("EinsumDense 'e': equation must have the form 'ab,bc->ac', '...ab,bc->...ac' or 'ab...,bc->ac...', got \"ab,bc\"");
    expect(() => new EinsumDense('ab,bc->ac', [-1], { name: 'e' })).toThrow('outputShape must be a non-negative integer or a list of them');
    expect(() => new EinsumDense('ab,bc->ac', 4, { biasAxes: 'x', name: 'e' }).apply(z(2, 3))).toThrow("EinsumDense 'e': bias axis 'x' is not an output axis of 'ab,bc->ac'");
    expect(() => new EinsumDense('ab,bcd->acd', [4], { name: 'e' }).apply(z(2, 3))).toThrow("EinsumDense 'e': outputShape [4] does not fit equation 'ab,bcd->acd' for inputs of shape [2,3]");
    expect(() => new EinsumDense('abc,cd->abd', [5, 4], { name: 'e' }).apply(z(2, 3, 6))).toThrow("EinsumDense 'e': input and output disagree at axis 'b' of 'abc,cd->abd': the input has 3 (shape [2,3,6]), outputShape 5");
    expect(() => new EinsumDense('ab,bz->ac', 4, { name: 'e' }).apply(z(2, 3))).toThrow("output axis 'c' of 'ab,bz->ac' is in neither the input nor the kernel");
    const e = new EinsumDense('abc,cd->abd', [null, 4], { name: 'e2' });
    e.apply(z(2, 3, 6));
    expect(() => e.apply(z(2, 6))).toThrow("EinsumDense 'e2': was built for inputs of rank 3, got shape [2,6]");
  });
});

describe.each(AVAILABLE)('attention layers refuse bad inputs on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));

  it('a list of 2 or 3 inputs, not one tensor', () => {
    expect(() => new MultiHeadAttention(2, 2, { name: 'm' }).apply(z(1, 2, 4) as never)).toThrow("MultiHeadAttention 'm': expects a list of inputs, got one tensor");
    expect(() => new MultiHeadAttention(2, 2, { name: 'm' }).apply([z(1, 2, 4)])).toThrow("MultiHeadAttention 'm': expects [query, value] or [query, value, key], got 1 inputs");
    expect(() => new Attention({ name: 'a' }).apply([z(1, 2, 4), z(1, 2, 4), z(1, 2, 4), z(1, 2, 4)])).toThrow("Attention 'a': expects [query, value] or [query, value, key], got 4 inputs");
  });

  it('query, key and value ranks and shapes that disagree with each other or with attentionAxes', () => {
    expect(() => new MultiHeadAttention(2, 2, { name: 'm' }).apply([z(1, 3, 4), z(1, 5, 2, 4)]))
      .toThrow("MultiHeadAttention 'm': query, value and key must have one rank of at least 3 ([batch, …steps, features]): got query [1,3,4], value [1,5,2,4], key [1,5,2,4]");
    expect(() => new MultiHeadAttention(2, 2, { name: 'm' }).apply([z(1, 3, 4), z(1, 5, 4), z(1, 6, 4)]))
      .toThrow("MultiHeadAttention 'm': value and key must agree on every axis but the last: got query [1,3,4], value [1,5,4], key [1,6,4]");
    expect(() => new MultiHeadAttention(2, 2, { attentionAxes: [2], name: 'm' }).apply([z(1, 3, 4), z(1, 5, 4)]))
      .toThrow("MultiHeadAttention 'm': attentionAxes [2] must be distinct axes between the batch axis and the feature axis of inputs of rank 3: got query [1,3,4], value [1,5,4], key [1,5,4]");
    expect(() => new MultiHeadAttention(2, 2, { attentionAxes: [2], name: 'm' }).apply([z(1, 3, 2, 4), z(1, 4, 5, 4)]))
      .toThrow("MultiHeadAttention 'm': query and value must agree on axis 1, which attention (axes [2]) does not run over: got query [1,3,2,4], value [1,4,5,4], key [1,4,5,4]");
    expect(() => new MultiHeadAttention(2, 2, { name: 'm' }).apply([z(1, 4), z(1, 4)])).toThrow('query, value and key must have one rank of at least 3');
    expect(() => new GroupedQueryAttention(2, 2, 1, { name: 'g' }).apply([z(1, 3, 4), z(1, 5, 6)]))
      .toThrow("GroupedQueryAttention 'g': query and value must have the same known last dimension, got query [1,3,4], value [1,5,6], key [1,5,6]");
    expect(() => new Attention({ name: 'a' }).apply([z(1, 3, 4), z(1, 5, 4), z(1, 5, 3)]))
      .toThrow("Attention 'a': query and key must have the same last dimension, got query [1,3,4], value [1,5,4], key [1,5,3]");
    expect(() => new AdditiveAttention({ name: 'a' }).apply([z(1, 3, 4), z(1, 5, 4), z(1, 6, 4)]))
      .toThrow("AdditiveAttention 'a': value and key must have the same steps, got query [1,3,4], value [1,5,4], key [1,6,4]");
  });

  it('inputs that differ from the shapes the layer was built for', () => {
    const mha = new MultiHeadAttention(2, 2, { name: 'm' });
    mha.apply([z(1, 3, 4), z(1, 5, 4)]);
    expect(() => mha.apply([z(1, 3, 6), z(1, 5, 4)])).toThrow("MultiHeadAttention 'm': was built for query [1,3,4], value [1,5,4], key [1,5,4]; got query [1,3,6], value [1,5,4], key [1,5,4]");
    const add = new AdditiveAttention({ name: 'add' });
    add.apply([z(1, 3, 4), z(1, 5, 4)]);
    expect(() => add.apply([z(1, 3, 2), z(1, 5, 2)])).toThrow("AdditiveAttention 'add': was built for query [1,3,4], value [1,5,4], key [1,5,4]; got query [1,3,2], value [1,5,2], key [1,5,2]");
  });

  it('masks that do not match the sequence, and attention masks that do not broadcast to the scores', () => {
    const mha = new MultiHeadAttention(2, 2, { name: 'm' });
    const [q, v] = [z(2, 3, 4), z(2, 5, 4)];
    const bad = kiln.ones([2, 4], 'bool');
    expect(() => mha.apply([q, v], { masks: [null, bad] })).toThrow("MultiHeadAttention 'm': the mask of the value must be [batch, steps] of its input [2,5,4], got [2,4]");
    expect(() => mha.apply([q, v], { masks: [bad, null] })).toThrow("MultiHeadAttention 'm': the mask of the query must be [batch, steps] of its input [2,3,4], got [2,4]");
    expect(() => mha.apply([q, v], { attentionMask: kiln.ones([2, 3, 4], 'bool') }))
      .toThrow("MultiHeadAttention 'm': attentionMask [2,3,4] does not broadcast to the attention scores [2,2,3,5]: expected [2,3,5]");
    expect(() => mha.apply([q, v], { attentionMask: kiln.ones([1, 2, 2, 3, 5], 'bool') })).toThrow('attentionMask has rank 5, above the scores\' 4');
    const four = new MultiHeadAttention(2, 2, { name: 'm4' });
    expect(() => four.apply([z(1, 2, 3, 4), z(1, 2, 3, 4)], { useCausalMask: true }))
      .toThrow("MultiHeadAttention 'm4': input masks, useCausalMask and slidingWindow need query and value of rank 3 [batch, steps, features], got [1,2,3,4] and [1,2,3,4]; pass an attentionMask instead");
    expect(() => new Attention({ name: 'a' }).apply([q, v], { masks: [null, bad] })).toThrow("Attention 'a': the value mask must be [batch, steps] with 5 steps, got [2,4]");
    expect(() => new Attention({ name: 'a2' }).apply([q, v], { masks: [kiln.ones([2, 5], 'bool'), null] })).toThrow("Attention 'a2': the query mask must be [batch, steps] with 3 steps, got [2,5]");
    expect(() => mha.apply([q, v], { masks: [null, kiln.ones([3, 5], 'bool')] })).toThrow(/a mask must have its input's batch size/);
  });

  it('symbolic inputs are checked as the model is built', () => {
    const x = Input({ shape: [3, 4] });
    const y = Input({ shape: [5, 6] });
    expect(() => new GroupedQueryAttention(2, 4, 2, { name: 'g' }).apply([x, y])).toThrow("GroupedQueryAttention 'g': query and value must have the same known last dimension, got query [null,3,4], value [null,5,6], key [null,5,6]");
  });
});
