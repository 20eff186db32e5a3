/**
 * kiln.ops' convolutions (conv, convTranspose, depthwiseConv, separableConv) on every backend:
 * values against the definitions written as loops in conv-oracle.ts, through Keras's padding
 * and output-size rules written out below; float64 finite-difference gradients of every input;
 * the fused kernel and the composition giving the same values and gradients; shapes on
 * symbolic inputs; errors; and the ONNX project's Conv and ConvTranspose node cases.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import * as kiln from '../../index.js';
import type { DType, Tensor } from '../../index.js';
import { convWithBias, convTransposeWithBias, depthwiseConvWithBias, separableConvWithBias } from '../../src/ops/conv.js';
import { onnx } from '../../onnx/proto.js';
import { check, close, describeBackends, expectClose, group } from './harness.js';
import {
  channelsFirstOf, convRef, outShapeOf, prod, ravel, samePads, unravel, values, type ConvGeometryRef,
} from './conv-oracle.js';

const { ops } = kiln;

type Act = 'linear' | 'relu' | 'sigmoid' | 'tanh';
const ACT: Record<Act, (z: number) => number> = {
  linear: (z) => z,
  relu: (z) => (z <= 0 ? 0 : z),
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  tanh: Math.tanh,
};

interface Opts {
  strides?: number | number[];
  padding?: 'valid' | 'same' | 'causal';
  dilationRate?: number | number[];
  dataFormat?: 'channelsLast' | 'channelsFirst';
}

const perAxis = (v: number | number[] | undefined, d: number) => (Array.isArray(v) ? v : new Array<number>(d).fill(v ?? 1));

/** The oracle's geometry for conv's options, by Keras's rules: x and w channels last. */
function geometry(xShape: number[], wShape: number[], o: Opts): ConvGeometryRef {
  const d = xShape.length - 2;
  const strides = perAxis(o.strides, d);
  const dilations = perAxis(o.dilationRate, d);
  const pads = xShape.slice(1, d + 1).map((s, i): [number, number] => {
    const window = (wShape[i] - 1) * dilations[i] + 1;
    if (o.padding === 'same') return samePads(s, wShape[i], strides[i], dilations[i]);
    return o.padding === 'causal' ? [window - 1, 0] : [0, 0];
  });
  const outSpatial = xShape.slice(1, d + 1).map((s, i) =>
    Math.floor((s + pads[i][0] + pads[i][1] - (wShape[i] - 1) * dilations[i] - 1) / strides[i]) + 1);
  return { xShape, wShape, strides, dilations, padsBefore: pads.map((p) => p[0]), outSpatial, groups: xShape[d + 1] / wShape[d] };
}

/** A case's inputs in `dtype`, as the dtype stores them. */
function stored(vs: number[], dtype: DType): number[] {
  return dtype === 'float32' ? vs.map(Math.fround) : vs;
}

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  opts?: Opts;
}

/** conv's cases, channels last: ranks 1 to 3, strides, dilation, padding, groups, edge sizes. */
const CONV_CASES: readonly ConvCase[] = [
  { name: '1D valid', x: [2, 7, 3], w: [3, 3, 4] },
  { name: '1D strides 2, odd size', x: [2, 7, 3], w: [3, 3, 4], opts: { strides: 2 } },
  { name: '1D dilation 2', x: [1, 9, 2], w: [3, 2, 3], opts: { dilationRate: 2 } },
  { name: '1D same, strides 2', x: [2, 7, 3], w: [4, 3, 2], opts: { padding: 'same', strides: 2 } },
  { name: '1D same, even kernel (odd pad after)', x: [1, 6, 1], w: [2, 1, 1], opts: { padding: 'same' } },
  { name: '1D strides 3 and dilation 2 together', x: [1, 11, 2], w: [2, 2, 2], opts: { strides: 3, dilationRate: 2 } },
  { name: '2D valid', x: [2, 6, 5, 4], w: [3, 2, 4, 6] },
  { name: '2D 2 groups', x: [2, 6, 5, 4], w: [3, 3, 2, 6] },
  { name: '2D 4 groups (one channel each)', x: [1, 5, 5, 4], w: [2, 2, 1, 8] },
  { name: '2D same, strides [2, 3]', x: [2, 7, 8, 3], w: [3, 3, 3, 5], opts: { padding: 'same', strides: [2, 3] } },
  { name: '2D dilation [2, 1], same', x: [1, 7, 6, 2], w: [3, 3, 2, 3], opts: { padding: 'same', dilationRate: [2, 1] } },
  { name: '2D 1x1 kernel', x: [3, 4, 5, 6], w: [1, 1, 6, 7] },
  { name: '2D 1x1 kernel, strides 2', x: [1, 5, 5, 2], w: [1, 1, 2, 3], opts: { strides: 2 } },
  { name: '2D kernel as large as the input', x: [2, 4, 3, 2], w: [4, 3, 2, 5] },
  { name: '2D kernel larger than the input, same', x: [1, 3, 2, 2], w: [5, 4, 2, 3], opts: { padding: 'same' } },
  { name: '2D strides larger than the kernel', x: [1, 9, 9, 1], w: [2, 2, 1, 2], opts: { strides: 4 } },
  { name: '2D 65 channels, 33 filters', x: [1, 3, 3, 65], w: [2, 2, 65, 33] },
  { name: '3D valid', x: [1, 4, 5, 3, 2], w: [2, 3, 2, 2, 3] },
  { name: '3D same, strides 2, 2 groups', x: [2, 5, 4, 3, 4], w: [3, 2, 2, 2, 4], opts: { padding: 'same', strides: 2 } },
];

/** Runs conv on `c` (converting to channels-first when asked) and compares with the oracle. */
function checkConv(c: ConvCase, dtype: DType, channelsFirst: boolean): Promise<void> {
  const x = stored(values(prod(c.x), prod(c.x), -2, 2), dtype);
  const w = stored(values(prod(c.w), prod(c.w) + 1), dtype);
  const g = geometry(c.x, c.w, c.opts ?? {});
  const want = convRef(x, w, null, g);
  const outShape = outShapeOf(g);
  const xShape = channelsFirst ? [c.x[0], c.x.at(-1)!, ...c.x.slice(1, -1)] : c.x;
  return expectOp(
    () => ops.conv(
      kiln.tensor(channelsFirst ? channelsFirstOf(x, c.x) : x, xShape, dtype), kiln.tensor(w, c.w, dtype),
      { ...c.opts, padding: c.opts?.padding as 'valid' | 'same' | undefined, dataFormat: channelsFirst ? 'channelsFirst' : 'channelsLast' },
    ),
    channelsFirst ? channelsFirstOf(want, outShape) : want,
    channelsFirst ? [outShape[0], outShape.at(-1)!, ...outShape.slice(1, -1)] : outShape,
    dtype,
  );
}

/** Runs `make` in tidy and compares with the expected values (reduction tolerance), leaving no tensor behind. */
async function expectOp(make: () => Tensor, want: number[], shape: number[], dtype: DType): Promise<void> {
  const before = kiln.memory().numTensors;
  const y = kiln.tidy(make);
  try {
    await expectClose(y, Float64Array.from(want), { shape, dtype, kind: 'reduction' });
  } finally {
    y.dispose();
  }
  expect(kiln.memory().numTensors, 'tensors left behind').toBe(before);
}

// ---------------------------------------------------------------------------------------------
// convTranspose by its definition: every input element scatters x·w over the kernel's span

interface TransposeOpts {
  strides?: number | number[];
  padding?: 'valid' | 'same';
  dilationRate?: number | number[];
  outputPadding?: number | number[];
}

/**
 * conv_transpose as Keras defines it: y[j] gets x[i]·w[k] where j = i·s + k·d - crop, over an
 * output of (S - 1)·s + window + outputPadding ('valid', outputPadding inferred as
 * max(window, s) - window) or S·s ('same'), crop being what Keras's padding rule trims.
 */
function convTransposeRef(x: number[], xShape: number[], w: number[], wShape: number[], o: TransposeOpts) {
  const d = xShape.length - 2;
  const [strides, dilations] = [perAxis(o.strides, d), perAxis(o.dilationRate, d)];
  const given = o.outputPadding === undefined ? undefined : perAxis(o.outputPadding, d);
  const axes = xShape.slice(1, d + 1).map((S, i) => {
    const [s, window] = [strides[i], (wShape[i] - 1) * dilations[i] + 1];
    const op = given?.[i];
    if ((o.padding ?? 'valid') === 'valid') return { size: (S - 1) * s + window + (op ?? Math.max(window, s) - window), crop: 0 };
    const total = op === undefined ? s + window - 2 : window + (window % 2) - 2 + op;
    return { size: op === undefined ? S * s : (S - 1) * s + (window % 2) + op, crop: window - 1 - Math.min(Math.ceil(total / 2), window - 1) };
  });
  const [C, F] = [xShape[d + 1], wShape[d]];
  const outShape = [xShape[0], ...axes.map((a) => a.size), F];
  const out = new Array<number>(prod(outShape)).fill(0);
  const K = wShape.slice(0, d);
  for (let at = 0; at < x.length; at++) {
    const [n, ...rest] = unravel(at, xShape);
    const c = rest.pop()!;
    for (let kAt = 0; kAt < prod(K); kAt++) {
      const k = unravel(kAt, K);
      const j = rest.map((i, a) => i * strides[a] + k[a] * dilations[a] - axes[a].crop);
      if (j.some((ja, a) => ja < 0 || ja >= axes[a].size)) continue;
      for (let f = 0; f < F; f++) out[ravel([n, ...j, f], outShape)] += x[at] * w[ravel([...k, f, c], wShape)];
    }
  }
  expect(C).toBe(wShape[d + 1]);
  return { out, outShape };
}

const TRANSPOSE_CASES: readonly { name: string; x: number[]; w: number[]; opts?: TransposeOpts }[] = [
  { name: '1D valid', x: [2, 5, 3], w: [3, 4, 3] },
  { name: '1D strides 2', x: [1, 5, 2], w: [3, 2, 2], opts: { strides: 2 } },
  { name: '1D strides larger than the kernel (inferred outputPadding)', x: [1, 4, 1], w: [2, 1, 1], opts: { strides: 3 } },
  { name: '1D same, strides 2', x: [2, 5, 3], w: [3, 2, 3], opts: { padding: 'same', strides: 2 } },
  { name: '1D same, even kernel', x: [1, 4, 2], w: [4, 3, 2], opts: { padding: 'same', strides: 3 } },
  { name: '1D dilation 2', x: [1, 4, 2], w: [3, 2, 2], opts: { dilationRate: 2 } },
  { name: '2D strides [3, 2], outputPadding 1', x: [1, 3, 3, 2], w: [3, 3, 2, 2], opts: { strides: [3, 2], outputPadding: 1 } },
  { name: '2D same, strides 2, outputPadding [1, 0]', x: [2, 3, 4, 2], w: [3, 2, 3, 2], opts: { padding: 'same', strides: 2, outputPadding: [1, 0] } },
  { name: '2D 1x1 kernel, strides 2', x: [1, 3, 2, 3], w: [1, 1, 2, 3], opts: { strides: 2 } },
  { name: '3D strides 2', x: [1, 2, 3, 2, 2], w: [2, 2, 3, 2, 2], opts: { strides: 2 } },
];

/** depthwiseConv by its definition: channel c's multiplier m is filter c·M + m of a convolution with one group per channel. */
function depthwiseRef(x: number[], xShape: number[], w: number[], wShape: number[], o: Opts) {
  const d = xShape.length - 2;
  const grouped = [...wShape.slice(0, d), 1, wShape[d] * wShape[d + 1]];
  const g = geometry(xShape, grouped, o);
  return { out: convRef(x, w, null, g), outShape: outShapeOf(g) };
}

// ---------------------------------------------------------------------------------------------
// Gradients

/** Σ f(...xs) · r for fixed weights r: a scalar whose gradient is f's vector-Jacobian product. */
function weightedSum(f: (...xs: Tensor[]) => Tensor, seed: number) {
  return (...xs: Tensor[]) => {
    const y = f(...xs);
    return ops.sum(ops.multiply(y, kiln.tensor(values(y.size, seed, -1, 1), y.shape as number[], y.dtype)));
  };
}

/** Autodiff's gradients of every input against float64 central differences, with fused kernels on or off. */
async function checkGradients(f: (...xs: Tensor[]) => Tensor, shapes: number[][], seed: number): Promise<void> {
  const loss = weightedSum(f, seed);
  const inputs = shapes.map((s, k) => values(prod(s), seed + k + 1, -1.5, 1.5));
  const at = (vs: number[][]) => kiln.tidy(() => loss(...vs.map((v, k) => kiln.tensor(v, shapes[k], 'float64'))).dataSync()[0]);
  const xs = inputs.map((v, k) => kiln.tensor(v, shapes[k], 'float64'));
  const analytic = kiln.grad(loss)(...xs);
  const grads = (xs.length === 1 ? [analytic] : analytic) as Tensor[];
  const eps = 1e-6;
  for (let k = 0; k < xs.length; k++) {
    const got = grads[k].dataSync();
    for (let i = 0; i < inputs[k].length; i++) {
      const plus = inputs.map((v) => v.slice());
      const minus = inputs.map((v) => v.slice());
      plus[k][i] += eps;
      minus[k][i] -= eps;
      const want = (at(plus) - at(minus)) / (2 * eps);
      if (!close(got[i], want, 1e-6, 1e-8)) throw new Error(`input ${k} [${shapes[k]}] element ${i}: autodiff ${got[i]}, finite differences ${want}`);
    }
  }
  kiln.dispose([...xs, ...grads]);
}

/** Values and gradients of `f` at seeded inputs, with fused kernels on and then off: they must agree. */
async function checkSamePaths(f: (...xs: Tensor[]) => Tensor, shapes: number[][], dtype: DType, seed: number): Promise<void> {
  const run = async (fused: boolean) => {
    kiln.setFusedKernels(fused);
    let outs: Tensor[];
    try {
      outs = kiln.tidy(() => {
        const xs = shapes.map((s, k) => kiln.tensor(values(prod(s), seed + k, -1.5, 1.5), s, dtype));
        const tape = new kiln.GradientTape();
        const [y, loss] = tape.record(() => {
          const out = f(...xs);
          return [out, weightedSum((t) => t, seed + 9)(out)];
        });
        return [y, ...(tape.gradient(loss, xs) as Tensor[])];
      });
    } finally {
      kiln.setFusedKernels(true);
    }
    // read after the tidy: a backend that reads asynchronously (webgpu) has no dataSync
    const read = await Promise.all(outs.map(async (t) => Array.from(await t.data())));
    kiln.dispose(outs);
    return read;
  };
  const [on, off] = [await run(true), await run(false)];
  const [rtol, atol] = dtype === 'float64' ? [1e-12, 1e-12] : [1e-4, 1e-5];
  on.forEach((vs, k) => vs.forEach((v, i) => {
    if (!close(v, off[k][i], rtol, atol)) throw new Error(`${k === 0 ? 'value' : `gradient ${k - 1}`} [${i}]: fused ${v}, composed ${off[k][i]}`);
  }));
}

// ---------------------------------------------------------------------------------------------
// ONNX node cases: NCHW inputs, OIHW (Conv) or IOHW (ConvTranspose) weights

const ONNX = fileURLToPath(new URL('../../../shared/onnx-node-tests/cases', import.meta.url));
const HAS_ONNX_CASES = existsSync(ONNX);
if (!HAS_ONNX_CASES) console.log(`conformance: ${ONNX} not found (../shared is beside the repository): the ONNX Conv and ConvTranspose node cases did not run`);

function readTensor(file: string): { values: number[]; shape: number[] } {
  const t = onnx.TensorProto.decode(readFileSync(file));
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const vs = raw ? Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))) : Array.from(t.floatData ?? []);
  return { values: vs, shape: (t.dims ?? []).map(Number) };
}

/** Each case's op as kiln writes it; explicit pads are an ops.pad before a 'valid' conv. */
const ONNX_CASES: readonly { name: string; run(x: Tensor, w: Tensor): Tensor }[] = [
  { name: 'test_basic_conv_with_padding', run: (x, w) => ops.conv(x, w, { padding: 'same', dataFormat: 'channelsFirst' }) },
  { name: 'test_basic_conv_without_padding', run: (x, w) => ops.conv(x, w, { dataFormat: 'channelsFirst' }) },
  {
    name: 'test_conv_with_strides_and_asymmetric_padding',
    run: (x, w) => ops.conv(ops.pad(x, [[0, 0], [0, 0], [1, 1], [0, 0]]), w, { strides: 2, dataFormat: 'channelsFirst' }),
  },
  { name: 'test_conv_with_strides_no_padding', run: (x, w) => ops.conv(x, w, { strides: 2, dataFormat: 'channelsFirst' }) },
  { name: 'test_convtranspose', run: (x, w) => ops.convTranspose(x, w, { dataFormat: 'channelsFirst' }) },
  { name: 'test_convtranspose_1d', run: (x, w) => ops.convTranspose(x, w, { dataFormat: 'channelsFirst' }) },
  { name: 'test_convtranspose_3d', run: (x, w) => ops.convTranspose(x, w, { dataFormat: 'channelsFirst' }) },
  // SAME_UPPER trims the odd element at the end, as Keras's 'same' does
  { name: 'test_convtranspose_autopad_same', run: (x, w) => ops.convTranspose(x, w, { strides: 2, padding: 'same', dataFormat: 'channelsFirst' }) },
  { name: 'test_convtranspose_dilations', run: (x, w) => ops.convTranspose(x, w, { dilationRate: 2, dataFormat: 'channelsFirst' }) },
  { name: 'test_convtranspose_kernel_shape', run: (x, w) => ops.convTranspose(x, w, { strides: [3, 2], outputPadding: 1, dataFormat: 'channelsFirst' }) },
  // output_shape [10, 8] is one more than the 'valid' size on each axis: outputPadding 1
  { name: 'test_convtranspose_output_shape', run: (x, w) => ops.convTranspose(x, w, { strides: [3, 2], outputPadding: 1, dataFormat: 'channelsFirst' }) },
  { name: 'test_convtranspose_pad', run: (x, w) => ops.convTranspose(x, w, { strides: [3, 2], outputPadding: [1, 1], dataFormat: 'channelsFirst' }) },
];

// ---------------------------------------------------------------------------------------------

describeBackends('conv', () => {
  group('conv', () => {
    for (const c of CONV_CASES) check(`float32 ${c.name} [${c.x}] * [${c.w}]`, () => checkConv(c, 'float32', false));
    for (const c of CONV_CASES.filter((_, i) => i % 3 === 0)) {
      check(`float64 ${c.name}`, () => checkConv(c, 'float64', false), { requires: ['float64'] });
    }
    for (const c of CONV_CASES.filter((_, i) => i % 2 === 1)) check(`channelsFirst ${c.name}`, () => checkConv(c, 'float32', true));
    check('int32 (composed on every backend) is exact', () => {
      const x = [3, -1, 4, 1, -5, 9, 2, -6];
      const w = [2, -3, 1, 1];
      const g = geometry([1, 4, 2], [2, 2, 1], {});
      return expectOp(() => ops.conv(kiln.tensor(x, [1, 4, 2], 'int32'), kiln.tensor(w, [2, 2, 1], 'int32')), convRef(x, w, null, g), [1, 3, 1], 'int32');
    });
    check('NaN, infinities, zeros and negatives reach only the outputs that read them', () => {
      const x = [NaN, 1, -2, 0, Infinity, 3, -0, -4];
      const w = [0.5, -1, 2];
      return expectOp(() => ops.conv(kiln.tensor(x, [1, 8, 1]), kiln.tensor(w, [3, 1, 1]), { padding: 'same' }),
        convRef(x, w, null, geometry([1, 8, 1], [3, 1, 1], { padding: 'same' })), [1, 8, 1], 'float32');
    });
    check('an empty batch gives an empty output', () => expectOp(
      () => ops.conv(kiln.zeros([0, 5, 2]), kiln.ones([3, 2, 4])), [], [0, 3, 4], 'float32'));
    check('causal padding (Conv1D) pads the whole window before', () => {
      const x = values(14, 3);
      const w = values(6, 4);
      const g = geometry([1, 7, 2], [3, 2, 1], { padding: 'causal', dilationRate: 2 });
      return expectOp(() => convWithBias(kiln.tensor(x, [1, 7, 2]), kiln.tensor(w, [3, 2, 1]), { padding: 'causal', dilationRate: 2 }),
        convRef(stored(x, 'float32'), stored(w, 'float32'), null, g), [1, 7, 1], 'float32');
    });
    for (const act of ['linear', 'relu', 'sigmoid', 'tanh'] as const) {
      check(`with a bias and ${act}, channelsFirst`, () => {
        const [xs, ws] = [[2, 5, 4, 3], [3, 2, 3, 4]];
        const x = stored(values(prod(xs), 5, -2, 2), 'float32');
        const w = stored(values(prod(ws), 6), 'float32');
        const b = stored(values(4, 7), 'float32');
        const g = geometry(xs, ws, { padding: 'same', strides: [2, 1] });
        const want = convRef(x, w, b, g).map(ACT[act]);
        const out = outShapeOf(g);
        return expectOp(
          () => convWithBias(kiln.tensor(channelsFirstOf(x, xs), [2, 3, 5, 4]), kiln.tensor(w, ws), {
            bias: kiln.tensor(b), activation: act, padding: 'same', strides: [2, 1], dataFormat: 'channelsFirst',
          }),
          channelsFirstOf(want, out), [out[0], out[3], out[1], out[2]], 'float32',
        );
      });
    }
  });

  group('depthwiseConv and separableConv', () => {
    const cases: { name: string; x: number[]; w: number[]; opts?: Opts }[] = [
      { name: '1D multiplier 2', x: [2, 7, 3], w: [3, 3, 2] },
      { name: '2D same strides 2, multiplier 1', x: [1, 6, 5, 4], w: [3, 3, 4, 1], opts: { padding: 'same', strides: 2 } },
      { name: '2D dilation 2, multiplier 3', x: [2, 7, 7, 2], w: [2, 3, 2, 3], opts: { dilationRate: 2 } },
    ];
    for (const c of cases) {
      check(`depthwiseConv ${c.name}`, () => {
        const x = stored(values(prod(c.x), 11, -2, 2), 'float32');
        const w = stored(values(prod(c.w), 12), 'float32');
        const want = depthwiseRef(x, c.x, w, c.w, c.opts ?? {});
        return expectOp(() => ops.depthwiseConv(kiln.tensor(x, c.x), kiln.tensor(w, c.w), c.opts as never), want.out, want.outShape, 'float32');
      });
      check(`separableConv ${c.name}, 5 filters`, () => {
        const d = c.x.length - 2;
        const pw = [...new Array<number>(d).fill(1), c.w[d] * c.w[d + 1], 5];
        const x = stored(values(prod(c.x), 13, -2, 2), 'float32');
        const w = stored(values(prod(c.w), 14), 'float32');
        const p = stored(values(prod(pw), 15), 'float32');
        const hidden = depthwiseRef(x, c.x, w, c.w, c.opts ?? {});
        const g = geometry(hidden.outShape, pw, {});
        return expectOp(() => ops.separableConv(kiln.tensor(x, c.x), kiln.tensor(w, c.w), kiln.tensor(p, pw), c.opts as never),
          convRef(hidden.out, p, null, g), outShapeOf(g), 'float32');
      });
    }
    check('depthwiseConv channelsFirst with a bias and relu', () => {
      const [xs, ws] = [[1, 5, 4, 2], [2, 2, 2, 2]];
      const x = stored(values(prod(xs), 16, -2, 2), 'float32');
      const w = stored(values(prod(ws), 17), 'float32');
      const b = stored(values(4, 18), 'float32');
      const { out, outShape } = depthwiseRef(x, xs, w, ws, {});
      const want = out.map((v, i) => ACT.relu(v + b[i % 4]));
      return expectOp(() => depthwiseConvWithBias(kiln.tensor(channelsFirstOf(x, xs), [1, 2, 5, 4]), kiln.tensor(w, ws), {
        bias: kiln.tensor(b), activation: 'relu', dataFormat: 'channelsFirst',
      }), channelsFirstOf(want, outShape), [1, 4, 4, 3], 'float32');
    });
  });

  group('convTranspose', () => {
    for (const c of TRANSPOSE_CASES) {
      check(`${c.name} [${c.x}] * [${c.w}]`, () => {
        const x = stored(values(prod(c.x), 21, -2, 2), 'float32');
        const w = stored(values(prod(c.w), 22), 'float32');
        const want = convTransposeRef(x, c.x, w, c.w, c.opts ?? {});
        return expectOp(() => ops.convTranspose(kiln.tensor(x, c.x), kiln.tensor(w, c.w), c.opts), want.out, want.outShape, 'float32');
      });
    }
    check('channelsFirst with a bias and tanh', () => {
      const [xs, ws] = [[2, 3, 4, 2], [3, 2, 3, 2]];
      const x = stored(values(prod(xs), 23, -2, 2), 'float32');
      const w = stored(values(prod(ws), 24), 'float32');
      const b = stored(values(3, 25), 'float32');
      const { out, outShape } = convTransposeRef(x, xs, w, ws, { strides: 2, padding: 'same' });
      const want = out.map((v, i) => Math.tanh(v + b[i % 3]));
      return expectOp(() => convTransposeWithBias(kiln.tensor(channelsFirstOf(x, xs), [2, 2, 3, 4]), kiln.tensor(w, ws), {
        bias: kiln.tensor(b), activation: 'tanh', strides: 2, padding: 'same', dataFormat: 'channelsFirst',
      }), channelsFirstOf(want, outShape), [2, 3, 6, 8], 'float32');
    });
  });

  group('gradients', () => {
    const f64 = { requires: ['float64' as const] };
    const convWith = (o: Opts) => (x: Tensor, w: Tensor) => convWithBias(x, w, o);
    for (const fused of [true, false]) {
      const path = fused ? 'fused' : 'composed';
      const withPath = (f: () => Promise<void>) => async () => {
        kiln.setFusedKernels(fused);
        try {
          await f();
        } finally {
          kiln.setFusedKernels(true);
        }
      };
      check(`${path}: conv 2D same, strides 2, 2 groups: inputs and kernel`, withPath(() =>
        checkGradients(convWith({ padding: 'same', strides: 2 }), [[2, 5, 4, 4], [3, 2, 2, 4]], 31)), f64);
      check(`${path}: conv 1D dilation 2`, withPath(() => checkGradients(convWith({ dilationRate: 2 }), [[1, 8, 2], [3, 2, 3]], 32)), f64);
      check(`${path}: conv 3D valid`, withPath(() => checkGradients(convWith({}), [[1, 3, 3, 3, 2], [2, 2, 2, 2, 2]], 33)), f64);
      for (const act of ['relu', 'sigmoid', 'tanh'] as const) {
        check(`${path}: conv with a bias and ${act}: inputs, kernel and bias`, withPath(() => checkGradients(
          (x, w, b) => convWithBias(x, w, { bias: b, activation: act, padding: 'same' }), [[1, 4, 3, 2], [2, 3, 2, 3], [3]], 34)), f64);
      }
      check(`${path}: convTranspose same, strides 2, with a bias`, withPath(() => checkGradients(
        (x, w, b) => convTransposeWithBias(x, w, { bias: b, strides: 2, padding: 'same' }), [[1, 3, 2, 2], [3, 2, 3, 2], [3]], 35)), f64);
      check(`${path}: depthwiseConv channelsFirst`, withPath(() => checkGradients(
        (x, w) => ops.depthwiseConv(x, w, { dataFormat: 'channelsFirst', padding: 'same' }), [[1, 2, 4, 3], [2, 2, 2, 2]], 36)), f64);
      check(`${path}: separableConv`, withPath(() => checkGradients(
        (x, w, p) => ops.separableConv(x, w, p, { strides: 2 }), [[1, 5, 5, 2], [3, 3, 2, 2], [1, 1, 4, 3]], 37)), f64);
    }
    const paths: { name: string; f: (...xs: Tensor[]) => Tensor; shapes: number[][] }[] = [
      { name: 'conv 2D same strides [2, 1]', f: (x, w) => ops.conv(x, w, { padding: 'same', strides: [2, 1] }), shapes: [[2, 6, 5, 3], [3, 3, 3, 4]] },
      { name: 'conv 2D 3 groups, relu and a bias', f: (x, w, b) => convWithBias(x, w, { bias: b, activation: 'relu' }), shapes: [[2, 5, 5, 6], [2, 2, 2, 9], [9]] },
      { name: 'conv 1D sigmoid, dilation 3', f: (x, w, b) => convWithBias(x, w, { bias: b, activation: 'sigmoid', dilationRate: 3 }), shapes: [[3, 10, 2], [3, 2, 2], [2]] },
      { name: 'conv 3D tanh, channelsFirst', f: (x, w, b) => convWithBias(x, w, { bias: b, activation: 'tanh', dataFormat: 'channelsFirst' }), shapes: [[1, 2, 3, 4, 3], [2, 2, 2, 2, 3], [3]] },
      { name: 'convTranspose strides 2', f: (x, w) => ops.convTranspose(x, w, { strides: 2 }), shapes: [[2, 3, 3, 2], [3, 3, 4, 2]] },
      { name: 'depthwiseConv multiplier 2', f: (x, w) => ops.depthwiseConv(x, w, { padding: 'same' }), shapes: [[2, 4, 4, 3], [3, 3, 3, 2]] },
      { name: 'separableConv with a bias and relu', f: (x, w, p, b) => separableConvWithBias(x, w, p, { bias: b, activation: 'relu' }), shapes: [[1, 5, 4, 2], [2, 2, 2, 1], [1, 1, 2, 3], [3]] },
    ];
    for (const dtype of ['float32', 'float64'] as const) {
      for (const { name, f, shapes } of paths) {
        check(`${dtype} fused and composed agree: ${name}`, () => checkSamePaths(f, shapes, dtype, 41), { requires: [dtype] });
      }
    }
  });

  group('symbolic', () => {
    const shapeOf = (t: Tensor) => [...t.shape];
    check('output shapes on symbolic inputs equal the eager ones', () => {
      const cases: [string, (x: Tensor) => Tensor, number[]][] = [
        ['conv same strides 2', (x) => ops.conv(x, kiln.ones([3, 3, 3, 4]), { padding: 'same', strides: 2 }), [7, 6, 3]],
        ['conv channelsFirst dilation 2', (x) => ops.conv(x, kiln.ones([2, 2, 2, 5]), { dilationRate: 2, dataFormat: 'channelsFirst' }), [2, 6, 5]],
        ['convTranspose same strides 3', (x) => ops.convTranspose(x, kiln.ones([3, 2, 3]), { strides: 3, padding: 'same' }), [4, 3]],
        ['depthwiseConv', (x) => ops.depthwiseConv(x, kiln.ones([2, 3, 2])), [5, 3]],
        ['separableConv', (x) => ops.separableConv(x, kiln.ones([3, 3, 3, 1]), kiln.ones([1, 1, 3, 4]), { padding: 'same' }), [6, 5, 3]],
      ];
      for (const [name, f, shape] of cases) {
        const symbolic = shapeOf(f(kiln.Input({ shape }) as unknown as Tensor));
        const eager = kiln.tidy(() => shapeOf(f(kiln.zeros([2, ...shape]))));
        expect(symbolic, name).toEqual([null, ...eager.slice(1)]);
      }
    });
    check('a spatial size unknown until run time stays unknown', () => {
      const x = kiln.Input({ shape: [null, 3] }) as unknown as Tensor;
      expect(shapeOf(ops.conv(x, kiln.ones([3, 3, 4])))).toEqual([null, null, 4]);
      const y = kiln.Input({ shape: [null, 5, 2] }) as unknown as Tensor;
      expect(shapeOf(ops.conv(y, kiln.ones([3, 3, 2, 4]), { padding: 'same', strides: 2 }))).toEqual([null, null, 3, 4]);
      expect(shapeOf(ops.convTranspose(y, kiln.ones([3, 3, 4, 2]), { strides: 2 }))).toEqual([null, null, 11, 4]);
    });
  });

  group('errors', () => {
    const x = () => kiln.zeros([2, 5, 5, 4]);
    const bad: [string, () => unknown, RegExp][] = [
      ['inputs of rank 2', () => ops.conv(kiln.zeros([5, 4]), kiln.zeros([3, 4])), /conv: expected inputs of rank 3, 4 or 5 .* got shape \[5,4\]/],
      ['inputs of rank 6', () => ops.conv(kiln.zeros([1, 2, 2, 2, 2, 1]), kiln.zeros([1, 1, 1, 1, 1, 1])), /rank 3, 4 or 5/],
      ['a kernel of another rank', () => ops.conv(x(), kiln.zeros([3, 4, 2])), /conv: expected a kernel .* of rank 4 for inputs \[2,5,5,4\], got shape \[3,4,2\]/],
      ['channels not a multiple of the kernel\'s', () => ops.conv(x(), kiln.zeros([3, 3, 3, 2])), /conv: the inputs' 4 channels must be a multiple of the kernel's 3 input channels/],
      ['filters not a multiple of the groups', () => ops.conv(x(), kiln.zeros([3, 3, 2, 3])), /conv: the kernel's 3 filters must be a multiple of the 2 groups/],
      ['a kernel larger than a valid input', () => ops.conv(x(), kiln.zeros([6, 3, 4, 2])), /conv: the output would have size 0 on spatial axis 0: a window of 6 .* does not fit in 5 with padding 'valid'/],
      ['a dilated window larger than the input', () => ops.conv(x(), kiln.zeros([3, 3, 4, 2]), { dilationRate: 3 }), /size -1 on spatial axis 0: a window of 7/],
      ['strides 0', () => ops.conv(x(), kiln.zeros([3, 3, 4, 2]), { strides: 0 }), /conv: strides must be an integer >= 1 .* got 0/],
      ['negative dilation', () => ops.conv(x(), kiln.zeros([3, 3, 4, 2]), { dilationRate: [1, -1] }), /conv: dilationRate must be an integer >= 1 .* got \[1,-1\]/],
      ['strides for the wrong number of axes', () => ops.conv(x(), kiln.zeros([3, 3, 4, 2]), { strides: [1, 1, 1] }), /list of 2 of them/],
      ['causal padding on the op', () => ops.conv(x(), kiln.zeros([3, 3, 4, 2]), { padding: 'causal' as never }), /conv: padding must be 'valid' or 'same', got "causal"/],
      ['an unknown data format', () => ops.conv(x(), kiln.zeros([3, 3, 4, 2]), { dataFormat: 'nhwc' as never }), /conv: dataFormat must be 'channelsLast' or 'channelsFirst', got "nhwc"/],
      ['channelsFirst channels that do not match', () => ops.conv(x(), kiln.zeros([3, 3, 4, 2]), { dataFormat: 'channelsFirst' }), /the inputs' 5 channels must be a multiple of the kernel's 4/],
      ['bool inputs', () => ops.conv(kiln.zeros([1, 3, 1], 'bool'), kiln.zeros([1, 1, 1], 'bool')), /conv: expected numeric inputs/],
      ['a bias of the wrong size', () => convWithBias(x(), kiln.zeros([3, 3, 4, 2]), { bias: kiln.zeros([3]) }), /conv: expected a bias of shape \[2\]/],
      ['convTranspose channels that do not match', () => ops.convTranspose(x(), kiln.zeros([3, 3, 4, 2])), /convTranspose: the kernel's input channels \(its last axis, 2\) must equal the inputs' channels \(4\)/],
      ['convTranspose negative outputPadding', () => ops.convTranspose(x(), kiln.zeros([3, 3, 2, 4]), { outputPadding: -1 }), /convTranspose: outputPadding must be an integer >= 0/],
      ['convTranspose an empty output', () => ops.convTranspose(kiln.zeros([1, 1, 1]), kiln.zeros([2, 1, 1]), { padding: 'same', outputPadding: 0 }), /convTranspose: the output would have size 0/],
      ['depthwiseConv channels that do not match', () => ops.depthwiseConv(x(), kiln.zeros([3, 3, 2, 1])), /depthwiseConv: the kernel's input channels \(2\) must equal the inputs' channels \(4\)/],
      ['separableConv a pointwise kernel that is not 1x1', () => ops.separableConv(x(), kiln.zeros([3, 3, 4, 1]), kiln.zeros([2, 1, 4, 2])), /separableConv: expected a pointwise kernel \[...ones, 4/],
    ];
    for (const [name, f, message] of bad) {
      check(name, () => {
        kiln.tidy(() => expect(f).toThrow(message));
      });
    }
  });

  if (HAS_ONNX_CASES) group('ONNX node cases', () => {
    for (const c of ONNX_CASES) {
      check(c.name, () => {
        const dir = `${ONNX}/${c.name}/test_data_set_0`;
        const [x, w, want] = [readTensor(`${dir}/input_0.pb`), readTensor(`${dir}/input_1.pb`), readTensor(`${dir}/output_0.pb`)];
        const d = w.shape.length - 2;
        const spatial = Array.from({ length: d }, (_, i) => i + 2);
        // Conv's weights are [out, in, ...K] and ConvTranspose's [in, out, ...K]; Keras's are
        // [...K, in, out] and [...K, out, in]: the same move of the spatial axes to the front
        // and swap of the other two
        const kernel = () => ops.transpose(kiln.tensor(w.values, w.shape), [...spatial, 1, 0]);
        return expectOp(() => c.run(kiln.tensor(x.values, x.shape), kernel()), want.values, want.shape, 'float32');
      });
    }
  });
});
