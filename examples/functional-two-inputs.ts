// Keras's Functional API guide, "models with multiple inputs and outputs": rank support tickets by
// priority and route them to a department. Keras reads the title and body text with Embedding and
// LSTM layers; here each is already a feature vector (synthetic, as if from a bag of words), so
// the model is two Dense towers, a Concatenate, and two heads trained with different losses:
// priority (sigmoid, binary crossentropy, weight 1) and department (softmax over 4, sparse
// categorical crossentropy, weight 0.2).
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

const { layers, ops, random } = kiln;

const TITLE_FEATURES = 16;
const BODY_FEATURES = 32;
const DEPARTMENTS = 4;

// Layer.apply is typed for eager tensors; on kiln.Input's symbolic tensors it returns symbolic ones
const on = (layer: kiln.Layer, x: kiln.SymbolicTensor | kiln.SymbolicTensor[]) => layer.apply(x) as unknown as kiln.SymbolicTensor;

/** Tickets whose priority follows from the title and whose department follows from the body. */
function tickets(n: number, truth: { priority: kiln.Tensor; department: kiln.Tensor }) {
  return kiln.tidy(() => {
    const title = random.normal([n, TITLE_FEATURES]);
    const body = random.normal([n, BODY_FEATURES]);
    const priority = ops.cast(ops.greater(ops.matmul(title, truth.priority), 0), 'float32');
    const department = ops.argmax(ops.matmul(body, truth.department), -1);
    return { x: { title, body }, y: { priority, department } };
  });
}

export async function run({ samples = 2048, epochs = 5, seed = 1, verbose = 1 as 0 | 1 | 2 } = {}) {
  kiln.setSeed(seed);
  const truth = { priority: random.normal([TITLE_FEATURES, 1]), department: random.normal([BODY_FEATURES, DEPARTMENTS]) };
  const train = tickets(samples, truth);
  const test = tickets(Math.ceil(samples / 4), truth);

  const titleInput = kiln.Input({ shape: [TITLE_FEATURES], name: 'title' });
  const bodyInput = kiln.Input({ shape: [BODY_FEATURES], name: 'body' });
  const titleFeatures = on(new layers.Dense(32, { activation: 'relu' }), titleInput);
  const bodyFeatures = on(new layers.Dense(32, { activation: 'relu' }), bodyInput);
  const merged = on(new layers.Concatenate(), [titleFeatures, bodyFeatures]);
  const priority = on(new layers.Dense(1, { activation: 'sigmoid', name: 'priority' }), merged);
  const department = on(new layers.Dense(DEPARTMENTS, { activation: 'softmax', name: 'department' }), merged);
  const model = new kiln.Model({ inputs: [titleInput, bodyInput], outputs: [priority, department], name: 'ticket_classifier' });

  // losses, weights and metrics keyed by output name, as in Keras
  model.compile({
    optimizer: new kiln.optimizers.Adam({ learningRate: 1e-2 }),
    loss: { priority: 'binary_crossentropy', department: 'sparse_categorical_crossentropy' },
    lossWeights: { priority: 1, department: 0.2 },
    metrics: { priority: ['accuracy'], department: ['accuracy'] },
  });
  if (verbose) model.summary();

  const history = await model.fit(train.x, train.y, { epochs, batchSize: 32, validationSplit: 0.2, verbose });
  const evaluation = await model.evaluate(test.x, test.y, { batchSize: 256 });
  if (verbose) {
    console.log(`held-out tickets: priority accuracy ${(evaluation.priority_accuracy * 100).toFixed(1)}%, ` +
      `department accuracy ${(evaluation.department_accuracy * 100).toFixed(1)}% (chance: 50%, 25%)`);
  }
  kiln.dispose([truth.priority, truth.department, ...Object.values(train.x), ...Object.values(train.y), ...Object.values(test.x), ...Object.values(test.y)]);
  model.dispose();
  return { loss: history.history.loss, evaluation };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
