/**
 * kiln's W5 and W6 models, as a Keras user writes them: the LSTM classifier as a Sequential, the
 * transformer encoder as a Functional model (torch_seq.py builds the same two in PyTorch).
 */
import * as kiln from 'kiln';
import { HELD_OUT, sequenceBatch, type SequenceTask } from '../sequences.js';
import type { SequenceSpec, TrainOutcome } from './engine.js';
import { now } from '../stats.js';

const { layers } = kiln;

/** A learned [steps, d] position embedding added to the token embeddings (keras_hub's PositionEmbedding). */
class PositionEmbedding extends kiln.Layer {
  static readonly className = 'BenchPositionEmbedding';
  private table: kiln.Variable | null = null;

  override build(shape: readonly (number | null)[]): void {
    this.table = this.addWeight('embeddings', [shape[1]!, shape[2]!], { initializer: { className: 'RandomUniform', config: { minval: -0.05, maxval: 0.05 } } });
  }

  call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
    return kiln.ops.add(x as kiln.Tensor, this.table!);
  }
}

function lstmModel(task: SequenceTask): kiln.Model {
  return new kiln.Sequential([
    kiln.Input({ shape: [task.steps], dtype: 'int32' }),
    new layers.Embedding(task.vocab, 64),
    new layers.LSTM(128),
    new layers.Dense(task.classes, { activation: 'softmax' }),
  ]);
}

/** Two post-norm encoder blocks: attention and a relu feed-forward, each added back and normalized. */
function transformerModel(task: SequenceTask): kiln.Model {
  const tokens = kiln.Input({ shape: [task.steps], dtype: 'int32' });
  let x = new PositionEmbedding().apply(new layers.Embedding(task.vocab, 128).apply(tokens));
  for (let block = 0; block < 2; block++) {
    const attended = new layers.MultiHeadAttention(4, 32).apply([x, x]) as kiln.SymbolicTensor;
    x = new layers.LayerNormalization().apply(new layers.Add().apply([x, attended]) as kiln.SymbolicTensor);
    const fed = new layers.Dense(128).apply(new layers.Dense(512, { activation: 'relu' }).apply(x));
    x = new layers.LayerNormalization().apply(new layers.Add().apply([x, fed]) as kiln.SymbolicTensor);
  }
  return new kiln.Model({ inputs: tokens, outputs: new layers.Dense(task.classes, { activation: 'softmax' }).apply(x) });
}

/** Stamps each step's start, reading no logs back. */
class Stamps extends kiln.callbacks.Callback {
  readonly stamps: number[] = [];
  override onTrainBatchBegin(): void {
    this.stamps.push(now());
  }
}

/** The share of rows whose argmax is the label. */
function argmaxAccuracy(scores: Float32Array, labels: Int32Array): number {
  const classes = scores.length / labels.length;
  let right = 0;
  labels.forEach((label, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (scores[i * classes + c] > scores[i * classes + best]) best = c;
    if (best === label) right++;
  });
  return right / labels.length;
}

export async function trainSequences({ task, steps }: SequenceSpec): Promise<TrainOutcome> {
  const model = task.arch === 'lstm' ? lstmModel(task) : transformerModel(task);
  model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 1e-3 }), loss: 'sparse_categorical_crossentropy', jitCompile: true });
  const count = steps * task.batchSize;
  const data = sequenceBatch(task, count, 1);
  const labelShape = task.arch === 'lstm' ? [count] : [count, task.steps];
  const x = kiln.tensor(data.x, [count, task.steps], 'int32');
  const y = kiln.tensor(data.y, labelShape, 'int32');
  const cb = new Stamps();
  await model.fit(x, y, { epochs: 1, batchSize: task.batchSize, shuffle: false, verbose: 0, callbacks: [cb] });
  cb.stamps.push(now());
  kiln.dispose([x, y]);
  const held = sequenceBatch(task, HELD_OUT, 2);
  const xt = kiln.tensor(held.x, [HELD_OUT, task.steps], 'int32');
  const scores = (await model.predict(xt, { batchSize: 128 })) as kiln.Tensor;
  const accuracy = argmaxAccuracy((await scores.data()) as Float32Array, held.y);
  kiln.dispose([xt, scores]);
  model.dispose();
  return { stamps: cb.stamps, accuracy };
}
