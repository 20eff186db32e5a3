/**
 * kiln on one of its backends ('reference', 'native', …), through its public API only: fit,
 * predictOnBatch and ops.matmul, as a user would call them.
 */
import * as kiln from 'kiln';
import { accuracy, randomInput } from '../data.js';
import { inputShape, Missing, type Arch, type JsEngine, type Runner, type TrainOutcome, type TrainSpec } from './engine.js';
import { now } from '../stats.js';

const { layers } = kiln;

/** The W3 CNN, if this kiln has the layers (Keras's constructor shapes are assumed). */
function cnnLayers(): kiln.Layer[] {
  const l = layers as unknown as Record<string, new (...args: unknown[]) => kiln.Layer>;
  if (!l.Conv2D || !l.MaxPooling2D) throw new Missing('n/a (no Conv2D yet)');
  return [
    new l.Conv2D(32, 3, { activation: 'relu' }),
    new l.MaxPooling2D(2),
    new l.Conv2D(64, 3, { activation: 'relu' }),
    new l.MaxPooling2D(2),
    new layers.Flatten(),
    new layers.Dense(128, { activation: 'relu' }),
    new layers.Dense(10, { activation: 'softmax' }),
  ];
}

/** The W2 MLP or W3 CNN; softmax output as in examples/mnist-mlp.ts (Keras's usual MNIST model). */
export function buildModel(arch: Arch): kiln.Sequential {
  const body = arch === 'mlp'
    ? [new layers.Dense(256, { activation: 'relu' }), new layers.Dense(256, { activation: 'relu' }), new layers.Dense(10, { activation: 'softmax' })]
    : cnnLayers();
  return new kiln.Sequential([kiln.Input({ shape: inputShape(arch) }), ...body]);
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
      return {
        async call() {
          const c = kiln.ops.matmul(a, b);
          await c.data();
          c.dispose();
        },
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
      const model = buildModel(arch);
      const shape = [batch, ...inputShape(arch)];
      const x = kiln.tensor(randomInput(shape.reduce((p, d) => p * d, 1)), shape);
      return {
        async call() {
          const out = model.predictOnBatch(x) as kiln.Tensor;
          await out.data();
          out.dispose();
        },
        dispose: () => {
          x.dispose();
          model.dispose();
        },
      };
    },
  };
}
