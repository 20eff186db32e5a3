/**
 * kiln on one of its backends ('reference', 'native', …), through its public API only: fit,
 * predictOnBatch and ops.matmul, as a user would call them.
 */
import * as kiln from 'kiln';
import { join } from 'node:path';
import { accuracy, mnistFolder, randomInput } from '../data.js';
import { inputShape, Missing, type Arch, type JsEngine, type Runner, type TrainOutcome, type TrainSpec } from './engine.js';
import { now } from '../stats.js';
import { trainSequences } from './kiln-sequences.js';

const { layers } = kiln;

/**
 * How the models' weights start: Keras's defaults (zero biases; BatchNormalization's gamma 1,
 * beta 0, moving mean 0, moving variance 1) for training, or W4's random draws for all of those
 * (see predictor): with the defaults, a bias added in the wrong place or a BatchNormalization
 * folded wrongly changes nothing the result check could see.
 */
export type Init = 'keras' | 'random';

/** W4's draws: biases and offsets around 0, scales and variances around 1. */
const around0 = { className: 'RandomUniform', config: { minval: -0.05, maxval: 0.05 } };
const around1 = { className: 'RandomUniform', config: { minval: 0.5, maxval: 1.5 } };

const biasOf = (init: Init) => ({ biasInitializer: init === 'random' ? around0 : 'zeros' });
const statisticsOf = (init: Init) => (init === 'random'
  ? { gammaInitializer: around1, betaInitializer: around0, movingMeanInitializer: around0, movingVarianceInitializer: around1 }
  : {});

/**
 * The W3 CNN, examples/mnist-cnn.ts's network on [28, 28, 1] inputs (the example's first layer,
 * a Reshape from [28, 28], moves no data and is left out here, as in the peers' models).
 */
function cnnLayers(init: Init): kiln.Layer[] {
  return [
    new layers.Conv2D(32, 3, { activation: 'relu', ...biasOf(init) }),
    new layers.BatchNormalization(statisticsOf(init)),
    new layers.MaxPooling2D(2),
    new layers.Conv2D(64, 3, { activation: 'relu', ...biasOf(init) }),
    new layers.BatchNormalization(statisticsOf(init)),
    new layers.MaxPooling2D(2),
    new layers.Flatten(),
    new layers.Dense(128, { activation: 'relu', ...biasOf(init) }),
    new layers.Dropout(0.5),
    new layers.Dense(10, { activation: 'softmax', ...biasOf(init) }),
  ];
}

/** The W2 MLP or W3 CNN; softmax output as in examples/mnist-mlp.ts and mnist-cnn.ts. */
export function buildModel(arch: Arch, init: Init = 'keras'): kiln.Sequential {
  const body = arch === 'mlp'
    ? [
      new layers.Dense(256, { activation: 'relu', ...biasOf(init) }),
      new layers.Dense(256, { activation: 'relu', ...biasOf(init) }),
      new layers.Dense(10, { activation: 'softmax', ...biasOf(init) }),
    ]
    : cnnLayers(init);
  return new kiln.Sequential([kiln.Input({ shape: inputShape(arch) }), ...body]);
}

/** The model's weights as float32 arrays, in getWeights order (for the result checks). */
export async function weightsOf(model: kiln.Model): Promise<Float32Array[]> {
  const ws = model.getWeights();
  const out = await Promise.all(ws.map(async (w) => (await w.data()) as Float32Array));
  kiln.dispose(ws);
  return out;
}

/** Stamps each step's start. It overrides only a *Begin hook, so fit reads no logs back per step. */
class Stamps extends kiln.callbacks.Callback {
  readonly stamps: number[] = [];
  override onTrainBatchBegin(): void {
    this.stamps.push(now());
  }
}

/**
 * How training gets its batches: `tensors` is fit(x, y) on the whole arrays; `dataset` reads the
 * same IDX files through kiln.data (fromIdx, shuffle, batch, map, prefetch), to measure what
 * the pipeline costs per step against the tensor path.
 */
export type Feed = 'tensors' | 'dataset';

/** W2/W3 batches through the Dataset pipeline a user would write for MNIST. */
function mnistPipeline(arch: Arch, samples: number, batchSize: number) {
  const file = (name: string) => join(mnistFolder(), name);
  const shape = inputShape(arch);
  return kiln.data.Dataset.fromIdx(file('train-images-idx3-ubyte'), file('train-labels-idx1-ubyte'), { dtype: 'float32', scale: 1 / 255 })
    .take(samples)
    .shuffle(samples, { seed: 1 })
    .batch(batchSize)
    .map(([x, y]) => [kiln.ops.reshape(x, [-1, ...shape]), y] as const)
    .prefetch(2);
}

export async function kilnEngine(backend: string, feed: Feed = 'tensors'): Promise<JsEngine> {
  const status = kiln.listBackends().find((b) => b.name === backend);
  if (!status) throw new Missing(`kiln has no backend '${backend}'`);
  if (!status.available) throw new Missing(`backend unavailable: ${status.reason}`);
  await kiln.setBackend(backend);
  kiln.setSeed(1);
  // reference is plain JavaScript on the main thread; native reads KILN_NUM_THREADS, which run.ts sets
  const threads = backend === 'reference' ? 1 : Number(process.env.KILN_NUM_THREADS ?? 1);

  return {
    name: feed === 'dataset' ? `kiln ${backend} dataset` : `kiln ${backend}`,
    threads,
    info: `kiln ${kiln.version}, backend ${kiln.getBackend()}${backend === 'webgpu' ? `, Vulkan driver ${process.env.VK_ICD_FILENAMES ?? 'of the system'}` : ''}`,

    async matmul(n: number): Promise<Runner> {
      const a = kiln.random.uniform([n, n]);
      const b = kiln.random.uniform([n, n]);
      const product = async (): Promise<Float32Array> => {
        const c = kiln.ops.matmul(a, b);
        const out = (await c.data()) as Float32Array;
        c.dispose();
        return out;
      };
      return {
        call: product,
        computed: async () => ({ output: await product(), inputs: [(await a.data()) as Float32Array, (await b.data()) as Float32Array] }),
        dispose: () => kiln.dispose([a, b]),
      };
    },

    async train(spec: TrainSpec): Promise<TrainOutcome> {
      const model = buildModel(spec.arch);
      model.compile({
        optimizer: new kiln.optimizers.Adam({ learningRate: spec.learningRate }),
        loss: 'sparse_categorical_crossentropy',
        // the forward and backward half of each step replayed (models/jit.ts); the CNN's
        // BatchNormalization and Dropout keep it eager, and it says so in jitStatus
        jitCompile: true,
      });
      const { train, test } = spec.data;
      const shape = inputShape(spec.arch);
      const cb = new Stamps();
      if (feed === 'dataset') {
        await model.fit(mnistPipeline(spec.arch, spec.samples, spec.batchSize), { epochs: 1, verbose: 0, callbacks: [cb] });
      } else {
        const x = kiln.tensor(train.x.subarray(0, spec.samples * 784), [spec.samples, ...shape]);
        const y = kiln.tensor(train.y.subarray(0, spec.samples), [spec.samples], 'int32');
        await model.fit(x, y, { epochs: 1, batchSize: spec.batchSize, shuffle: true, verbose: 0, callbacks: [cb] });
        kiln.dispose([x, y]);
      }
      cb.stamps.push(now());
      let acc: number | null = null;
      if (spec.evaluate) {
        const xTest = kiln.tensor(test.x, [test.n, ...shape]);
        const scores = (await model.predict(xTest, { batchSize: 1000 })) as kiln.Tensor;
        acc = accuracy((await scores.data()) as Float32Array, test.y);
        kiln.dispose([xTest, scores]);
      }
      model.dispose();
      return { stamps: cb.stamps, accuracy: acc };
    },

    async trainSequences(spec) {
      if (backend === 'reference') throw new Missing('not run: a W5/W6 step takes minutes in plain JavaScript');
      return trainSequences(spec);
    },

    async predictor(arch: Arch, batch: number): Promise<Runner> {
      // random biases and statistics rather than Keras's zeros and ones, so that the result check
      // sees a bias added in the wrong place (issue #17's planted GEMM epilogue bug) or a
      // BatchNormalization folded wrongly; the time is the same either way
      const model = buildModel(arch, 'random');
      // a server's setting: each input shape's kernels recorded once and replayed (models/jit.ts)
      model.compile({ jitCompile: true });
      const shape = [batch, ...inputShape(arch)];
      const input = randomInput(shape.reduce((p, d) => p * d, 1));
      const x = kiln.tensor(input, shape);
      const predict = async (): Promise<Float32Array> => {
        const out = model.predictOnBatch(x) as kiln.Tensor;
        const values = (await out.data()) as Float32Array;
        out.dispose();
        return values;
      };
      return {
        call: predict,
        computed: async () => ({ output: await predict(), inputs: [input], weights: await weightsOf(model) }),
        dispose: () => {
          x.dispose();
          model.dispose();
        },
      };
    },
  };
}
