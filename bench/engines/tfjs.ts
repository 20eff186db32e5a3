/**
 * TensorFlow.js (tfjs-layers' fit and predict) on its 'cpu' (plain JavaScript) or 'wasm'
 * (XNNPACK) backend. The WASM binaries ship inside the npm package; they are loaded from
 * node_modules by file path, since nothing else can be fetched here.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { accuracy, randomInput } from '../data.js';
import { now } from '../stats.js';
import { inputShape, Missing, type Arch, type JsEngine, type Runner, type TrainOutcome, type TrainSpec } from './engine.js';

/**
 * The W2 MLP or W3 CNN (bench/engines/kiln.ts's), with Keras's initial biases and statistics or
 * (W4, as in kiln.ts) random ones.
 */
function buildModel(arch: Arch, init: 'keras' | 'random' = 'keras'): tf.Sequential {
  const relu = 'relu' as const;
  const random = init === 'random';
  const around0 = () => tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05 });
  const around1 = () => tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5 });
  const bias = () => ({ biasInitializer: random ? around0() : 'zeros' as const });
  // tfjs's defaults are Keras's: momentum 0.99, epsilon 1e-3
  const batchNorm = () => tf.layers.batchNormalization(random
    ? { gammaInitializer: around1(), betaInitializer: around0(), movingMeanInitializer: around0(), movingVarianceInitializer: around1() }
    : {});
  const layers: tf.layers.Layer[] = arch === 'mlp'
    ? [
      tf.layers.dense({ units: 256, activation: relu, inputShape: [784], ...bias() }),
      tf.layers.dense({ units: 256, activation: relu, ...bias() }),
    ]
    : [
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: relu, inputShape: [28, 28, 1], ...bias() }),
      batchNorm(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: relu, ...bias() }),
      batchNorm(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: relu, ...bias() }),
      tf.layers.dropout({ rate: 0.5 }),
    ];
  return tf.sequential({ layers: [...layers, tf.layers.dense({ units: 10, activation: 'softmax', ...bias() })] });
}

const values = async (t: tf.Tensor): Promise<Float32Array> => (await t.data()) as Float32Array;

export async function tfjsEngine(backend: 'cpu' | 'wasm', threads: number): Promise<JsEngine> {
  if (backend === 'wasm') {
    const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/';
    setWasmPaths(dist);
    setThreadsCount(threads);
  }
  if (!(await tf.setBackend(backend))) throw new Missing(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  // tfjs's cpu backend is single-threaded JavaScript; wasm reports what XNNPACK really got
  const used = backend === 'wasm' ? getThreadsCount() : 1;

  return {
    name: `tfjs ${backend}`,
    threads: used,
    info: `@tensorflow/tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}${backend === 'wasm' ? `, SIMD ${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')}, multithread ${await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')}` : ''}`,

    async matmul(n: number): Promise<Runner> {
      const a = tf.randomUniform([n, n]);
      const b = tf.randomUniform([n, n]);
      const product = async (): Promise<Float32Array> => {
        const c = tf.matMul(a, b);
        const out = await values(c);
        c.dispose();
        return out;
      };
      return {
        call: product,
        computed: async () => ({ output: await product(), inputs: [await values(a), await values(b)] }),
        dispose: () => tf.dispose([a, b]),
      };
    },

    async train(spec: TrainSpec): Promise<TrainOutcome> {
      const model = buildModel(spec.arch);
      model.compile({ optimizer: tf.train.adam(spec.learningRate), loss: 'sparseCategoricalCrossentropy' });
      const { train, test } = spec.data;
      const shape = inputShape(spec.arch);
      const x = tf.tensor(train.x.subarray(0, spec.samples * 784), [spec.samples, ...shape]);
      const y = tf.tensor(train.y.subarray(0, spec.samples), [spec.samples, 1], 'float32');
      const stamps: number[] = [];
      try {
        await model.fit(x, y, {
          epochs: 1, batchSize: spec.batchSize, shuffle: true, verbose: 0, yieldEvery: 'never',
          callbacks: { onBatchBegin: async () => void stamps.push(now()) },
        });
      } catch (err) {
        // e.g. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter: it cannot train the CNN
        const kernel = /Kernel '(\w+)' not registered/.exec((err as Error).message);
        if (kernel) throw new Missing(`tfjs ${backend} has no '${kernel[1]}' kernel`);
        throw err;
      }
      stamps.push(now());
      tf.dispose([x, y]);
      let acc: number | null = null;
      if (spec.evaluate) {
        const xTest = tf.tensor(test.x, [test.n, ...shape]);
        const scores = model.predict(xTest, { batchSize: 1000 }) as tf.Tensor;
        acc = accuracy((await scores.data()) as Float32Array, test.y);
        tf.dispose([xTest, scores]);
      }
      model.dispose();
      return { stamps, accuracy: acc };
    },

    async trainSequences(): Promise<never> {
      throw new Missing('not run: W5/W6 compare kiln with PyTorch');
    },

    async predictor(arch: Arch, batch: number): Promise<Runner> {
      const model = buildModel(arch, 'random');
      const shape = [batch, ...inputShape(arch)];
      const input = randomInput(shape.reduce((p, d) => p * d, 1));
      const x = tf.tensor(input, shape);
      const predict = async (): Promise<Float32Array> => {
        const out = model.predict(x) as tf.Tensor;
        const scores = await values(out);
        out.dispose();
        return scores;
      };
      return {
        call: predict,
        // layer by layer, as Keras orders them: tfjs's model.getWeights() puts every layer's
        // trainable weights before any non-trainable one (BatchNormalization's moving statistics)
        computed: async () => ({ output: await predict(), inputs: [input], weights: await Promise.all(model.layers.flatMap((l) => l.getWeights()).map(values)) }),
        dispose: () => {
          x.dispose();
          model.dispose();
        },
      };
    },
  };
}
