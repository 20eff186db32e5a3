/**
 * kiln on one of its backends ('reference', 'native', …), through its public API only: fit,
 * predictOnBatch and ops.matmul, as a user would call them.
 */
import * as kiln from 'kiln';
import { accuracy, randomInput } from '../data.js';
import { inputShape, Missing, type Arch, type JsEngine, type Runner, type TrainOutcome, type TrainSpec } from './engine.js';
import { now } from '../stats.js';

const { layers } = kiln;

/** Bias initializer of the models' Dense layers: Keras's zeros, or W4's random draws (see predictor). */
type Biases = 'zeros' | 'random_uniform';

/** The W3 CNN, if this kiln has the layers (Keras's constructor shapes are assumed). */
function cnnLayers(biasInitializer: Biases): kiln.Layer[] {
  const l = layers as unknown as Record<string, new (...args: unknown[]) => kiln.Layer>;
  if (!l.Conv2D || !l.MaxPooling2D) throw new Missing('n/a (no Conv2D yet)');
  return [
    new l.Conv2D(32, 3, { activation: 'relu', biasInitializer }),
    new l.MaxPooling2D(2),
    new l.Conv2D(64, 3, { activation: 'relu', biasInitializer }),
    new l.MaxPooling2D(2),
    new layers.Flatten(),
    new layers.Dense(128, { activation: 'relu', biasInitializer }),
    new layers.Dense(10, { activation: 'softmax', biasInitializer }),
  ];
}

/** The W2 MLP or W3 CNN; softmax output as in examples/mnist-mlp.ts (Keras's usual MNIST model). */
export function buildModel(arch: Arch, biasInitializer: Biases = 'zeros'): kiln.Sequential {
  const body = arch === 'mlp'
    ? [
      new layers.Dense(256, { activation: 'relu', biasInitializer }),
      new layers.Dense(256, { activation: 'relu', biasInitializer }),
      new layers.Dense(10, { activation: 'softmax', biasInitializer }),
    ]
    : cnnLayers(biasInitializer);
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

export async function kilnEngine(backend: string): Promise<JsEngine> {
  const status = kiln.listBackends().find((b) => b.name === backend);
  if (!status) throw new Missing(`kiln has no backend '${backend}'`);
  if (!status.available) throw new Missing(`backend unavailable: ${status.reason}`);
  await kiln.setBackend(backend);
  kiln.setSeed(1);
  // reference is plain JavaScript on the main thread; native reads KILN_NUM_THREADS, which run.ts sets
  const threads = backend === 'reference' ? 1 : Number(process.env.KILN_NUM_THREADS ?? 1);

  return {
    name: `kiln ${backend}`,
    threads,
    info: `kiln ${kiln.version}, backend ${kiln.getBackend()}`,

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
      });
      const { train, test } = spec.data;
      const shape = inputShape(spec.arch);
      const x = kiln.tensor(train.x.subarray(0, spec.samples * 784), [spec.samples, ...shape]);
      const y = kiln.tensor(train.y.subarray(0, spec.samples), [spec.samples], 'int32');
      const cb = new Stamps();
      await model.fit(x, y, { epochs: 1, batchSize: spec.batchSize, shuffle: true, verbose: 0, callbacks: [cb] });
      cb.stamps.push(now());
      kiln.dispose([x, y]);
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

    async predictor(arch: Arch, batch: number): Promise<Runner> {
      // random biases rather than zeros, so that the result check sees a bias added in the wrong
      // place (issue #17's planted GEMM epilogue bug); the time is the same either way
      const model = buildModel(arch, 'random_uniform');
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
