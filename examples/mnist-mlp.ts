// A multilayer perceptron on real MNIST: 784 → 256 → 256 → 10, Adam 1e-3, batch 128, 2 epochs.
// Prints the test accuracy and the wall time (examples/README.md records them).
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

const { layers, ops } = kiln;

export async function run({ epochs = 2, seed = 3, verbose = 1 as 0 | 1 | 2 } = {}) {
  kiln.setSeed(seed);
  const { train, test } = await kiln.datasets.mnist({ normalize: true });
  const [xTrain, yTrain] = [ops.reshape(train[0], [-1, 784]), train[1]];
  const [xTest, yTest] = [ops.reshape(test[0], [-1, 784]), test[1]];

  const model = new kiln.Sequential([
    kiln.Input({ shape: [784] }),
    new layers.Dense(256, { activation: 'relu' }),
    new layers.Dense(256, { activation: 'relu' }),
    new layers.Dense(10, { activation: 'softmax' }),
  ]);
  model.compile({
    optimizer: new kiln.optimizers.Adam({ learningRate: 1e-3 }),
    loss: 'sparse_categorical_crossentropy',
    metrics: ['accuracy'],
  });
  if (verbose) model.summary();

  const start = performance.now();
  await model.fit(xTrain, yTrain, { epochs, batchSize: 128, verbose });
  const seconds = (performance.now() - start) / 1000;
  const { accuracy } = await model.evaluate(xTest, yTest, { batchSize: 1000 });
  if (verbose) {
    console.log(`test accuracy: ${(accuracy * 100).toFixed(2)}% after ${epochs} epochs, ${seconds.toFixed(1)} s training on backend '${kiln.getBackend()}'`);
  }
  kiln.dispose([...train, ...test, xTrain, xTest]);
  model.dispose();
  return { accuracy, seconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
