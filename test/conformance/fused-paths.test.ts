/**
 * The two paths of every fused op, on every backend: with fused kernels on (what a backend that
 * has them runs) and off (the composition from the contract's primitives, what every other
 * backend runs). Each case computes values and gradients both ways and requires them equal, so
 * neither path can rot; a backend that has a fused kernel must also really call it (each case
 * the kernels of the fused op it exercises, from the op's definition, and the suite as a whole
 * every row of the contract's FUSED_ROWS, checked by the harness). The kernels
 * themselves are checked against float64 oracles in fused.test.ts, and the gradients of the
 * fused path against finite differences here (float64, where the backend stores it).
 */
import { afterEach, expect } from 'vitest';
import * as kiln from '../../index.js';
import type { DType, Tensor } from '../../index.js';
import { findBackend } from '../../src/backends.js';
import type { FusedKernels } from '../../backends/contract.js';
import { FUSED_OPS } from '../../src/fused/define.js';
import { convWithBias, separableConvWithBias } from '../../src/ops/conv.js';
import { gruSequence, lstmSequence, simpleRnnSequence } from '../../src/fused/recurrent.js';
import { close, check, describeBackends, group } from './harness.js';

const { ops, layers, losses, optimizers } = kiln;

afterEach(() => kiln.setFusedKernels(true));

/** A case's computation: synchronous ones run inside tidy, asynchronous ones (fit) clean up themselves. */
type Run = () => Tensor[] | Promise<Tensor[]>;

/** Values of every tensor `run` returns, computed with fused kernels on or off. */
async function valuesWith(fused: boolean, run: Run, isAsync: boolean): Promise<number[][]> {
  kiln.setFusedKernels(fused);
  try {
    const before = kiln.memory().numTensors;
    const outs = isAsync ? await run() : kiln.tidy(run as () => Tensor[]);
    const values = await Promise.all(outs.map(async (t) => Array.from(await t.data())));
    kiln.dispose(outs);
    expect(kiln.memory().numTensors, 'tensors left behind').toBe(before);
    return values;
  } finally {
    kiln.setFusedKernels(true);
  }
}

/** Counts the calls to the current backend's fused kernels while `fn` runs. */
async function countFusedCalls<T>(backend: string, fn: () => Promise<T>): Promise<{ result: T; calls: Map<string, number> }> {
  const fused = (await findBackend(backend)).fused as Record<string, (...a: unknown[]) => void> | undefined;
  const calls = new Map<string, number>();
  const saved = { ...fused };
  if (fused) {
    for (const [name, kernel] of Object.entries(saved)) {
      fused[name] = (...args: unknown[]) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return kernel(...args);
      };
    }
  }
  try {
    return { result: await fn(), calls };
  } finally {
    if (fused) Object.assign(fused, saved);
  }
}

/**
 * Runs `run` composed and fused, requires equal results, and requires that the backend called
 * each of `kernels` it has (and none while fused kernels were off).
 */
async function samePaths(backend: string, kernels: readonly (keyof FusedKernels)[], run: Run, dtype: DType, kind: 'elementwise' | 'reduction' = 'reduction'): Promise<void> {
  const isAsync = run.constructor.name === 'AsyncFunction';
  const off = await countFusedCalls(backend, () => valuesWith(false, run, isAsync));
  expect([...off.calls.keys()], 'fused kernels called while switched off').toEqual([]);
  const on = await countFusedCalls(backend, () => valuesWith(true, run, isAsync));
  const has = (await findBackend(backend)).fused ?? {};
  for (const k of kernels) if (has[k]) expect(on.calls.get(k) ?? 0, `fused kernel '${k}' calls`).toBeGreaterThan(0);
  const [rtol, atol] = dtype === 'float64' ? [1e-12, 1e-13] : kind === 'elementwise' ? [1e-5, 1e-6] : [1e-4, 1e-5];
  expect(on.result.length).toBe(off.result.length);
  on.result.forEach((values, i) => {
    expect(values.length, `output ${i} size`).toBe(off.result[i].length);
    const bad = values.findIndex((v, j) => !close(v, off.result[i][j], rtol, atol));
    if (bad >= 0) throw new Error(`output ${i} differs at ${bad}: fused ${values[bad]}, composed ${off.result[i][bad]}`);
  });
}

/** The kernels of the fused op defined for `kernel` (itself and its backward kernel), from its definition. */
function opKernels(kernel: keyof FusedKernels): readonly (keyof FusedKernels)[] {
  return FUSED_OPS.get(kernel)?.kernels ?? fail(`no fused op is defined for '${kernel}'`);
}

/** Seeded uniform values in [lo, hi). */
const uniform = (shape: number[], seed: number, dtype: DType, lo = -2, hi = 2) =>
  kiln.random.uniform(shape, { minval: lo, maxval: hi, seed, dtype });

/** The value of `f` and the gradients of sum(f · weights) with respect to `sources`. */
function withGrads(f: () => Tensor, sources: readonly (Tensor | kiln.Variable)[], seed: number): Tensor[] {
  const tape = new kiln.GradientTape();
  const y = tape.record(() => {
    const out = f();
    return ops.sum(ops.multiply(out, uniform(out.shape as number[], seed, out.dtype)));
  });
  const grads = tape.gradient(y, [...sources]);
  return [y, ...grads.map((g, i) => g ?? fail(`no gradient for source ${i}`))];
}

function fail(message: string): never {
  throw new Error(message);
}

/** Central finite differences of scalar `f` at every element of x (float64). */
function finiteDifferences(f: (x: Tensor) => Tensor, x: Tensor, eps = 1e-6): number[] {
  const base = Array.from(x.dataSync());
  return base.map((_, i) => {
    const at = (d: number) => kiln.tidy(() => {
      const v = base.slice();
      v[i] += d;
      return f(kiln.tensor(v, x.shape as number[], 'float64')).dataSync()[0];
    });
    return (at(eps) - at(-eps)) / (2 * eps);
  });
}

const DTYPES: readonly DType[] = ['float32', 'float64'];
const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax', 'gelu'] as const;

describeBackends('fused paths', (backend) => {
  group('Dense', () => {
    for (const dtype of DTYPES) {
      for (const activation of ACTIVATIONS) {
        for (const [useBias, shape] of [[true, [6, 7]], [false, [6, 7]], [true, [2, 3, 7]], [true, [1, 7]]] as const) {
          check(`${dtype} ${activation} bias=${useBias} x=[${shape}]`, () => samePaths(backend, opKernels('dense'), () => {
            const layer = new layers.Dense(5, {
              activation, useBias, dtype,
              kernelInitializer: { className: 'RandomUniform', config: { minval: -1, maxval: 1, seed: 1 } },
              biasInitializer: { className: 'RandomUniform', config: { minval: -1, maxval: 1, seed: 2 } },
            });
            const x = uniform([...shape], 3, dtype);
            layer.build(x.shape);
            const out = withGrads(() => layer.apply(x) as Tensor, [x, ...layer.trainableWeights], 4);
            layer.dispose();
            return out;
          }, dtype), { requires: [dtype] });
        }
      }
    }
  });

  group('softmax', () => {
    for (const dtype of DTYPES) {
      for (const op of ['softmax', 'logSoftmax'] as const) {
        for (const shape of [[5], [4, 6], [2, 3, 4]]) {
          check(`${dtype} ${op} [${shape}]`, () => samePaths(backend, opKernels('softmax'), () => {
            const x = uniform(shape, 5, dtype, -6, 6);
            return withGrads(() => ops[op](x), [x], 6);
          }, dtype, 'elementwise'), { requires: [dtype] });
        }
        check(`${dtype} ${op} over axis 0 composes`, () => samePaths(backend, [], () => {
          const x = uniform([4, 3], 7, dtype);
          return withGrads(() => ops[op](x, 0), [x], 8);
        }, dtype, 'elementwise'), { requires: [dtype] });
      }
    }
  });

  group('crossentropy', () => {
    for (const dtype of DTYPES) {
      for (const fromLogits of [true, false]) {
        check(`${dtype} sparse fromLogits=${fromLogits}`, () => samePaths(backend, opKernels('crossEntropy'), () => {
          const logits = uniform([8, 5], 9, dtype, -3, 3);
          const pred = fromLogits ? logits : ops.softmax(logits);
          const labels = kiln.tensor([0, 4, 2, 2, 1, 3, 0, 4], [8], 'int32');
          return withGrads(() => losses.sparseCategoricalCrossentropy(labels, pred, { fromLogits }), [pred], 10);
        }, dtype), { requires: [dtype] });
        check(`${dtype} sparse fromLogits=${fromLogits} ignoreClass, [2, 3, 4] predictions`, () => samePaths(backend, ['crossEntropy'], () => {
          const logits = uniform([2, 3, 4], 11, dtype, -3, 3);
          const pred = fromLogits ? logits : ops.softmax(logits);
          const labels = kiln.tensor([[0, -1, 3], [2, 1, -1]], [2, 3], 'int32');
          const loss = new losses.SparseCategoricalCrossentropy({ fromLogits, ignoreClass: -1 });
          return withGrads(() => loss.call(labels, pred), [pred], 12);
        }, dtype), { requires: [dtype] });
        check(`${dtype} categorical fromLogits=${fromLogits} labelSmoothing`, () => samePaths(backend, opKernels('crossEntropy'), () => {
          const logits = uniform([6, 4], 13, dtype, -3, 3);
          const pred = fromLogits ? logits : ops.softmax(logits);
          const labels = ops.oneHot(kiln.tensor([3, 0, 1, 1, 2, 0], [6], 'int32'), 4);
          return withGrads(() => losses.categoricalCrossentropy(labels, pred, { fromLogits, labelSmoothing: 0.1 }), [pred], 14);
        }, dtype), { requires: [dtype] });
      }
      check(`${dtype} categorical, a gradient for the labels too`, () => samePaths(backend, ['crossEntropy'], () => {
        const pred = uniform([3, 4], 15, dtype, 0.1, 1);
        const labels = ops.softmax(uniform([3, 4], 16, dtype));
        return withGrads(() => losses.categoricalCrossentropy(labels, pred), [pred, labels], 17);
      }, dtype), { requires: [dtype] });
    }
  });

  group('optimizers', () => {
    const configs: [string, () => kiln.optimizers.Optimizer][] = [
      ['SGD', () => new optimizers.SGD({ learningRate: 0.1 })],
      ['SGD momentum', () => new optimizers.SGD({ learningRate: 0.1, momentum: 0.9 })],
      ['SGD nesterov', () => new optimizers.SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
      ['Adam', () => new optimizers.Adam({ learningRate: 0.01 })],
      ['Adam amsgrad', () => new optimizers.Adam({ learningRate: 0.01, amsgrad: true })],
      ['AdamW', () => new optimizers.AdamW({ learningRate: 0.01, weightDecay: 0.1 })],
      ['RMSprop', () => new optimizers.RMSprop({ learningRate: 0.01 })],
      ['RMSprop momentum centered', () => new optimizers.RMSprop({ learningRate: 0.01, momentum: 0.5, centered: true })],
      ['Adagrad', () => new optimizers.Adagrad({ learningRate: 0.1 })],
      ['Adam clipnorm', () => new optimizers.Adam({ learningRate: 0.01, clipnorm: 0.5 })],
    ];
    for (const dtype of DTYPES) {
      for (const [name, make] of configs) {
        check(`${dtype} ${name}, 3 steps`, () => samePaths(backend, opKernels('applyUpdate'), () => {
          const vars = [new kiln.Variable(uniform([4, 3], 18, dtype)), new kiln.Variable(uniform([3], 19, dtype))];
          const opt = make();
          for (let step = 0; step < 3; step++) {
            opt.applyGradients(vars.map((v, i) => [uniform(v.shape as number[], 20 + 2 * step + i, dtype), v] as const));
          }
          const out = [...vars, ...opt.variables.slice(1)].map((v) => kiln.keep(ops.add(v.value, 0)));
          opt.dispose();
          for (const v of vars) v.dispose();
          return out;
        }, dtype, 'elementwise'), { requires: [dtype] });
      }
    }
    check('a subclass that rewrites updateStep does not inherit the fused rule', async () => {
      class Halved extends optimizers.SGD {
        protected override updateStep(g: Tensor, w: kiln.Variable): Tensor {
          return ops.subtract(w, ops.multiply(g, 0.5));
        }
      }
      const w = new kiln.Variable(kiln.tensor([1, 2]));
      new Halved({ learningRate: 0.1 }).applyGradients([[kiln.tensor([1, 1]), w]]);
      expect(Array.from(await w.data())).toEqual([0.5, 1.5]);
      w.dispose();
    });
  });

  group('pooling', () => {
    const geometries: [string, number[], number | number[], kiln.ops.PoolOptions][] = [
      ['1D same, window 3 stride 2', [2, 7, 3], 3, { strides: 2, padding: 'same' }],
      ['2D same, window 3 stride 1', [2, 5, 6, 3], 3, { strides: 1, padding: 'same' }],
      ['2D valid channelsFirst', [2, 3, 6, 5], [2, 3], { strides: [2, 1], dataFormat: 'channelsFirst' }],
      ['3D valid', [1, 4, 4, 4, 2], 2, {}],
    ];
    for (const dtype of DTYPES) {
      for (const op of ['maxPool', 'averagePool'] as const) {
        for (const [name, shape, poolSize, options] of geometries) {
          check(`${dtype} ${op} ${name}`, () => samePaths(backend, opKernels('pool'), () => {
            const x = uniform(shape, 25, dtype);
            return withGrads(() => ops[op](x, poolSize, options), [x], 26);
          }, dtype), { requires: [dtype] });
        }
        // small integers tie within windows; the first two rows, all -Infinity, meet the padding
        check(`${dtype} ${op} ties and -Infinity`, () => samePaths(backend, opKernels('pool'), () => {
          const lost = ops.logicalOr(ops.less(uniform([2, 5, 4, 2], 27, dtype), -1.5), kiln.tensor([true, true, false, false, false], [1, 5, 1, 1]));
          const x = ops.where(lost, -Infinity, ops.round(uniform([2, 5, 4, 2], 28, dtype)));
          return withGrads(() => ops[op](x, 3, { strides: 1, padding: 'same' }), [x], 29);
        }, dtype), { requires: [dtype] });
      }
    }
  });

  group('convolution', () => {
    const cases: [string, number[][], (xs: Tensor[]) => Tensor][] = [
      ['conv 2D same, strides 2, 2 groups', [[2, 6, 5, 4], [3, 3, 2, 6]], ([x, w]) => ops.conv(x, w, { padding: 'same', strides: 2 })],
      ['conv 1D dilation 2, bias and relu', [[2, 9, 3], [3, 3, 4], [4]], ([x, w, b]) => convWithBias(x, w, { bias: b, activation: 'relu', dilationRate: 2 })],
      ['conv 3D channelsFirst, bias and sigmoid', [[1, 2, 4, 3, 3], [2, 2, 2, 2, 3], [3]], ([x, w, b]) => convWithBias(x, w, { bias: b, activation: 'sigmoid', dataFormat: 'channelsFirst' })],
      ['convTranspose same, strides 2', [[2, 3, 4, 2], [3, 3, 3, 2]], ([x, w]) => ops.convTranspose(x, w, { padding: 'same', strides: 2 })],
      ['depthwiseConv multiplier 2', [[2, 5, 5, 3], [3, 3, 3, 2]], ([x, w]) => ops.depthwiseConv(x, w)],
      ['separableConv, bias and tanh', [[1, 6, 5, 2], [3, 3, 2, 2], [1, 1, 4, 3], [3]], ([x, d, p, b]) => separableConvWithBias(x, d, p, { bias: b, activation: 'tanh', padding: 'same' })],
    ];
    for (const dtype of DTYPES) {
      for (const [name, shapes, f] of cases) {
        check(`${dtype} ${name}`, () => samePaths(backend, opKernels('conv'), () => {
          const xs = shapes.map((s, i) => uniform(s, 30 + i, dtype, -1, 1));
          return withGrads(() => f(xs), xs, 35);
        }, dtype), { requires: [dtype] });
      }
    }
    check('the second derivative through a fused conv equals the composition\'s', () => samePaths(backend, ['conv'], () => {
      const x = uniform([1, 5, 4, 2], 36, 'float32');
      const w = uniform([3, 2, 2, 3], 37, 'float32');
      const outer = new kiln.GradientTape();
      const dx = outer.record(() => {
        const inner = new kiln.GradientTape();
        const y = inner.record(() => ops.sum(ops.square(convWithBias(x, w, { activation: 'tanh', padding: 'same' }))));
        return ops.sum(ops.square(inner.gradient(y, x)!));
      });
      return [dx, outer.gradient(dx, w)!];
    }, 'float32'));
  });

  group('normalization', () => {
    for (const dtype of DTYPES) {
      for (const shape of [[5, 3], [2, 4, 3, 6]]) {
        check(`${dtype} moments over every axis but the last, [${shape}]`, () => samePaths(backend, opKernels('moments'), () => {
          const x = uniform(shape, 40, dtype);
          return withGrads(() => ops.concatenate(ops.moments(x, shape.map((_, i) => i).slice(0, -1))), [x], 41);
        }, dtype), { requires: [dtype] });
        check(`${dtype} batchNormalization with gamma and beta, [${shape}]`, () => samePaths(backend, opKernels('batchNorm'), () => {
          const C = shape[shape.length - 1];
          const x = uniform(shape, 42, dtype);
          const [m, g, b] = [uniform([C], 43, dtype), uniform([C], 44, dtype), uniform([C], 45, dtype)];
          const v = uniform([C], 46, dtype, 0, 2);
          return withGrads(() => ops.batchNormalization(x, m, v, -1, { scale: g, offset: b }), [x, m, v, g, b], 47);
        }, dtype), { requires: [dtype] });
      }
      for (const [shape, affine] of [[[5, 3], 'gamma and beta'], [[2, 4, 3, 6], 'gamma and beta'], [[6], 'gamma and beta'], [[4, 7], 'gamma only'], [[4, 7], 'beta only'], [[4, 1], 'neither']] as const) {
        check(`${dtype} layerNormalization over the last axis, ${affine}, [${shape}]`, () => samePaths(backend, opKernels('layerNorm'), () => {
          const C = shape[shape.length - 1];
          const x = uniform([...shape], 49, dtype);
          const g = affine === 'gamma and beta' || affine === 'gamma only' ? uniform([C], 50, dtype) : null;
          const b = affine === 'gamma and beta' || affine === 'beta only' ? uniform([C], 51, dtype) : null;
          const sources = [x, ...(g ? [g] : []), ...(b ? [b] : [])];
          return withGrads(() => ops.layerNormalization(x, { gamma: g, beta: b, epsilon: 1e-3 }), sources, 52);
        }, dtype), { requires: [dtype] });
      }
      check(`${dtype} LayerNormalization trains 3 steps to the same weights`, () => samePaths(backend, ['layerNorm', 'layerNormGrad'], async () => {
        kiln.setSeed(53);
        const model = new kiln.Sequential([
          kiln.Input({ shape: [4, 6], dtype }), new layers.Dense(5, { dtype }), new layers.LayerNormalization({ dtype }), new layers.Dense(2, { dtype }),
        ]);
        model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
        const [x, y] = [uniform([8, 4, 6], 54, dtype), uniform([8, 4, 2], 55, dtype)];
        for (let step = 0; step < 3; step++) await model.trainOnBatch(x, y);
        const out = kiln.tidy(() => model.weights.map((w) => ops.add(w.value, 0)));
        model.dispose();
        kiln.dispose([x, y]);
        return out;
      }, dtype), { requires: [dtype] });
      check(`${dtype} BatchNormalization trains 3 steps to the same weights and moving statistics`, () => samePaths(backend, ['moments', 'momentsGrad', 'batchNorm', 'batchNormGrad'], async () => {
        kiln.setSeed(48);
        const model = new kiln.Sequential([
          kiln.Input({ shape: [4, 3], dtype }), new layers.Conv1D(5, 2, { dtype }), new layers.BatchNormalization({ dtype }),
          new layers.Flatten({ dtype }), new layers.Dense(2, { dtype }),
        ]);
        model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
        const [x, y] = [uniform([8, 4, 3], 49, dtype), uniform([8, 2], 50, dtype)];
        await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0, shuffle: false });
        const out = kiln.tidy(() => model.weights.map((w) => ops.add(w.value, 0)));
        model.dispose();
        kiln.dispose([x, y]);
        return out;
      }, dtype), { requires: [dtype] });
    }
  });

  group('attention', () => {
    const attend = (q: Tensor, k: Tensor, v: Tensor, options: kiln.ops.DotProductAttentionOptions = {}) => withGrads(() => ops.dotProductAttention(q, k, v, options), [q, k, v], 61);
    for (const dtype of DTYPES) {
      const qkv = (T: number, S: number, N: number, K: number, H: number, seed: number) =>
        [uniform([2, T, N, H], seed, dtype), uniform([2, S, K, H], seed + 1, dtype), uniform([2, S, K, H], seed + 2, dtype)] as const;
      check(`${dtype} grouped heads, T < S`, () => samePaths(backend, opKernels('attention'), () => attend(...qkv(3, 5, 4, 2, 3, 62)), dtype), { requires: [dtype] });
      check(`${dtype} causal, T = S = 40 past a row block, a padding mask [B, 1, 1, S] spread over the queries`, () => samePaths(backend, opKernels('attention'), () => {
        const mask = ops.greater(kiln.random.uniform([2, 1, 1, 40], { seed: 65 }), 0.3);
        return attend(...qkv(40, 40, 2, 1, 5, 66), { isCausal: true, mask });
      }, dtype), { requires: [dtype] });
      check(`${dtype} a mask [T, S] with a fully masked row, T > S`, () => samePaths(backend, opKernels('attention'), () => {
        const mask = kiln.tensor([[true, false], [false, false], [false, true], [true, true]]);
        return attend(...qkv(4, 2, 2, 2, 3, 69), { mask, scale: 0.8 });
      }, dtype), { requires: [dtype] });
      check(`${dtype} with a bias composes`, () => samePaths(backend, [], () => {
        const bias = uniform([4, 3, 5], 72, dtype);
        return attend(...qkv(3, 5, 4, 2, 3, 73), { bias });
      }, dtype), { requires: [dtype] });
    }
  });

  group('recurrent', () => {
    // small, and past the native gate pass's thread split and the GEMM's k block
    const SHAPES = [[3, 5, 4], [70, 3, 50]] as const;
    const MASKS = [['no mask', false, false], ['masked', true, false], ['masked, zeroOutputForMask', true, true]] as const;
    for (const dtype of DTYPES) {
      for (const [B, T, U] of SHAPES) {
        for (const [maskName, masked, zeroOutputForMask] of MASKS) {
          const name = `${dtype} B=${B} T=${T} U=${U} ${maskName}`;
          const mask = () => (masked ? ops.greater(uniform([B, T], 20, 'float32', 0, 1), 0.3) : null);
          check(`lstm ${name}`, () => samePaths(backend, opKernels('lstm'), () => {
            const [x, h0, c0, k] = [uniform([B, T, 4 * U], 21, dtype), uniform([B, U], 22, dtype), uniform([B, U], 23, dtype), uniform([U, 4 * U], 24, dtype, -0.3, 0.3)];
            const m = mask();
            return withGrads(() => flat(lstmSequence(x, h0, c0, k, { mask: m, zeroOutputForMask })), [x, h0, c0, k], 25);
          }, dtype), { requires: [dtype] });
          for (const resetAfter of [true, false]) {
            check(`gru resetAfter=${resetAfter} ${name}`, () => samePaths(backend, opKernels('gru'), () => {
              const [x, h0, k] = [uniform([B, T, 3 * U], 31, dtype), uniform([B, U], 32, dtype), uniform([U, 3 * U], 33, dtype, -0.3, 0.3)];
              const bias = resetAfter ? uniform([3 * U], 34, dtype) : null;
              const m = mask();
              const sources = bias ? [x, h0, k, bias] : [x, h0, k];
              return withGrads(() => flat(gruSequence(x, h0, k, bias, { mask: m, zeroOutputForMask, resetAfter })), sources, 35);
            }, dtype), { requires: [dtype] });
          }
          check(`simpleRnn ${name}`, () => samePaths(backend, opKernels('simpleRnn'), () => {
            const [x, h0, k] = [uniform([B, T, U], 41, dtype), uniform([B, U], 42, dtype), uniform([U, U], 43, dtype, -0.3, 0.3)];
            const m = mask();
            return withGrads(() => flat(simpleRnnSequence(x, h0, k, { mask: m, zeroOutputForMask })), [x, h0, k], 44);
          }, dtype), { requires: [dtype] });
        }
      }
    }
  });

  group('higher order', () => {
    check('the second derivative through a fused Dense and softmax equals the composition\'s', () => samePaths(backend, ['dense'], () => {
      const layer = new layers.Dense(3, { activation: 'tanh', kernelInitializer: { className: 'RandomUniform', config: { seed: 21 } } });
      const x = uniform([2, 4], 22, 'float32');
      layer.build(x.shape);
      const outer = new kiln.GradientTape();
      const dx = outer.record(() => {
        const inner = new kiln.GradientTape();
        const y = inner.record(() => ops.sum(ops.square(ops.softmax(layer.apply(x) as Tensor))));
        return ops.sum(ops.square(inner.gradient(y, x)!));
      });
      const out = [dx, outer.gradient(dx, x)!];
      layer.dispose();
      return out;
    }, 'float32'));
    check('the second derivative through a fused layerNormalization equals the composition\'s', () => samePaths(backend, ['layerNorm'], () => {
      const [x, g, b] = [uniform([3, 5], 56, 'float32'), uniform([5], 57, 'float32'), uniform([5], 58, 'float32')];
      const outer = new kiln.GradientTape();
      const dx = outer.record(() => {
        const inner = new kiln.GradientTape();
        const y = inner.record(() => ops.sum(ops.square(ops.multiply(ops.layerNormalization(x, { gamma: g, beta: b }), x))));
        return ops.sum(ops.square(inner.gradient(y, x)!));
      });
      return [dx, ...outer.gradient(dx, [x, g]).map((t) => t!)];
    }, 'float32'));
  });

  group('training', () => {
    check('an MLP trained 6 steps with Adam ends at the same weights and losses', () => samePaths(backend, ['dense', 'denseGrad', 'softmax', 'crossEntropy', 'applyUpdate'], async () => {
      kiln.setSeed(23);
      const model = new kiln.Sequential([
        kiln.Input({ shape: [10] }),
        new layers.Dense(8, { activation: 'relu' }),
        new layers.Dense(8, { activation: 'sigmoid' }),
        new layers.Dense(3, { activation: 'softmax' }),
      ]);
      model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.01 }), loss: 'sparse_categorical_crossentropy' });
      const x = uniform([12, 10], 24, 'float32');
      const y = kiln.tensor([0, 1, 2, 0, 1, 2, 2, 1, 0, 0, 1, 2], [12], 'int32');
      const history: number[] = [];
      for (let step = 0; step < 6; step++) history.push((await model.trainOnBatch(x, y)).loss);
      const out = kiln.tidy(() => [kiln.tensor(history), ...model.weights.map((w) => ops.add(w.value, 0))]);
      model.dispose();
      kiln.dispose([x, y]);
      return out;
    }, 'float32'));
  });

  group('finite differences', () => {
    const fd = (name: string, f: (x: Tensor) => Tensor, make: () => Tensor) =>
      check(name, () => {
        const x = make();
        const g = kiln.grad(f)(x) as Tensor;
        const expected = finiteDifferences(f, x);
        const got = Array.from(g.dataSync());
        got.forEach((v, i) => expect(close(v, expected[i], 1e-6, 1e-8), `element ${i}: autodiff ${v}, finite differences ${expected[i]}`).toBe(true));
        kiln.dispose([x, g]);
      }, { requires: ['float64'] });
    const w = () => kiln.tensor([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4], [-0.9, 0.8, 0.6], [0.1, -0.2, 0.3]], [4, 3], 'float64');
    const b = () => kiln.tensor([0.1, -0.3, 0.2], [3], 'float64');
    const labels = () => kiln.tensor([2, 0], [2], 'int32');
    for (const activation of ['linear', 'relu', 'sigmoid', 'tanh'] as const) {
      fd(`dense ${activation}, sparse crossentropy from logits`, (x) => ops.sum(losses.sparseCategoricalCrossentropy(labels(), dense(x, w(), b(), activation), { fromLogits: true })),
        () => kiln.tensor([[0.5, -1.2, 0.3, 0.8], [-0.4, 0.9, 1.5, -0.6]], [2, 4], 'float64'));
    }
    fd('softmax then crossentropy from probabilities', (x) => ops.sum(losses.sparseCategoricalCrossentropy(labels(), ops.softmax(x))),
      () => kiln.tensor([[0.5, -1.2, 0.3], [-0.4, 0.9, 1.5]], [2, 3], 'float64'));
    const centred = () => kiln.tensor([[0.5, -1.2, 0.3], [-0.4, 0.9, 1.5], [1.1, 0.2, -0.7], [0.3, 0.3, 2.0]], [4, 3], 'float64');
    const mix = () => kiln.tensor([[1, -2, 3], [0.5, 0.1, -1], [2, 0.7, -0.3], [-1.5, 1, 0.4]], [4, 3], 'float64');
    fd('batch statistics then batchNormalization (a training BatchNormalization)', (x) => {
      const [m, v] = ops.moments(x, [0]);
      return ops.sum(ops.multiply(ops.batchNormalization(x, m, v, -1, { scale: [0.5, -1.5, 2], offset: [0.1, 0.2, 0.3], epsilon: 1e-3 }), mix()));
    }, centred);
    const layerWeights = () => kiln.tensor([0.5, -1.5, 2], [3], 'float64');
    const layerOffsets = () => kiln.tensor([0.1, 0.2, -0.3], [3], 'float64');
    // the third row is constant: its variance is 0 and only epsilon keeps the gradient finite
    const layerInput = () => kiln.tensor([[0.5, -1.2, 0.3], [-0.4, 0.9, 1.5], [0.7, 0.7, 0.7], [1000.3, 999.1, 1000.8]], [4, 3], 'float64');
    const layerNorm = (x: Tensor, gamma: Tensor, beta: Tensor) =>
      ops.sum(ops.multiply(ops.layerNormalization(x, { gamma, beta, epsilon: 1e-3 }), mix()));
    fd('layerNormalization by x', (x) => layerNorm(x, layerWeights(), layerOffsets()), layerInput);
    fd('layerNormalization by gamma', (g) => layerNorm(layerInput(), g, layerOffsets()), layerWeights);
    fd('layerNormalization by beta', (b) => layerNorm(layerInput(), layerWeights(), b), layerOffsets);
    fd('moments over the rows', (x) => ops.sum(ops.multiply(ops.concatenate(ops.moments(x, [0])), kiln.tensor([1, -2, 0.5, 3, 0.7, -1], [6], 'float64'))), centred);
    const attentionInput = (shape: number[], seed: number) => () => kiln.tensor(Array.from({ length: shape.reduce((a, d) => a * d) }, (_, i) => Math.sin(seed + 1.7 * i)), shape, 'float64');
    const [q, kv, w4] = [attentionInput([1, 3, 2, 2], 1), attentionInput([1, 4, 1, 2], 2), attentionInput([1, 3, 2, 2], 3)];
    // row 1 of the mask sees nothing but is hidden by nothing else than the mask; causal hides the rest
    const attentionMask = () => kiln.tensor([[true, true, false, true], [false, false, false, false], [true, false, true, true]]);
    const attend = (a: Tensor, b: Tensor, c: Tensor) => ops.sum(ops.multiply(ops.dotProductAttention(a, b, c, { mask: attentionMask(), isCausal: true }), w4()));
    fd('dotProductAttention, causal and masked, by query', (x) => attend(x, kv(), attentionInput([1, 4, 1, 2], 4)()), q);
    fd('dotProductAttention, causal and masked, by key', (x) => attend(q(), x, attentionInput([1, 4, 1, 2], 4)()), kv);
    fd('dotProductAttention, causal and masked, by value', (x) => attend(q(), kv(), x), kv);
    const f64 = (shape: number[], seed: number, scale = 1) => uniform(shape, seed, 'float64', -scale, scale);
    const rnnMask = () => kiln.tensor([true, false, true, true, false, false, true, true], [2, 4], 'bool');
    const rnnWeights = (n: number) => f64([n], 50);
    fd('lstmSequence over xProj, masked', (x) => ops.sum(ops.multiply(flat(lstmSequence(x, f64([2, 3], 51), f64([2, 3], 52), f64([3, 12], 53, 0.5), { mask: rnnMask() })), rnnWeights(36))),
      () => f64([2, 4, 12], 54));
    fd('lstmSequence over the recurrent kernel', (k) => ops.sum(ops.multiply(flat(lstmSequence(f64([2, 4, 12], 54), f64([2, 3], 51), f64([2, 3], 52), k)), rnnWeights(36))),
      () => f64([3, 12], 53, 0.5));
    fd('gruSequence over the recurrent kernel, reset before, zeroOutputForMask', (k) => ops.sum(ops.multiply(
      flat(gruSequence(f64([2, 4, 9], 55), f64([2, 3], 56), k, null, { resetAfter: false, mask: rnnMask(), zeroOutputForMask: true })), rnnWeights(30))),
    () => f64([3, 9], 57, 0.5));
    fd('gruSequence over the recurrent bias', (b) => ops.sum(ops.multiply(
      flat(gruSequence(f64([2, 4, 9], 55), f64([2, 3], 56), f64([3, 9], 57, 0.5), b, { resetAfter: true, mask: rnnMask() })), rnnWeights(30))),
    () => f64([9], 58));
    fd('simpleRnnSequence over h0', (h) => ops.sum(ops.multiply(flat(simpleRnnSequence(f64([2, 4, 3], 59), h, f64([3, 3], 60, 0.5), { mask: rnnMask() })), rnnWeights(30))),
      () => f64([2, 3], 61));
    fd('logSoftmax', (x) => ops.sum(ops.multiply(ops.logSoftmax(x), kiln.tensor([[1, -2, 3], [0.5, 0.1, -1]], [2, 3], 'float64'))),
      () => kiln.tensor([[0.5, -1.2, 0.3], [-0.4, 0.9, 1.5]], [2, 3], 'float64'));
  });
});

/** A recurrent function's results (outputs, h, and c for LSTM) as one flat tensor. */
function flat(results: Record<string, Tensor>): Tensor {
  return ops.concatenate(Object.values(results).map((t) => ops.reshape(t, [-1])));
}

/** Dense's function on plain tensors, through the layer's own code path. */
function dense(x: Tensor, w: Tensor, b: Tensor, activation: 'linear' | 'relu' | 'sigmoid' | 'tanh'): Tensor {
  const layer = new layers.Dense(w.shape[1], { activation, dtype: 'float64' });
  layer.build(x.shape);
  layer.kernel!.assign(w);
  layer.bias!.assign(b);
  const y = layer.apply(x) as Tensor;
  layer.dispose();
  return y;
}
