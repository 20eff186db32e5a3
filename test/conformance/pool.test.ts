/**
 * Pooling: kiln.ops.maxPool and averagePool (and the fused pool / poolGrad kernels behind them
 * where a backend has them), every case run with fused kernels on and off. Values and gradients
 * against direct loops (pool-oracle.ts): 1D/2D/3D, 'valid' and 'same', strides other than the
 * window, padding at one and at both ends, windows larger than the input, ties, ±Infinity and
 * NaN; float64 finite differences; channels-first; empty tensors; symbolic shapes; errors; and the
 * ONNX project's own MaxPool, AveragePool, GlobalMaxPool and GlobalAveragePool node cases.
 *
 * What max does with NaN: a window holding a NaN has the max NaN (as ops.max), and the gradient
 * of that window is NaN at each of its positions (as ops.max's: no position equals NaN, so the
 * share dy / 0 times a miss of 0 is NaN). A window whose inside is all -Infinity has the max
 * -Infinity, and its gradient is shared by the inside positions alone, never the padding.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import * as kiln from '../../index.js';
import type { DType } from '../../backends/contract.js';
import { onnx } from '../../onnx/proto.js';
import { check, close, describeBackends, expectClose, group } from './harness.js';
import { kerasGeometry, pooledShape, poolGradRef, poolRef } from './pool-oracle.js';

const { ops, layers } = kiln;

type Op = 'max' | 'avg';
const OP_FN: Record<Op, typeof ops.maxPool> = { max: ops.maxPool, avg: ops.averagePool };

/** Deterministic values in [lo, hi) (a linear congruential generator, so cases are repeatable). */
function values(count: number, seed: number, lo = -2, hi = 2): number[] {
  let s = (seed * 2654435761 + 1) >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const roundTo = (dtype: DType) => (v: number) => (dtype === 'float32' ? Math.fround(v) : v);

/** Runs `fn` with fused kernels switched as asked, back on afterwards. */
function withFused<T>(on: boolean, fn: () => T): T {
  kiln.setFusedKernels(on);
  try {
    return fn();
  } finally {
    kiln.setFusedKernels(true);
  }
}

/** A pooling call's value and its gradient for the output weights r: [y, d Σ(y·r) / dx]. */
function valueAndGrad(op: Op, x: kiln.Tensor, poolSize: number | number[], options: kiln.ops.PoolOptions, r: readonly number[]): kiln.Tensor[] {
  const tape = new kiln.GradientTape();
  let y: kiln.Tensor | undefined;
  const loss = tape.record(() => {
    y = OP_FN[op](x, poolSize, options);
    return ops.sum(ops.multiply(y, kiln.tensor([...r], [...y.shape] as number[], x.dtype)));
  });
  return [y!, tape.gradient(loss, x) as kiln.Tensor];
}

interface Case {
  name: string;
  shape: number[];
  poolSize: number | number[];
  strides?: number | number[];
  padding?: 'valid' | 'same';
  /** The input's values (default: seeded uniform draws in [-2, 2)). */
  x?: number[];
}

const CASES: readonly Case[] = [
  { name: '1D valid, window 3 stride 2', shape: [2, 7, 3], poolSize: 3, strides: 2 },
  { name: '1D same, window 3 stride 2', shape: [2, 7, 3], poolSize: 3, strides: 2, padding: 'same' },
  { name: '1D same, window 2: the odd padding after', shape: [1, 5, 2], poolSize: 2, strides: 1, padding: 'same' },
  { name: '1D same, window 4: padding at both ends', shape: [2, 6, 2], poolSize: 4, strides: 1, padding: 'same' },
  { name: '1D same, window larger than the input', shape: [1, 3, 2], poolSize: 5, strides: 1, padding: 'same' },
  { name: '1D valid, strides larger than the window', shape: [1, 10, 2], poolSize: 2, strides: 3 },
  { name: '1D window 1 is the identity', shape: [2, 4, 3], poolSize: 1 },
  { name: '2D valid, strides default to the window', shape: [2, 6, 4, 3], poolSize: 2 },
  { name: '2D same, window [2,3] strides [2,1]', shape: [2, 5, 6, 3], poolSize: [2, 3], strides: [2, 1], padding: 'same' },
  { name: '2D same, window 3 stride 1', shape: [1, 4, 5, 2], poolSize: 3, strides: 1, padding: 'same' },
  { name: '2D valid, window 3 stride 2, rows left over', shape: [1, 8, 7, 2], poolSize: 3, strides: 2 },
  { name: '3D valid, window [3,2,2] strides [1,2,1]', shape: [1, 4, 5, 3, 2], poolSize: [3, 2, 2], strides: [1, 2, 1] },
  { name: '3D same, window 2', shape: [2, 3, 4, 5, 2], poolSize: 2, padding: 'same' },
  // ties in every window: the gradient of a max is shared
  { name: '2D same, ties', shape: [1, 4, 4, 2], poolSize: 3, strides: 1, padding: 'same', x: values(32, 9).map((v) => Math.round(v)) },
  { name: '1D same, constant input', shape: [1, 5, 1], poolSize: 2, strides: 2, padding: 'same', x: [3, 3, 3, 3, 3] },
  // windows of -Infinity beside the padding, and one holding a +Infinity
  { name: '1D same, -Infinity windows at the edges', shape: [1, 6, 1], poolSize: 3, strides: 1, padding: 'same', x: [-Infinity, -Infinity, 1, -Infinity, Infinity, -Infinity] },
  { name: '2D same, all -Infinity', shape: [1, 3, 3, 1], poolSize: 2, strides: 2, padding: 'same', x: new Array<number>(9).fill(-Infinity) },
  { name: '1D valid, a NaN', shape: [1, 6, 2], poolSize: 2, strides: 1, x: [1, 2, NaN, -1, 3, 5, 4, NaN, 5, 0, 6, 7] },
];

/** The checks of one case: value and gradient against the oracle, fused on and off, in `dtype`. */
function checkCase(c: Case, op: Op, dtype: DType, fused: boolean): void {
  const round = roundTo(dtype);
  const padding = c.padding ?? 'valid';
  const rank = c.shape.length - 2;
  const window = typeof c.poolSize === 'number' ? new Array<number>(rank).fill(c.poolSize) : c.poolSize;
  const strides = c.strides === undefined ? window : typeof c.strides === 'number' ? new Array<number>(rank).fill(c.strides) : c.strides;
  const name = `${op} ${dtype} ${c.name}${fused ? '' : ', composed'}`;
  check(name, async () => {
    const x = (c.x ?? values(sizeOf(c.shape), sizeOf(c.shape) + rank)).map(round);
    const g = kerasGeometry(c.shape.slice(1, -1), window, strides, padding);
    const r = values(sizeOf(pooledShape(c.shape, g)), 7, -1, 1).map(round);
    const before = kiln.memory().numTensors;
    const [y, dx] = withFused(fused, () => kiln.tidy(() => {
      const options = { padding, ...(c.strides === undefined ? {} : { strides: c.strides }) };
      return valueAndGrad(op, kiln.tensor(x, c.shape, dtype), c.poolSize, options, r);
    }));
    await expectClose(y, poolRef(op, x, c.shape, g), { shape: pooledShape(c.shape, g), dtype, kind: 'reduction' });
    await expectClose(dx, poolGradRef(op, r, x, c.shape, g), { shape: c.shape, dtype, kind: 'reduction' });
    kiln.dispose([y, dx]);
    expect(kiln.memory().numTensors, 'tensors left behind').toBe(before);
  }, { requires: [dtype] });
}

/** Central differences of Σ pool(x)·r at each element of x, float64. */
function finiteDifferences(op: Op, x: number[], shape: number[], poolSize: number | number[], options: kiln.ops.PoolOptions, r: number[]): number[] {
  const loss = (v: number[]) => kiln.tidy(() => {
    const y = OP_FN[op](kiln.tensor(v, shape, 'float64'), poolSize, options);
    return ops.sum(ops.multiply(y, kiln.tensor(r, [...y.shape] as number[], 'float64'))).dataSync()[0];
  });
  const eps = 1e-6;
  return x.map((_, i) => {
    const plus = x.slice();
    const minus = x.slice();
    plus[i] += eps;
    minus[i] -= eps;
    return (loss(plus) - loss(minus)) / (2 * eps);
  });
}

/** The values of a channels-last [N, ...S, C] array in channels-first order [N, C, ...S]. */
function channelsFirst(x: readonly number[], shape: readonly number[]): number[] {
  const c = shape[shape.length - 1];
  const s = sizeOf(shape.slice(1, -1));
  return x.map((_, k) => x[(Math.floor(k / (c * s)) * s + (k % s)) * c + (Math.floor(k / s) % c)]);
}

const NODE_TESTS = new URL('../../../shared/onnx-node-tests/cases/', import.meta.url);

/**
 * The ONNX project's pooling cases: how each runs in kiln (its kernel_shape and strides are read
 * from the model), or why it cannot. ONNX's "ceil_mode" with no explicit padding lets the last
 * window run past the end, which is what 'same' does when it pads only after.
 */
const NODE_CASES: Record<string, { padding: 'valid' | 'same' } | { global: true } | { skip: string }> = {
  test_averagepool_1d_default: { padding: 'valid' },
  test_averagepool_2d_ceil: { padding: 'same' },
  test_averagepool_2d_ceil_last_window_starts_on_pad: { skip: 'count_include_pad=1 averages the padding in; Keras never does' },
  test_averagepool_2d_dilations: { skip: 'dilations: Keras pooling has none' },
  test_averagepool_2d_pads_count_include_pad: { skip: 'count_include_pad=1 averages the padding in; Keras never does' },
  test_averagepool_2d_precomputed_same_upper: { padding: 'same' },
  test_averagepool_2d_same_lower: { skip: "SAME_LOWER puts the odd padding before; Keras's 'same' puts it after" },
  test_averagepool_2d_strides: { padding: 'valid' },
  test_averagepool_3d_default: { padding: 'valid' },
  test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_False: { skip: 'dilations: Keras pooling has none' },
  test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_True: { skip: 'dilations: Keras pooling has none' },
  test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_False: { skip: 'dilations: Keras pooling has none' },
  test_averagepool_3d_dilations_large_count_include_pad_is_1_ceil_mode_is_True: { skip: 'dilations: Keras pooling has none' },
  test_averagepool_3d_dilations_small: { skip: 'dilations: Keras pooling has none' },
  test_globalaveragepool: { global: true },
  test_globalaveragepool_precomputed: { global: true },
  test_globalmaxpool: { global: true },
  test_globalmaxpool_precomputed: { global: true },
  test_maxpool_1d_default: { padding: 'valid' },
  test_maxpool_2d_ceil: { padding: 'same' },
  // ceil_mode drops a last window that would start past the end: here floor's count
  test_maxpool_2d_ceil_output_size_reduce_by_one: { padding: 'valid' },
  test_maxpool_2d_default: { padding: 'valid' },
  test_maxpool_2d_dilations: { skip: 'dilations: Keras pooling has none' },
  // pads 2 on every side of a 5-wide window at stride 1 is 'same'
  test_maxpool_2d_precomputed_pads: { padding: 'same' },
  test_maxpool_2d_precomputed_same_upper: { padding: 'same' },
  test_maxpool_2d_same_lower: { skip: "SAME_LOWER puts the odd padding before; Keras's 'same' puts it after" },
  test_maxpool_2d_uint8: { skip: 'uint8: kiln has no 8-bit integers' },
  test_maxpool_3d_default: { padding: 'valid' },
  test_maxpool_3d_dilations_use_ref_impl: { skip: 'dilations: Keras pooling has none' },
  test_maxpool_3d_dilations_use_ref_impl_large: { skip: 'dilations: Keras pooling has none' },
  test_maxpool_with_argmax_2d_precomputed_pads: { skip: 'a second output of argmax indices, which kiln does not compute' },
};

/** A float32 TensorProto file as a kiln tensor. */
function tensorOf(file: URL): kiln.Tensor {
  const t = onnx.TensorProto.decode(readFileSync(file));
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`${file.pathname}: expected float32 data, got type ${t.dataType}`);
  const raw = t.rawData?.length ? t.rawData : null;
  const data = raw ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) : Float32Array.from(t.floatData);
  return kiln.tensor(data, t.dims.map(Number));
}

/** Runs one node case through kiln channels-last and compares with its expected output. */
async function runNodeCase(name: string, how: { padding: 'valid' | 'same' } | { global: true }): Promise<void> {
  const dir = new URL(`${name}/`, NODE_TESTS);
  const node = onnx.ModelProto.decode(readFileSync(new URL('model.onnx', dir))).graph!.node![0];
  const ints = (key: string) => node.attribute?.find((a) => a.name === key)?.ints?.map(Number);
  const x = tensorOf(new URL('test_data_set_0/input_0.pb', dir));
  const expected = tensorOf(new URL('test_data_set_0/output_0.pb', dir));
  const y = kiln.tidy(() => {
    const last = ops.moveaxis(x, 1, -1);
    const rank = x.rank - 2;
    let pooled: kiln.Tensor;
    if ('global' in how) {
      const Global = node.opType === 'GlobalMaxPool' ? [layers.GlobalMaxPooling1D, layers.GlobalMaxPooling2D, layers.GlobalMaxPooling3D] : [layers.GlobalAveragePooling1D, layers.GlobalAveragePooling2D, layers.GlobalAveragePooling3D];
      pooled = new Global[rank - 1]({ keepdims: true }).apply(last) as kiln.Tensor;
    } else {
      const window = ints('kernel_shape')!;
      const op = node.opType === 'MaxPool' ? ops.maxPool : ops.averagePool;
      pooled = op(last, window, { strides: ints('strides') ?? 1, padding: how.padding });
    }
    return ops.moveaxis(pooled, -1, 1);
  });
  // the suite's own criterion
  await expectClose(y, await expected.data(), { shape: [...expected.shape] as number[], rtol: 1e-3, atol: 1e-5 });
  kiln.dispose([x, expected, y]);
}

describeBackends('pool', () => {
  for (const op of ['max', 'avg'] as const) {
    group(op === 'max' ? 'maxPool' : 'averagePool', () => {
      for (const c of CASES) for (const fused of [true, false]) checkCase(c, op, 'float32', fused);
      for (const c of [CASES[1], CASES[8], CASES[12], CASES[15]]) for (const fused of [true, false]) checkCase(c, op, 'float64', fused);

      check('channelsFirst is channelsLast moved', async () => {
        const shape = [2, 5, 4, 3];
        const x = values(sizeOf(shape), 3);
        const g = kerasGeometry([5, 4], [3, 2], [2, 1], 'same');
        const y = OP_FN[op](kiln.tensor(channelsFirst(x, shape), [2, 3, 5, 4]), [3, 2], { strides: [2, 1], padding: 'same', dataFormat: 'channelsFirst' });
        await expectClose(y, channelsFirst(poolRef(op, x, shape, g), pooledShape(shape, g)), { shape: [2, 3, 3, 4], kind: 'reduction' });
        y.dispose();
      });
      check("Keras's spelling channels_first", async () => {
        const y = OP_FN[op](kiln.tensor([[[1, 2, 4, 8]]]), 2, { dataFormat: 'channels_first' as kiln.ops.PoolOptions['dataFormat'] });
        await expectClose(y, op === 'max' ? [[[2, 8]]] : [[[1.5, 6]]]);
        y.dispose();
      });
      check('int32 pools in float32', async () => {
        const y = OP_FN[op](kiln.tensor([1, 2, 4, 7], [1, 4, 1], 'int32'), 2);
        await expectClose(y, op === 'max' ? [[[2], [7]]] : [[[1.5], [5.5]]], { dtype: 'float32' });
        y.dispose();
      });
      check('an input made by a transpose', async () => {
        const t = kiln.tidy(() => ops.transpose(kiln.tensor(values(24, 5), [3, 4, 2]), [2, 1, 0]));
        const y = OP_FN[op](t, 2, { strides: 1 });
        await expectClose(y, poolRef(op, Array.from(await t.data()), [2, 4, 3], kerasGeometry([4], [2], [1], 'valid')), { shape: [2, 3, 3], kind: 'reduction' });
        kiln.dispose([t, y]);
      });
      for (const [shape, padding, out] of [[[0, 4, 3], 'valid', [0, 2, 3]], [[2, 4, 0], 'valid', [2, 2, 0]], [[2, 0, 3], 'same', [2, 0, 3]]] as const) {
        check(`empty ${JSON.stringify(shape)} ${padding}`, async () => {
          for (const fused of [true, false]) {
            const x = kiln.zeros([...shape]);
            const [y, dx] = withFused(fused, () => valueAndGrad(op, x, 2, { padding }, []));
            expect([...y.shape]).toEqual(out);
            expect([...dx.shape]).toEqual(shape);
            kiln.dispose([x, y, dx]);
          }
        });
      }

      for (const [name, shape, window, strides, padding] of [
        ['1D same', [2, 7, 2], [3], [2], 'same'],
        ['2D same, windows overlapping', [1, 5, 4, 2], [3, 2], [1, 1], 'same'],
        ['3D valid', [1, 3, 4, 3, 1], [2, 2, 2], [1, 1, 1], 'valid'],
      ] as [string, number[], number[], number[], 'valid' | 'same'][]) {
        for (const fused of [true, false]) {
          check(`finite differences ${name}${fused ? '' : ', composed'}`, () => {
            const x = values(sizeOf(shape), 11);
            const options = { strides, padding };
            const r = values(sizeOf(pooledShape(shape, kerasGeometry(shape.slice(1, -1), window, strides, padding))), 13, -1, 1);
            const [y, grad] = withFused(fused, () => valueAndGrad(op, kiln.tensor(x, shape, 'float64'), window, options, r));
            const numeric = withFused(fused, () => finiteDifferences(op, x, shape, window, options, r));
            Array.from(grad.dataSync()).forEach((v, i) => {
              expect(close(v, numeric[i], 1e-6, 1e-8), `element ${i}: autodiff ${v}, finite differences ${numeric[i]}`).toBe(true);
            });
            kiln.dispose([y, grad]);
          }, { requires: ['float64'] });
        }
      }
    });
  }

  group('shapes', () => {
    check('symbolic inputs: the shapes eager calls give, unknown sizes kept unknown', () => {
      const x = kiln.layers.Input({ shape: [7, 5, 3] }) as unknown as kiln.Tensor;
      expect([...ops.maxPool(x, 2).shape]).toEqual([null, 3, 2, 3]);
      expect([...ops.averagePool(x, [3, 2], { strides: [2, 1], padding: 'same' }).shape]).toEqual([null, 4, 5, 3]);
      expect([...ops.maxPool(x, 2, { dataFormat: 'channelsFirst' }).shape]).toEqual([null, 7, 2, 1]);
      const open = kiln.layers.Input({ shape: [null, 8, 3] }) as unknown as kiln.Tensor;
      expect([...ops.maxPool(open, 2, { padding: 'same' }).shape]).toEqual([null, null, 4, 3]);
      expect(ops.averagePool(open, 2)).toBeInstanceOf(kiln.SymbolicTensor);
    });
    check('strides default to poolSize; an integer serves every axis', () => {
      const y = ops.maxPool(kiln.zeros([1, 9, 6, 2]), 3);
      expect([...y.shape]).toEqual([1, 3, 2, 2]);
      expect([...ops.averagePool(kiln.zeros([1, 9, 6, 2]), [3, 2], { strides: 1 }).shape]).toEqual([1, 7, 5, 2]);
      kiln.dispose(y);
    });
  });

  group('errors', () => {
    const x = () => kiln.zeros([2, 5, 3]);
    const cases: [string, () => unknown, string | RegExp][] = [
      ['rank 2', () => ops.maxPool(kiln.zeros([4, 3]), 2), 'maxPool: expected inputs of rank 3, 4 or 5 (batch, 1 to 3 spatial axes, channels), got shape [4,3]'],
      ['rank 6', () => ops.averagePool(kiln.zeros([1, 2, 2, 2, 2, 1]), 2), /averagePool: expected inputs of rank 3, 4 or 5 .* got shape \[1,2,2,2,2,1\]/],
      ['a window larger than a valid input', () => ops.maxPool(x(), 6), "maxPool: the window (6) is larger than spatial axis 0 (5) of inputs of shape [2,5,3] with padding 'valid': use padding 'same' or a smaller poolSize"],
      ['strides 0', () => ops.maxPool(x(), 2, { strides: 0 }), 'maxPool: strides must be an integer >= 1 or a list of 1 of them (one per spatial axis), got 0'],
      ['negative strides', () => ops.averagePool(kiln.zeros([1, 4, 4, 1]), 2, { strides: [1, -1] }), /averagePool: strides must be an integer >= 1 .* got \[1,-1\]/],
      ['poolSize 0', () => ops.maxPool(x(), 0), /maxPool: poolSize must be an integer >= 1/],
      ['poolSize of the wrong length', () => ops.maxPool(x(), [2, 2]), /maxPool: poolSize must be an integer >= 1 or a list of 1 of them .* got \[2,2\]/],
      ['a fractional poolSize', () => ops.maxPool(x(), 1.5), /maxPool: poolSize must be an integer/],
      ['padding', () => ops.maxPool(x(), 2, { padding: 'full' as 'same' }), `maxPool: padding must be 'valid' or 'same', got "full"`],
      ['dataFormat', () => ops.averagePool(x(), 2, { dataFormat: 'NHWC' as 'channelsLast' }), `averagePool: dataFormat must be 'channelsLast' or 'channelsFirst', got "NHWC"`],
    ];
    for (const [name, fn, message] of cases) check(name, () => expect(fn).toThrow(message));
  });

  const present = existsSync(NODE_TESTS) ? readdirSync(NODE_TESTS).filter((n) => /^test_(max|average|globalmax|globalaverage)pool/.test(n) && !n.includes('_expanded')) : [];
  if (present.length === 0) console.log('conformance: ../shared/onnx-node-tests not found: the ONNX pooling node cases did not run');
  group('ONNX node cases', () => {
    check('every pooling case here is listed, to run or with the reason it cannot', () => {
      expect(present.filter((n) => !(n in NODE_CASES))).toEqual([]);
    });
    for (const name of present) {
      const how = NODE_CASES[name];
      if (how && !('skip' in how)) check(name, () => runNodeCase(name, how));
    }
  });
});

