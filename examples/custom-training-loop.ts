// Keras's "writing a training loop from scratch": no fit(). Each step runs the model under a
// GradientTape, takes the gradients of the loss with respect to model.trainableWeights, and hands
// them to optimizer.applyGradients; metrics accumulate with updateState, report with result and
// start over each epoch with resetState. The guide's model and data: a 784 → 64 → 64 → 10 MLP
// giving logits, on MNIST (here a subset, so that it runs in seconds), Adam 1e-3, batch 32.
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

const { layers, ops } = kiln;

/** `n` samples of an MNIST split from `start`, images flattened to 784 values in [0, 1]. */
function rows([x, y]: [kiln.Tensor, kiln.Tensor], start: number, n: number): [kiln.Tensor, kiln.Tensor] {
  return kiln.tidy(() => [ops.reshape(ops.slice(x, [start, 0, 0], [n, 28, 28]), [n, 784]), ops.slice(y, [start], [n])]);
}

export async function run({ trainSamples = 8192, valSamples = 2048, epochs = 3, batchSize = 32, seed = 1, log = true } = {}) {
  kiln.setSeed(seed);
  const mnist = await kiln.datasets.mnist({ normalize: true });
  // as in the guide, validation samples are held out from the end of the training split
  const [xTrain, yTrain] = rows(mnist.train, 0, trainSamples);
  const [xVal, yVal] = rows(mnist.train, 60000 - valSamples, valSamples);
  kiln.dispose([...mnist.train, ...mnist.test]);

  const model = new kiln.Sequential([
    kiln.Input({ shape: [784], name: 'digits' }),
    new layers.Dense(64, { activation: 'relu' }),
    new layers.Dense(64, { activation: 'relu' }),
    new layers.Dense(10, { name: 'predictions' }),
  ]);
  const optimizer = new kiln.optimizers.Adam({ learningRate: 1e-3 });
  const lossFn = new kiln.losses.SparseCategoricalCrossentropy({ fromLogits: true });
  const trainAccuracy = new kiln.metrics.SparseCategoricalAccuracy();
  const valAccuracy = new kiln.metrics.SparseCategoricalAccuracy();
  const lossMean = new kiln.metrics.Mean({ name: 'loss' });
  const weights = model.trainableWeights;

  const history: { loss: number; trainAccuracy: number; valAccuracy: number; seconds: number }[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const start = performance.now();
    const order = kiln.random.permutation(trainSamples);
    for (let from = 0; from < trainSamples; from += batchSize) {
      // tidy frees the step's tensors (batch, activations, gradients); the metrics keep their state
      kiln.tidy(() => {
        const rows = order.subarray(from, Math.min(from + batchSize, trainSamples));
        const index = kiln.tensor(rows, [rows.length], 'int32');
        const [xBatch, yBatch] = [ops.take(xTrain, index, 0), ops.take(yTrain, index, 0)];
        const tape = new kiln.GradientTape();
        let logits: kiln.Tensor | null = null;
        const loss = tape.record(() => {
          logits = model.apply(xBatch, { training: true }) as kiln.Tensor;
          return lossFn.apply(yBatch, logits);
        });
        const grads = tape.gradient(loss, weights);
        optimizer.applyGradients(grads.map((g, i) => [g, weights[i]] as const));
        trainAccuracy.updateState(yBatch, logits!);
        lossMean.updateState(loss);
      });
    }
    for (let from = 0; from < valSamples; from += 256) {
      kiln.tidy(() => {
        const n = Math.min(256, valSamples - from);
        const logits = model.apply(ops.slice(xVal, [from, 0], [n, 784]), { training: false }) as kiln.Tensor;
        valAccuracy.updateState(ops.slice(yVal, [from], [n]), logits);
      });
    }
    const read = async (metric: kiln.metrics.Metric) => {
      const result = metric.result();
      const value = (await result.data())[0];
      result.dispose();
      metric.resetState();
      return value;
    };
    const logs = { loss: await read(lossMean), trainAccuracy: await read(trainAccuracy), valAccuracy: await read(valAccuracy), seconds: (performance.now() - start) / 1000 };
    history.push(logs);
    if (log) {
      console.log(`epoch ${epoch + 1}/${epochs}: loss ${logs.loss.toFixed(4)}, train accuracy ${logs.trainAccuracy.toFixed(4)}, ` +
        `validation accuracy ${logs.valAccuracy.toFixed(4)} (${logs.seconds.toFixed(1)} s)`);
    }
  }
  kiln.dispose([xTrain, yTrain, xVal, yVal]);
  for (const m of [trainAccuracy, valAccuracy, lossMean]) m.dispose();
  optimizer.dispose();
  model.dispose();
  return { history };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
