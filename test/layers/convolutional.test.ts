/**
 * The convolution layers: the harness (Keras's weight names, order and shapes written out by
 * hand, shapes symbolic and eager, config round trip, float64 finite differences), values
 * against direct loops written here on every backend, hand-computed cases, save/load, and the
 * bad inputs Keras refuses.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import {
  Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D, Conv3DTranspose, DepthwiseConv1D, DepthwiseConv2D, Input,
  SeparableConv1D, SeparableConv2D,
} from '../../layers/index.js';
import { saveModel } from '../../saving/save.js';
import { runLayerTest } from './harness.js';

const values = (t: unknown): number[] => Array.from((t as kiln.Tensor).dataSync());

describe('the convolution layers pass the layer harness on reference', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('Conv1D: causal and dilated, channelsFirst with strides, grouped', () => {
    runLayerTest(Conv1D, {
      args: [4, 3, { padding: 'causal', dilationRate: 2, activation: 'tanh' }],
      inputShape: [2, 9, 3], expectedOutputShape: [2, 9, 4],
      expectedWeights: [['kernel', [3, 3, 4]], ['bias', [4]]],
    });
    runLayerTest(Conv1D, {
      args: [2, 2, { strides: 2, dataFormat: 'channelsFirst', useBias: false }],
      inputShape: [2, 3, 7], expectedOutputShape: [2, 2, 3],
      expectedWeights: [['kernel', [2, 3, 2]]],
    });
    runLayerTest(Conv1D, {
      args: [6, 3, { groups: 3, padding: 'same', activation: 'elu' }],
      inputShape: [1, 5, 6], expectedOutputShape: [1, 5, 6],
      expectedWeights: [['kernel', [3, 2, 6]], ['bias', [6]]],
    });
  });

  it('Conv2D: same padding with uneven strides and groups, dilated channelsFirst', () => {
    runLayerTest(Conv2D, {
      args: [6, [3, 2], { strides: [2, 1], padding: 'same', groups: 2, activation: 'sigmoid' }],
      inputShape: [2, 7, 6, 4], expectedOutputShape: [2, 4, 6, 6],
      expectedWeights: [['kernel', [3, 2, 2, 6]], ['bias', [6]]], expectedTrainableWeights: 2,
    });
    runLayerTest(Conv2D, {
      args: [5, 3, { dilationRate: 2, dataFormat: 'channelsFirst', activation: 'softplus' }],
      inputShape: [2, 3, 7, 6], expectedOutputShape: [2, 5, 3, 2],
      expectedWeights: [['kernel', [3, 3, 3, 5]], ['bias', [5]]],
    });
  });

  it('Conv3D', () => {
    runLayerTest(Conv3D, {
      args: [3, 2, { strides: 2 }],
      inputShape: [1, 4, 5, 4, 2], expectedOutputShape: [1, 2, 2, 2, 3],
      expectedWeights: [['kernel', [2, 2, 2, 2, 3]], ['bias', [3]]],
    });
    runLayerTest(Conv3D, {
      args: [2, [1, 2, 3], { padding: 'same', dataFormat: 'channelsFirst', activation: 'relu' }],
      inputShape: [1, 2, 2, 3, 4], expectedOutputShape: [1, 2, 2, 3, 4],
      expectedWeights: [['kernel', [1, 2, 3, 2, 2]], ['bias', [2]]],
    });
  });

  it('Conv1DTranspose: valid fills (size - 1)·stride + max(window, stride), same gives size·stride', () => {
    runLayerTest(Conv1DTranspose, {
      args: [3, 3, { strides: 2 }],
      inputShape: [2, 4, 5], expectedOutputShape: [2, 9, 3],
      expectedWeights: [['kernel', [3, 3, 5]], ['bias', [3]]],
    });
    runLayerTest(Conv1DTranspose, {
      args: [2, 4, { strides: 3, padding: 'same', activation: 'tanh' }],
      inputShape: [2, 3, 2], expectedOutputShape: [2, 9, 2],
      expectedWeights: [['kernel', [4, 2, 2]], ['bias', [2]]],
    });
  });

  it('Conv2DTranspose: outputPadding, channelsFirst with dilation', () => {
    runLayerTest(Conv2DTranspose, {
      args: [4, 3, { strides: 2, padding: 'same', outputPadding: 1 }],
      inputShape: [2, 3, 4, 2], expectedOutputShape: [2, 6, 8, 4],
      expectedWeights: [['kernel', [3, 3, 4, 2]], ['bias', [4]]],
    });
    runLayerTest(Conv2DTranspose, {
      args: [3, 2, { dilationRate: 2, dataFormat: 'channelsFirst', useBias: false, activation: 'elu' }],
      inputShape: [1, 2, 3, 3], expectedOutputShape: [1, 3, 5, 5],
      expectedWeights: [['kernel', [2, 2, 3, 2]]],
    });
  });

  it('Conv3DTranspose', () => {
    runLayerTest(Conv3DTranspose, {
      args: [2, 2, { strides: 2 }],
      inputShape: [1, 2, 2, 2, 3], expectedOutputShape: [1, 4, 4, 4, 2],
      expectedWeights: [['kernel', [2, 2, 2, 2, 3]], ['bias', [2]]],
    });
  });

  it('DepthwiseConv1D and DepthwiseConv2D: weight "kernel" [...K, channels, multiplier]', () => {
    runLayerTest(DepthwiseConv1D, {
      args: [3, { depthMultiplier: 2 }],
      inputShape: [2, 6, 3], expectedOutputShape: [2, 4, 6],
      expectedWeights: [['kernel', [3, 3, 2]], ['bias', [6]]],
    });
    runLayerTest(DepthwiseConv2D, {
      args: [[2, 3], { strides: 2, padding: 'same', activation: 'tanh' }],
      inputShape: [2, 5, 6, 3], expectedOutputShape: [2, 3, 3, 3],
      expectedWeights: [['kernel', [2, 3, 3, 1]], ['bias', [3]]],
    });
    runLayerTest(DepthwiseConv2D, {
      args: [3, { depthMultiplier: 3, dilationRate: [1, 2], dataFormat: 'channelsFirst', useBias: false }],
      inputShape: [1, 2, 5, 6], expectedOutputShape: [1, 6, 3, 2],
      expectedWeights: [['kernel', [3, 3, 2, 3]]],
    });
  });

  it('SeparableConv1D and SeparableConv2D: depthwise_kernel, pointwise_kernel, bias', () => {
    runLayerTest(SeparableConv1D, {
      args: [4, 3, { depthMultiplier: 2, padding: 'same' }],
      inputShape: [2, 5, 3], expectedOutputShape: [2, 5, 4],
      expectedWeights: [['depthwise_kernel', [3, 3, 2]], ['pointwise_kernel', [1, 6, 4]], ['bias', [4]]],
      expectedTrainableWeights: 3,
    });
    runLayerTest(SeparableConv2D, {
      args: [5, 3, { strides: 2, activation: 'sigmoid' }],
      inputShape: [1, 7, 7, 2], expectedOutputShape: [1, 3, 3, 5],
      expectedWeights: [['depthwise_kernel', [3, 3, 2, 1]], ['pointwise_kernel', [1, 1, 2, 5]], ['bias', [5]]],
    });
    runLayerTest(SeparableConv2D, {
      args: [2, [2, 3], { dataFormat: 'channelsFirst', useBias: false, depthMultiplier: 2 }],
      inputShape: [2, 2, 4, 5], expectedOutputShape: [2, 2, 3, 3],
      expectedWeights: [['depthwise_kernel', [2, 3, 2, 2]], ['pointwise_kernel', [1, 1, 4, 2]]],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Direct loops: channels-last arrays in float64, every output an explicit sum over its taps.

interface Arr {
  data: Float64Array;
  shape: number[];
}

/** Every index of `shape`, row-major. */
function indices(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of shape) out = out.flatMap((prefix) => Array.from({ length: n }, (_, i) => [...prefix, i]));
  return out;
}

function offset(shape: readonly number[], index: readonly number[]): number {
  return index.reduce((o, i, axis) => o * shape[axis] + i, 0);
}

const at = (a: Arr, index: readonly number[]): number => a.data[offset(a.shape, index)];

async function arrOf(t: kiln.Tensor): Promise<Arr> {
  return { data: Float64Array.from(await t.data()), shape: [...t.shape] };
}

/** Keras's (TensorFlow's) padding before each axis: 'same' puts the odd element after. */
function padBefore(padding: string, size: number, k: number, stride: number, dilation: number): number {
  const reach = (k - 1) * dilation + 1;
  if (padding === 'causal') return reach - 1;
  if (padding === 'valid') return 0;
  return Math.floor(Math.max((Math.ceil(size / stride) - 1) * stride + reach - size, 0) / 2);
}

interface Geometry {
  K: number[];
  strides: number[];
  dilations: number[];
  padding: string;
  /** The output's spatial sizes, written out by the caller. */
  out: number[];
}

/**
 * out[n, o, f] = bias[f] + Σ_{k, c} x[n, o·s + k·d - pad, c] · weight(k, c, f), positions outside
 * the input reading 0; `weight` is 0 where channel c does not feed filter f.
 */
function convLoop(x: Arr, g: Geometry, F: number, weight: (k: number[], c: number, f: number) => number, bias: number[] | null): Arr {
  const [N, C] = [x.shape[0], x.shape[x.shape.length - 1]];
  const S = x.shape.slice(1, -1);
  const pads = S.map((s, i) => padBefore(g.padding, s, g.K[i], g.strides[i], g.dilations[i]));
  const shape = [N, ...g.out, F];
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (const [n, ...rest] of indices([N, ...g.out])) {
    for (let f = 0; f < F; f++) {
      let sum = bias ? bias[f] : 0;
      for (const k of indices(g.K)) {
        const pos = rest.map((o, i) => o * g.strides[i] + k[i] * g.dilations[i] - pads[i]);
        if (pos.some((p, i) => p < 0 || p >= S[i])) continue;
        for (let c = 0; c < C; c++) sum += at(x, [n, ...pos, c]) * weight(k, c, f);
      }
      data[offset(shape, [n, ...rest, f])] = sum;
    }
  }
  return { data, shape };
}

/**
 * The transposed convolution as a scatter: each x[n, i, c] adds x · w[k, f, c] at output
 * position i·s + k·d - crop, crop = window - 1 - the left padding of Keras's conv_transpose
 * (JAX's form of it), positions outside the output dropped.
 */
function convTransposeLoop(x: Arr, w: Arr, g: Geometry, outputPadding: number[] | null, bias: number[] | null): Arr {
  const [N, C] = [x.shape[0], x.shape[x.shape.length - 1]];
  const F = w.shape[w.shape.length - 2];
  const S = x.shape.slice(1, -1);
  const crops = S.map((_, i) => {
    const reach = (g.K[i] - 1) * g.dilations[i] + 1;
    const s = g.strides[i];
    let left: number;
    if (g.padding === 'valid') left = reach - 1;
    else {
      const total = outputPadding === null ? s + reach - 2 : reach + (reach % 2) - 2 + outputPadding[i];
      left = Math.min(Math.floor(total / 2) + (total % 2), reach - 1);
    }
    return reach - 1 - left;
  });
  const shape = [N, ...g.out, F];
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  for (const index of indices(shape)) data[offset(shape, index)] = bias ? bias[index[index.length - 1]] : 0;
  for (const [n, ...i] of indices([N, ...S])) {
    for (const k of indices(g.K)) {
      const pos = i.map((p, a) => p * g.strides[a] + k[a] * g.dilations[a] - crops[a]);
      if (pos.some((p, a) => p < 0 || p >= g.out[a])) continue;
      for (let f = 0; f < F; f++) {
        let sum = 0;
        for (let c = 0; c < C; c++) sum += at(x, [n, ...i, c]) * at(w, [...k, f, c]);
        data[offset(shape, [n, ...pos, f])] += sum;
      }
    }
  }
  return { data, shape };
}

const grouped = (w: Arr, groups: number) => (k: number[], c: number, f: number): number => {
  const [cg, F] = w.shape.slice(-2);
  return Math.floor(c / cg) === Math.floor(f / (F / groups)) ? at(w, [...k, c % cg, f]) : 0;
};

/** Depthwise: filter f = c·M + m reads channel c alone, with w[k, c, m]. */
const depthwise = (w: Arr) => (k: number[], c: number, f: number): number => {
  const M = w.shape[w.shape.length - 1];
  return Math.floor(f / M) === c ? at(w, [...k, c, f % M]) : 0;
};

function expectClose(got: Arr, want: Arr, tol: number): void {
  expect(got.shape).toEqual(want.shape);
  got.data.forEach((v, i) => expect(Math.abs(v - want.data[i]), `element ${i}: ${v}, expected ${want.data[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(want.data[i]))));
}

/** The layer on channels-last `x` (moved to channels-first and back for such a layer). */
async function run(layer: kiln.Layer, x: kiln.Tensor, channelsFirst = false): Promise<Arr> {
  const r = x.rank;
  const input = channelsFirst ? kiln.ops.moveaxis(x, -1, 1) : x;
  const y = layer.apply(input) as kiln.Tensor;
  return arrOf(channelsFirst ? kiln.ops.moveaxis(y, 1, r - 1) : y);
}

async function randomized(layer: kiln.Layer, x: kiln.Tensor, channelsFirst = false): Promise<Arr[]> {
  layer.apply(channelsFirst ? kiln.ops.moveaxis(x, -1, 1) : x);
  let seed = 11;
  for (const v of layer.weights) v.assign(kiln.random.normal([...v.shape], { seed: seed++, dtype: v.dtype }));
  return Promise.all(layer.getWeights().map(arrOf));
}

const BACKENDS = kiln.listBackends();
const AVAILABLE = BACKENDS.filter((b) => b.available).map((b) => b.name);

for (const b of BACKENDS.filter((s) => !s.available)) {
  describe.skip(`${b.name} (unavailable: ${b.reason})`, () => {
    it('is skipped', () => {});
  });
}

describe.each(AVAILABLE)('values against direct loops on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  const tol = 1e-5;

  it('Conv1D causal, dilated, with a relu the kernel fuses', async () => {
    const x = kiln.random.normal([2, 7, 3], { seed: 1 });
    const layer = new Conv1D(4, 3, { padding: 'causal', dilationRate: 2, activation: 'relu' });
    const [w, bias] = await randomized(layer, x);
    const want = convLoop(await arrOf(x), { K: [3], strides: [1], dilations: [2], padding: 'causal', out: [7] }, 4, grouped(w, 1), Array.from(bias.data));
    want.data.forEach((v, i) => (want.data[i] = Math.max(v, 0)));
    expectClose(await run(layer, x), want, tol);
  });

  it('Conv2D same, strided, grouped; and channelsFirst with a softmax over its own last axis', async () => {
    const x = kiln.random.normal([2, 7, 6, 4], { seed: 2 });
    const layer = new Conv2D(6, [3, 2], { strides: [2, 3], padding: 'same', groups: 2 });
    const [w, bias] = await randomized(layer, x);
    const g = { K: [3, 2], strides: [2, 3], dilations: [1, 1], padding: 'same', out: [4, 2] };
    expectClose(await run(layer, x), convLoop(await arrOf(x), g, 6, grouped(w, 2), Array.from(bias.data)), tol);

    const first = new Conv2D(3, 2, { dataFormat: 'channelsFirst', activation: 'softmax' });
    const [w1, b1] = await randomized(first, x, true);
    const linear = convLoop(await arrOf(x), { K: [2, 2], strides: [1, 1], dilations: [1, 1], padding: 'valid', out: [6, 5] }, 3, grouped(w1, 1), Array.from(b1.data));
    // channelsFirst [n, f, h, w]: the softmax runs over w, the last axis of the layer's own layout
    const want = { data: new Float64Array(linear.data.length), shape: linear.shape };
    for (const [n, h, f] of indices([2, 6, 3])) {
      const row = Array.from({ length: 5 }, (_, j) => at(linear, [n, h, j, f]));
      const e = row.map((v) => Math.exp(v - Math.max(...row)));
      e.forEach((v, j) => (want.data[offset(linear.shape, [n, h, j, f])] = v / e.reduce((a, b2) => a + b2, 0)));
    }
    expectClose(await run(first, x, true), want, tol);
  });

  it('Conv3D dilated', async () => {
    const x = kiln.random.normal([1, 5, 4, 5, 2], { seed: 3 });
    const layer = new Conv3D(3, 2, { dilationRate: [2, 1, 2] });
    const [w, bias] = await randomized(layer, x);
    const g = { K: [2, 2, 2], strides: [1, 1, 1], dilations: [2, 1, 2], padding: 'valid', out: [3, 3, 3] };
    expectClose(await run(layer, x), convLoop(await arrOf(x), g, 3, grouped(w, 1), Array.from(bias.data)), tol);
  });

  it('Conv1DTranspose, Conv2DTranspose (outputPadding, channelsFirst), Conv3DTranspose', async () => {
    const x1 = kiln.random.normal([2, 4, 3], { seed: 4 });
    const t1 = new Conv1DTranspose(2, 3, { strides: 2 });
    const [w1, b1] = await randomized(t1, x1);
    expectClose(await run(t1, x1), convTransposeLoop(await arrOf(x1), w1, { K: [3], strides: [2], dilations: [1], padding: 'valid', out: [9] }, null, Array.from(b1.data)), tol);

    const x2 = kiln.random.normal([2, 3, 4, 2], { seed: 5 });
    for (const [padding, outputPadding, out] of [['same', null, [6, 8]], ['same', [1, 0], [6, 7]], ['valid', [1, 1], [8, 10]]] as const) {
      const t2 = new Conv2DTranspose(3, 3, { strides: 2, padding, outputPadding: outputPadding as number[] | null, dataFormat: 'channelsFirst' });
      const [w2, b2] = await randomized(t2, x2, true);
      const g = { K: [3, 3], strides: [2, 2], dilations: [1, 1], padding, out: [...out] };
      expectClose(await run(t2, x2, true), convTransposeLoop(await arrOf(x2), w2, g, outputPadding as number[] | null, Array.from(b2.data)), tol);
    }

    const x3 = kiln.random.normal([1, 2, 3, 2, 2], { seed: 6 });
    const t3 = new Conv3DTranspose(2, [2, 3, 2], { dilationRate: 2, padding: 'same' });
    const [w3, b3] = await randomized(t3, x3);
    const g3 = { K: [2, 3, 2], strides: [1, 1, 1], dilations: [2, 2, 2], padding: 'same', out: [2, 3, 2] };
    expectClose(await run(t3, x3), convTransposeLoop(await arrOf(x3), w3, g3, null, Array.from(b3.data)), tol);
  });

  it('DepthwiseConv1D and DepthwiseConv2D: output channel c·multiplier + m', async () => {
    const x1 = kiln.random.normal([2, 6, 3], { seed: 7 });
    const d1 = new DepthwiseConv1D(3, { depthMultiplier: 2, padding: 'same', activation: 'tanh' });
    const [w1, b1] = await randomized(d1, x1);
    const want1 = convLoop(await arrOf(x1), { K: [3], strides: [1], dilations: [1], padding: 'same', out: [6] }, 6, depthwise(w1), Array.from(b1.data));
    want1.data.forEach((v, i) => (want1.data[i] = Math.tanh(v)));
    expectClose(await run(d1, x1), want1, tol);

    const x2 = kiln.random.normal([2, 5, 6, 2], { seed: 8 });
    const d2 = new DepthwiseConv2D([2, 3], { depthMultiplier: 3, strides: 2, dataFormat: 'channelsFirst' });
    const [w2, b2] = await randomized(d2, x2, true);
    const g = { K: [2, 3], strides: [2, 2], dilations: [1, 1], padding: 'valid', out: [2, 2] };
    expectClose(await run(d2, x2, true), convLoop(await arrOf(x2), g, 6, depthwise(w2), Array.from(b2.data)), tol);
  });

  it('SeparableConv1D and SeparableConv2D: depthwise, then pointwise with the bias', async () => {
    for (const [cls, shape, K, out] of [[SeparableConv1D, [2, 6, 3], [3], [6]], [SeparableConv2D, [1, 5, 4, 3], [3, 2], [5, 4]]] as const) {
      const x = kiln.random.normal([...shape], { seed: 9 });
      const layer = new cls(4, [...K], { depthMultiplier: 2, padding: 'same' });
      const [dw, pw, bias] = await randomized(layer, x);
      const ones = K.map(() => 1);
      const hidden = convLoop(await arrOf(x), { K: [...K], strides: ones, dilations: ones, padding: 'same', out: [...out] }, 6, depthwise(dw), null);
      const want = convLoop(hidden, { K: ones, strides: ones, dilations: ones, padding: 'valid', out: [...out] }, 4, grouped(pw, 1), Array.from(bias.data));
      expectClose(await run(layer, x), want, tol);
    }
  });
});

/** Layers of every kind on small inputs, for the cross-backend gradient check. */
const GRADIENT_CASES: [string, () => kiln.Layer, number[]][] = [
  ['Conv1D causal, relu', () => new Conv1D(3, 3, { padding: 'causal', dilationRate: 2, activation: 'relu' }), [2, 7, 2]],
  ['Conv2D same, strided, grouped, tanh', () => new Conv2D(4, 3, { strides: 2, padding: 'same', groups: 2, activation: 'tanh' }), [2, 6, 5, 4]],
  ['Conv3D channelsFirst, sigmoid', () => new Conv3D(2, 2, { dataFormat: 'channelsFirst', activation: 'sigmoid' }), [1, 2, 3, 3, 3]],
  ['Conv2DTranspose same, strides 2', () => new Conv2DTranspose(3, 3, { strides: 2, padding: 'same' }), [2, 3, 3, 2]],
  ['DepthwiseConv2D multiplier 2, elu', () => new DepthwiseConv2D(2, { depthMultiplier: 2, activation: 'elu' }), [2, 4, 4, 3]],
  ['SeparableConv1D same', () => new SeparableConv1D(3, 3, { padding: 'same', depthMultiplier: 2 }), [2, 6, 2]],
];

/** The layer's output and the gradients of sum(y · r) for its input and weights, on the current backend. */
async function gradients(make: () => kiln.Layer, x: Arr, weights: Arr[] | null): Promise<{ y: Arr; grads: Arr[]; weights: Arr[] }> {
  const layer = make();
  const input = kiln.tensor(Float32Array.from(x.data), x.shape);
  const built = weights ?? (await randomized(layer, input));
  layer.apply(input);
  layer.setWeights(built.map((w) => kiln.tensor(Float32Array.from(w.data), w.shape)));
  const y0 = layer.apply(input) as kiln.Tensor;
  const r = kiln.tensor(Float32Array.from({ length: y0.size }, (_, i) => Math.sin(i + 1)), [...y0.shape]);
  const tape = new kiln.GradientTape();
  const loss = tape.record(() => kiln.ops.sum(kiln.ops.multiply(layer.apply(input) as kiln.Tensor, r)));
  const grads = tape.gradient(loss, [input, ...layer.trainableWeights]);
  return { y: await arrOf(y0), grads: await Promise.all(grads.map((g) => arrOf(g!))), weights: built };
}

describe.each(AVAILABLE.filter((b) => b !== 'reference'))('outputs and gradients on %s agree with reference', (backend) => {
  afterAll(() => kiln.setBackend('reference'));
  for (const [label, make, shape] of GRADIENT_CASES) {
    it(label, async () => {
      await kiln.setBackend('reference');
      const x = await arrOf(kiln.random.normal(shape, { seed: 5 }));
      const want = await gradients(make, x, null);
      await kiln.setBackend(backend);
      const got = await gradients(make, x, want.weights);
      expectClose(got.y, want.y, 1e-5);
      got.grads.forEach((g, i) => expectClose(g, want.grads[i], 1e-4));
    });
  }
});

describe.each(AVAILABLE)('hand-computed cases on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));

  it('Conv1D: [1, 2, 3, 4] with [1, 10] is [21, 32, 43]; causal pads the past with zeros', () => {
    const x = kiln.tensor([1, 2, 3, 4], [1, 4, 1]);
    const conv = new Conv1D(1, 2, { useBias: false });
    conv.apply(x);
    conv.setWeights([kiln.tensor([1, 10], [2, 1, 1])]);
    expect(values(conv.apply(x))).toEqual([21, 32, 43]);
    const causal = new Conv1D(1, 2, { padding: 'causal', useBias: false });
    causal.apply(x);
    causal.setWeights([kiln.tensor([1, 10], [2, 1, 1])]);
    expect(values(causal.apply(x))).toEqual([10, 21, 32, 43]);
  });

  it("Conv1DTranspose: stride 2 spreads each input over its window; 'same' keeps size·stride", () => {
    const x = kiln.tensor([1, 2, 3], [1, 3, 1]);
    const valid = new Conv1DTranspose(1, 2, { strides: 2, useBias: false });
    valid.apply(x);
    valid.setWeights([kiln.tensor([1, 10], [2, 1, 1])]);
    expect(values(valid.apply(x))).toEqual([1, 10, 2, 20, 3, 30]);
    // window 3, stride 2: out[2i + k] += x[i]·w[k], cropped to 2·2 outputs
    const same = new Conv1DTranspose(1, 3, { strides: 2, padding: 'same', useBias: false });
    const x2 = kiln.tensor([1, 2], [1, 2, 1]);
    same.apply(x2);
    same.setWeights([kiln.tensor([1, 10, 100], [3, 1, 1])]);
    expect(values(same.apply(x2))).toEqual([1, 10, 102, 20]);
  });

  it('DepthwiseConv2D with a 1×1 kernel scales each channel by its multipliers', () => {
    const layer = new DepthwiseConv2D(1, { depthMultiplier: 2, biasInitializer: 'ones' });
    const x = kiln.tensor([1, 2], [1, 1, 1, 2]);
    layer.apply(x);
    layer.setWeights([kiln.tensor([3, 4, 5, 6], [1, 1, 2, 2]), kiln.tensor([0, 0, 0, 1])]);
    expect(values(layer.apply(x))).toEqual([3, 4, 10, 13]);
  });
});

describe('configs, saving and shapes known only at run time', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-conv-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("saves Keras's config keys in camelCase, its tuples as lists", () => {
    expect(new Conv2D(8, 3, { name: 'c', kernelRegularizer: 'l2' }).getConfig()).toEqual({
      name: 'c', trainable: true, dtype: 'float32',
      filters: 8, kernelSize: [3, 3], strides: [1, 1], padding: 'valid', dataFormat: 'channelsLast', dilationRate: [1, 1], groups: 1,
      activation: 'linear', useBias: true,
      kernelInitializer: expect.objectContaining({ className: 'GlorotUniform' }), biasInitializer: expect.objectContaining({ className: 'Zeros' }),
      kernelRegularizer: expect.objectContaining({ className: 'L2' }), biasRegularizer: null, activityRegularizer: null,
      kernelConstraint: null, biasConstraint: null,
    });
    expect(new Conv2DTranspose(2, [2, 3], { outputPadding: [1, 0], strides: 2 }).getConfig()).toMatchObject({ filters: 2, kernelSize: [2, 3], outputPadding: [1, 0] });
    expect(new Conv1DTranspose(2, 3).getConfig().outputPadding).toBeNull();
    expect(new DepthwiseConv2D(3, { depthMultiplier: 2 }).getConfig()).toMatchObject({
      depthMultiplier: 2, depthwiseInitializer: { className: 'GlorotUniform' }, depthwiseRegularizer: null, depthwiseConstraint: null,
    });
    expect(new SeparableConv1D(4, 3, { pointwiseConstraint: 'non_neg' }).getConfig()).toMatchObject({
      filters: 4, depthMultiplier: 1, depthwiseInitializer: { className: 'GlorotUniform' }, pointwiseInitializer: { className: 'GlorotUniform' },
      pointwiseConstraint: { className: 'NonNeg' },
    });
    // Keras's own spellings load as they are
    expect(new Conv1D(1, 2, { dataFormat: 'channels_first' as never, padding: 'CAUSAL' as never }).getConfig()).toMatchObject({ dataFormat: 'channelsFirst', padding: 'causal' });
  });

  it('saves and loads a model of every kind, with the same predictions', async () => {
    const model = new kiln.Sequential([
      Input({ shape: [12, 10, 3] }),
      new Conv2D(4, 3, { padding: 'same', activation: 'relu', groups: 1 }),
      new DepthwiseConv2D(3, { depthMultiplier: 2 }),
      new SeparableConv2D(4, 2, { strides: 2, activation: 'tanh' }),
      new Conv2DTranspose(2, 3, { strides: 2, dataFormat: 'channelsLast' }),
      new Conv2D(2, 1, { dataFormat: 'channelsFirst' }),
    ]);
    const path = join(dir, 'cnn.kiln');
    await saveModel(model, path);
    const loaded = await kiln.loadModel(path);
    expect(loaded.layers.map((l) => l.className)).toEqual(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'Conv2D']);
    const x = kiln.random.normal([3, 12, 10, 3], { seed: 4 });
    expect(values(loaded.predictOnBatch(x))).toEqual(values(model.predictOnBatch(x)));
  });

  it('runs a Functional model whose spatial sizes are known only at run time', () => {
    const input = Input({ shape: [null, null, 3] });
    const hidden = new Conv2D(4, 3, { padding: 'same', strides: 2 }).apply(input);
    const out = new Conv2DTranspose(2, 3, { strides: 2 }).apply(hidden);
    expect([...out.shape]).toEqual([null, null, null, 2]);
    const model = new kiln.Model({ inputs: input, outputs: out });
    // same, stride 2: ceil(9 / 2) = 5, ceil(7 / 2) = 4; valid transpose: (n - 1)·2 + 3
    expect([...(model.predictOnBatch(kiln.zeros([2, 9, 7, 3])) as kiln.Tensor).shape]).toEqual([2, 11, 9, 2]);
    const seq = Input({ shape: [null, 2] });
    expect([...new Conv1D(3, 4, { padding: 'causal' }).apply(seq).shape]).toEqual([null, null, 3]);
  });

  it('adds its weight and activity penalties, and applies its constraints', () => {
    const layer = new Conv1D(2, 2, { kernelRegularizer: { className: 'L2', config: { l2: 0.5 } }, activityRegularizer: 'l1', kernelConstraint: 'non_neg', kernelInitializer: 'ones' });
    layer.apply(kiln.ones([2, 3, 1]));
    // 0.5 · Σ 1² over 4 kernel elements; the activity's L1 (0.01 · Σ|y| = 0.01 · 8 · 2) over the batch of 2
    expect(layer.losses.map((l) => l.dataSync()[0])).toEqual([2, expect.closeTo(0.08, 6)]);
    layer.kernel!.assign(kiln.tensor([-1, 2, 3, -4], [2, 1, 2]));
    const [[constrained, constraint]] = layer.constrainedWeights();
    expect(constrained).toBe(layer.kernel);
    constrained.assign(constraint(constrained.value));
    expect(values(layer.kernel!.value)).toEqual([0, 2, 3, 0]);
  });
});

describe('bad options and inputs: errors name the layer, the option and what it got', () => {
  it('refuses bad options when made', () => {
    expect(() => new Conv2D(3, 3, { groups: 2, name: 'c' })).toThrow("Conv2D 'c': filters must be a multiple of groups, got filters 3 and groups 2");
    expect(() => new Conv2D(0, 3, { name: 'c' })).toThrow("Conv2D 'c': filters must be a positive integer, got 0");
    expect(() => new Conv2D(2.5, 3, { name: 'c' })).toThrow('filters must be a positive integer, got 2.5');
    expect(() => new Conv2D(2, 3, { groups: 0, name: 'c' })).toThrow('groups must be a positive integer, got 0');
    expect(() => new Conv2D(2, [3], { name: 'c' })).toThrow("Conv2D 'c': kernelSize must be an integer >= 1 or a list of 2 of them");
    expect(() => new Conv2D(2, 0, { name: 'c' })).toThrow("Conv2D 'c': kernelSize must be an integer >= 1");
    expect(() => new Conv2D(2, 3, { strides: 0, name: 'c' })).toThrow("Conv2D 'c': strides must be an integer >= 1");
    expect(() => new Conv3D(2, 3, { dilationRate: [1, -1, 1], name: 'c' })).toThrow("Conv3D 'c': dilationRate must be an integer >= 1");
    expect(() => new Conv2D(2, 3, { padding: 'causal', name: 'c' })).toThrow(`Conv2D 'c': padding must be 'valid' or 'same', got "causal"`);
    expect(() => new Conv1D(2, 3, { padding: 'full' as never, name: 'c' })).toThrow("padding must be 'valid' or 'same' or 'causal'");
    expect(() => new Conv2D(2, 3, { dataFormat: 'nhwc' as never, name: 'c' })).toThrow(`Conv2D 'c': dataFormat must be 'channelsLast' or 'channelsFirst', got "nhwc"`);
    expect(() => new DepthwiseConv2D(3, { depthMultiplier: 0, name: 'd' })).toThrow("DepthwiseConv2D 'd': depthMultiplier must be a positive integer, got 0");
    expect(() => new Conv2D(2, 3, { kernelInitializer: 'glorot_unifrom' })).toThrow(/glorot_unifrom/);
    expect(() => new SeparableConv2D(2, 3, { pointwiseRegularizer: 'l3' })).toThrow(/l3/);
  });

  it('refuses strides > 1 with dilation > 1 where Keras does (Conv, ConvTranspose), and outputPadding >= strides', () => {
    expect(() => new Conv2D(2, 3, { strides: [2, 1], dilationRate: [1, 2], name: 'c' }))
      .toThrow("Conv2D 'c': strides > 1 is not supported together with dilationRate > 1, got strides [2,1] and dilationRate [1,2]");
    expect(() => new Conv1DTranspose(2, 3, { strides: 2, dilationRate: 2, name: 't' })).toThrow("Conv1DTranspose 't': strides > 1 is not supported together with dilationRate > 1");
    expect(() => new Conv2DTranspose(2, 3, { strides: 2, outputPadding: [1, 2], name: 't' }))
      .toThrow("Conv2DTranspose 't': outputPadding must be less than strides on every axis, got outputPadding [1,2] and strides [2,2] (axis 1)");
    expect(() => new Conv2DTranspose(2, 3, { outputPadding: -1, name: 't' })).toThrow("Conv2DTranspose 't': outputPadding must be an integer >= 0");
    // as Keras's BaseDepthwiseConv, which leaves it to the backend (JAX and PyTorch run it)
    const dw = new DepthwiseConv1D(2, { strides: 2, dilationRate: 2 });
    expect([...(dw.apply(kiln.zeros([1, 7, 1])) as kiln.Tensor).shape]).toEqual([1, 3, 1]);
  });

  it('refuses inputs of the wrong rank or channels, and kernels that do not fit', () => {
    const conv = new Conv2D(4, 3, { name: 'c' });
    expect(() => conv.apply(kiln.zeros([2, 5, 3]))).toThrow("Conv2D 'c': expects inputs of rank 4 ([batch, height, width, channels]), got shape [2,5,3]");
    conv.apply(kiln.zeros([1, 5, 5, 3]));
    expect(() => conv.apply(kiln.zeros([1, 5, 5, 4]))).toThrow("Conv2D 'c': was built for 3 input channels, got shape [1,5,5,4] with 4 on axis 3");
    expect(() => conv.apply(kiln.zeros([1, 2, 5, 3]))).toThrow("Conv2D 'c': kernelSize [3,3] with dilationRate [1,1] does not fit in inputs of shape [1,2,5,3] with padding 'valid': spatial axis 0 would give 0 outputs");
    expect(() => new Conv1D(1, 3, { dilationRate: 3, name: 'c1' }).apply(kiln.zeros([1, 6, 1]))).toThrow("Conv1D 'c1': kernelSize [3] with dilationRate [3] does not fit in inputs of shape [1,6,1]");
    expect(() => new Conv2D(4, 3, { groups: 2, name: 'g' }).apply(kiln.zeros([1, 5, 5, 3]))).toThrow("Conv2D 'g': the input's 3 channels must be a multiple of groups (2)");
    expect(() => new Conv2D(4, 3, { dataFormat: 'channelsFirst', name: 'f' }).apply(kiln.zeros([1, 5, 5]))).toThrow("Conv2D 'f': expects inputs of rank 4 ([batch, channels, height, width]), got shape [1,5,5]");
    expect(() => new Conv3DTranspose(1, 2, { name: 't' }).apply(Input({ shape: [4, 4, 4, null] }) as never)).toThrow("Conv3DTranspose 't': needs a known number of channels (axis 4), got shape [null,4,4,4,null]");
    const sep = new SeparableConv1D(2, 3, { name: 's' });
    sep.apply(kiln.zeros([1, 5, 2]));
    expect(() => sep.apply(kiln.zeros([1, 5, 3]))).toThrow("SeparableConv1D 's': was built for 2 input channels, got shape [1,5,3] with 3 on axis 2");
    const dw = new DepthwiseConv2D(2, { dataFormat: 'channelsFirst', name: 'd' });
    dw.apply(kiln.zeros([1, 2, 3, 3]));
    expect(() => dw.apply(kiln.zeros([1, 3, 3, 3]))).toThrow("DepthwiseConv2D 'd': was built for 2 input channels, got shape [1,3,3,3] with 3 on axis 1");
    const up = new Conv2DTranspose(2, 2, { name: 'u' });
    up.apply(kiln.zeros([1, 2, 2, 5]));
    expect(() => up.apply(kiln.zeros([1, 2, 2, 4]))).toThrow("Conv2DTranspose 'u': was built for 5 input channels");
  });
});
