// A small transformer encoder learns to reverse sequences of digits: token Embedding plus a
// learned position embedding (the PositionEmbedding layer below, as keras_hub's), then blocks of
// MultiHeadAttention → Add → LayerNormalization → feed-forward Dense → Add → LayerNormalization,
// and a softmax over the digits at every position. Position t of the output is the input's digit
// at position T − 1 − t: a token can only find it by attending to the right position, so the
// task fails without the position embedding and without attention.
//
//   npx tsx examples/transformer.ts                       # trains, prints held-out token accuracy
//   npx tsx examples/transformer.ts --onnx /tmp/reverse.onnx
//
// `--onnx` exports the trained model, checked in onnxruntime against kiln on held-out sequences
// before the file is written; the example then runs the written file in onnxruntime-node itself.
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import * as kiln from 'kiln';

const { layers, ops, random } = kiln;

interface PositionEmbeddingOptions extends kiln.LayerArgs {
  sequenceLength?: number;
}

/**
 * Adds a learned vector per position to [batch, sequenceLength, dim] inputs (keras_hub's
 * PositionEmbedding, whose weight is also named 'embeddings'). A custom layer: ONNX export traces
 * its call into kiln's primitives.
 */
export class PositionEmbedding extends kiln.Layer {
  static readonly className = 'PositionEmbedding';
  readonly sequenceLength: number;
  embeddings: kiln.Variable | null = null;

  constructor({ sequenceLength = 0, ...args }: PositionEmbeddingOptions = {}) {
    super(args);
    this.sequenceLength = sequenceLength;
  }

  override build(inputShape: readonly (number | null)[]): void {
    const [steps, dim] = inputShape.slice(-2);
    if (steps !== this.sequenceLength || typeof dim !== 'number') {
      throw new Error(`PositionEmbedding(sequenceLength ${this.sequenceLength}) needs inputs [batch, ${this.sequenceLength}, dim], got [${inputShape.join(', ')}]`);
    }
    this.embeddings = this.addWeight('embeddings', [this.sequenceLength, dim], { initializer: 'glorot_uniform' });
  }

  call(inputs: kiln.Tensor): kiln.Tensor {
    return ops.add(inputs, this.embeddings!);
  }

  override getConfig(): kiln.LayerConfig {
    return { ...super.getConfig(), sequenceLength: this.sequenceLength };
  }

  static fromConfig(config: kiln.LayerConfig): PositionEmbedding {
    return new PositionEmbedding(config as PositionEmbeddingOptions);
  }
}

kiln.registerLayer(PositionEmbedding);

// Layer.apply is typed for eager tensors; on kiln.Input's symbolic tensors it returns symbolic ones
const on = (layer: kiln.Layer, x: kiln.SymbolicTensor | kiln.SymbolicTensor[]) => layer.apply(x) as unknown as kiln.SymbolicTensor;

export interface ModelOptions {
  /** Digits 0 … vocabulary − 1. */
  vocabulary?: number;
  steps?: number;
  dim?: number;
  heads?: number;
  feedForward?: number;
  blocks?: number;
}

/** The encoder: int32 [batch, steps] digits → [batch, steps, vocabulary] probabilities. */
export function buildModel({ vocabulary = 10, steps = 10, dim = 32, heads = 4, feedForward = 64, blocks = 2 }: ModelOptions = {}): kiln.Model {
  const tokens = kiln.Input({ shape: [steps], dtype: 'int32', name: 'tokens' });
  let x = on(new layers.Embedding(vocabulary, dim), tokens);
  x = on(new PositionEmbedding({ sequenceLength: steps }), x);
  for (let b = 0; b < blocks; b++) {
    const attended = on(new layers.MultiHeadAttention(heads, dim / heads), [x, x]);
    x = on(new layers.LayerNormalization({ epsilon: 1e-6 }), on(new layers.Add(), [x, attended]));
    const hidden = on(new layers.Dense(feedForward, { activation: 'relu' }), x);
    const ff = on(new layers.Dense(dim), hidden);
    x = on(new layers.LayerNormalization({ epsilon: 1e-6 }), on(new layers.Add(), [x, ff]));
  }
  const probabilities = on(new layers.Dense(vocabulary, { activation: 'softmax', name: 'digits' }), x);
  return new kiln.Model({ inputs: tokens, outputs: probabilities, name: 'reverser' });
}

/** `n` sequences of random digits and their reversals. */
export function reversals(n: number, steps: number, vocabulary: number): [kiln.Tensor, kiln.Tensor] {
  return kiln.tidy(() => {
    const x = random.randint([n, steps], 0, vocabulary, { dtype: 'int32' });
    return [x, ops.flip(x, 1)];
  });
}

export interface RunOptions extends ModelOptions {
  /** Training sequences, each seen `epochs` times. */
  samples?: number;
  epochs?: number;
  batchSize?: number;
  /** Held-out sequences to measure token accuracy on. */
  testSamples?: number;
  seed?: number;
  /** Where to write the trained model as ONNX ('' for no export). */
  onnx?: string;
  verbose?: 0 | 1 | 2;
}

/** Trains and evaluates (and exports); the trained model is returned for the caller to use and dispose. */
export async function run({ samples = 8192, epochs = 3, batchSize = 64, testSamples = 2048, seed = 1, onnx = '', verbose = 1, ...shape }: RunOptions = {}) {
  const { vocabulary = 10, steps = 10 } = shape;
  kiln.setSeed(seed);
  const [xTrain, yTrain] = reversals(samples, steps, vocabulary);
  const [xTest, yTest] = reversals(testSamples, steps, vocabulary);
  const model = buildModel(shape);
  model.compile({
    optimizer: new kiln.optimizers.Adam({ learningRate: new kiln.optimizers.CosineDecay({ initialLearningRate: 3e-3, decaySteps: epochs * Math.ceil(samples / batchSize) }) }),
    loss: 'sparse_categorical_crossentropy',
    metrics: ['accuracy'],
  });
  if (verbose) model.summary();

  const start = performance.now();
  await model.fit(xTrain, yTrain, { epochs, batchSize, verbose });
  const seconds = (performance.now() - start) / 1000;
  // the metric averages over every token of every held-out sequence
  const { accuracy } = await model.evaluate(xTest, yTest, { batchSize: 512 });
  if (verbose) {
    console.log(`held-out token accuracy: ${(accuracy * 100).toFixed(2)}% after ${epochs} epochs, ${seconds.toFixed(1)} s training on backend '${kiln.getBackend()}'`);
  }
  let onnxAccuracy: number | null = null;
  if (onnx) {
    const sample = ops.slice(xTest, [0, 0], [Math.min(64, testSamples), steps]);
    await model.export(onnx, { format: 'onnx', verify: { sample } });
    sample.dispose();
    onnxAccuracy = await servedAccuracy(onnx, xTest, yTest);
    if (verbose) console.log(`exported ${onnx}; in onnxruntime-node its held-out token accuracy is ${(onnxAccuracy * 100).toFixed(2)}%`);
  }
  kiln.dispose([xTrain, yTrain, xTest, yTest]);
  return { accuracy, onnxAccuracy, seconds, model };
}

/** The exported file's token accuracy on `x` → `y`, run in onnxruntime-node as a server would. */
export async function servedAccuracy(path: string, x: kiln.Tensor, y: kiln.Tensor): Promise<number> {
  const session = await ort.InferenceSession.create(path);
  try {
    const input = new ort.Tensor('int32', (await x.data()) as Int32Array, x.shape);
    const probs = (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]].data as Float32Array;
    const want = (await y.data()) as Int32Array;
    const width = probs.length / want.length;
    let right = 0;
    want.forEach((digit, i) => {
      const row = probs.subarray(i * width, (i + 1) * width);
      if (row.indexOf(Math.max(...row)) === digit) right++;
    });
    return right / want.length;
  } finally {
    await session.release();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { epochs: { type: 'string', default: '3' }, onnx: { type: 'string', default: '' } } });
  const { model } = await run({ epochs: Number(values.epochs), onnx: values.onnx });
  model.dispose();
}
