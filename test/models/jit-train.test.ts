import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { jitStatus } from '../../models/jit.js';

const { layers, optimizers } = kiln;

interface Case {
  model: () => kiln.Model;
  data: () => { x: kiln.Tensor | kiln.Tensor[]; y: kiln.Tensor | kiln.Tensor[]; sampleWeight?: kiln.Tensor };
  loss: unknown;
  metrics?: unknown[];
  /** 'plan' when the step replays; otherwise the reason it stays eager. */
  status: RegExp;
}

const uniform = (shape: number[], seed: number) => kiln.random.uniform(shape, { minval: -1, maxval: 1, seed });
const oneHot = (n: number, k: number) => kiln.utils.toCategorical(Array.from({ length: n }, (_, i) => (i * 7) % k), k);

const cases: Record<string, Case> = {
  'MLP, categorical cross-entropy, accuracy': {
    model: () => new kiln.Sequential([kiln.Input({ shape: [6] }), new layers.Dense(8, { activation: 'relu' }), new layers.Dense(3, { activation: 'softmax' })]),
    data: () => ({ x: uniform([24, 6], 1), y: oneHot(24, 3) }),
    loss: 'categorical_crossentropy',
    metrics: ['accuracy'],
    status: /^plan$/,
  },
  'MLP with L2 regularizers, a max-norm constraint and sample weights, mse': {
    model: () => new kiln.Sequential([
      kiln.Input({ shape: [5] }),
      new layers.Dense(4, { activation: 'tanh', kernelRegularizer: { className: 'L2', config: { l2: 0.01 } }, kernelConstraint: { className: 'MaxNorm', config: { maxValue: 0.5 } } }),
      new layers.Dense(2),
    ]),
    data: () => ({ x: uniform([20, 5], 2), y: uniform([20, 2], 3), sampleWeight: kiln.random.uniform([20], { seed: 4 }) }),
    loss: 'mse',
    metrics: ['mae'],
    status: /^plan$/,
  },
  'CNN without BatchNormalization, binary cross-entropy': {
    model: () => new kiln.Sequential([
      kiln.Input({ shape: [6, 6, 2] }),
      new layers.Conv2D(3, 3, { activation: 'relu' }),
      new layers.AveragePooling2D(2),
      new layers.Flatten(),
      new layers.Dense(1, { activation: 'sigmoid' }),
    ]),
    data: () => ({ x: uniform([12, 6, 6, 2], 5), y: kiln.tensor(Array.from({ length: 12 }, (_, i) => [i % 2])) }),
    loss: 'binary_crossentropy',
    status: /^plan$/,
  },
  'GRU and LSTM, Huber': {
    model: () => new kiln.Sequential([kiln.Input({ shape: [4, 3] }), new layers.GRU(4, { returnSequences: true }), new layers.LSTM(2)]),
    data: () => ({ x: uniform([10, 4, 3], 6), y: uniform([10, 2], 7) }),
    loss: 'huber',
    status: /^plan$/,
  },
  'two outputs, each its loss, weighted': {
    model: () => {
      const i = kiln.Input({ shape: [4] });
      const h = new layers.Dense(5, { activation: 'relu' }).apply(i) as kiln.SymbolicTensor;
      const a = new layers.Dense(2, { name: 'a' }).apply(h) as kiln.SymbolicTensor;
      const b = new layers.Dense(3, { activation: 'softmax', name: 'b' }).apply(h) as kiln.SymbolicTensor;
      return new kiln.Model({ inputs: i, outputs: [a, b] });
    },
    data: () => ({ x: uniform([16, 4], 8), y: [uniform([16, 2], 9), oneHot(16, 3)] }),
    loss: ['mae', 'categorical_crossentropy'],
    status: /^plan$/,
  },
  'Embedding, pooling and sparse labels (their range checks run on the device)': {
    model: () => new kiln.Sequential([kiln.Input({ shape: [5], dtype: 'int32' }), new layers.Embedding(10, 4), new layers.GlobalAveragePooling1D(), new layers.Dense(3, { activation: 'softmax' })]),
    data: () => ({
      x: kiln.tensor(Array.from({ length: 60 }, (_, i) => (i * 7) % 10), [12, 5], 'int32'),
      y: kiln.tensor(Array.from({ length: 12 }, (_, i) => i % 3), [12], 'int32'),
    }),
    loss: 'sparse_categorical_crossentropy',
    metrics: ['sparse_categorical_accuracy'],
    status: /^plan$/,
  },
  'BatchNormalization in training updates its moving statistics: eager': {
    model: () => new kiln.Sequential([kiln.Input({ shape: [4] }), new layers.BatchNormalization(), new layers.Dense(2)]),
    data: () => ({ x: uniform([8, 4], 10), y: uniform([8, 2], 11) }),
    loss: 'mse',
    status: /^eager: it keeps a tensor it made \(a cache or a state update\)$/,
  },
  'Dropout draws a mask each step: eager': {
    model: () => new kiln.Sequential([kiln.Input({ shape: [4] }), new layers.Dropout(0.3), new layers.Dense(2)]),
    data: () => ({ x: uniform([8, 4], 12), y: uniform([8, 2], 13) }),
    loss: 'mse',
    status: /^eager: (two calls with the same input shapes called different kernels or uploaded different values|it draws random numbers, which a replay would repeat)$/,
  },
  'a masked output: eager': {
    model: () => new kiln.Sequential([kiln.Input({ shape: [3, 2] }), new layers.Masking(), new layers.SimpleRNN(2, { returnSequences: true })]),
    data: () => ({ x: kiln.tensor([[[1, 2], [0, 0], [3, 1]], [[2, 2], [1, 1], [0, 0]]]), y: uniform([2, 3, 2], 14) }),
    loss: 'mse',
    // the masked steps weigh 0 in mae's mean: the mask must reach the metrics on both paths
    metrics: ['mae'],
    status: /^eager: an output carries a mask, which a replay would not attach$/,
  },
};

const OPTIMIZERS: [string, () => kiln.optimizers.Optimizer][] = [
  ['SGD with momentum', () => new optimizers.SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true })],
  ['Adam', () => new optimizers.Adam({ learningRate: 0.01 })],
  ['AdamW', () => new optimizers.AdamW({ learningRate: 0.01 })],
  ['RMSprop', () => new optimizers.RMSprop({ learningRate: 0.01, momentum: 0.5 })],
  ['Adagrad', () => new optimizers.Adagrad({ learningRate: 0.05 })],
  ['Adadelta', () => new optimizers.Adadelta({ learningRate: 1 })],
  ['Adamax', () => new optimizers.Adamax({ learningRate: 0.01 })],
  ['Nadam', () => new optimizers.Nadam({ learningRate: 0.01 })],
  ['Lion', () => new optimizers.Lion({ learningRate: 0.001 })],
  ['Ftrl', () => new optimizers.Ftrl({ learningRate: 0.05 })],
  ['Adam with a schedule and clipnorm', () => new optimizers.Adam({ learningRate: new optimizers.schedules.ExponentialDecay({ initialLearningRate: 0.01, decaySteps: 2, decayRate: 0.5 }), clipnorm: 0.1 })],
];

/** Trains one model of `c` for 3 epochs of batches of 4 (the last one shorter where the data asks), eager or compiled. */
async function train(c: Case, optimizer: () => kiln.optimizers.Optimizer, jitCompile: boolean) {
  kiln.setSeed(11);
  const model = c.model();
  model.compile({ optimizer: optimizer(), loss: c.loss, metrics: c.metrics, jitCompile });
  const { x, y, sampleWeight } = c.data();
  const history = await model.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0, sampleWeight });
  const weights = await Promise.all(model.getWeights().map(async (w) => {
    const v = await w.data();
    w.dispose();
    return Array.from(v);
  }));
  const status = Object.values(jitStatus(model));
  kiln.dispose([...[x, y].flat(), ...(sampleWeight ? [sampleWeight] : [])]);
  model.dispose();
  return { history: history.history, weights, status };
}

for (const backend of kiln.listBackends().filter((b) => b.available && b.name !== 'webgpu').map((b) => b.name)) {
  describe(`jitCompile on ${backend}: a compiled training step gives the eager step's numbers`, () => {
    beforeAll(async () => kiln.setBackend(backend));
    afterAll(async () => kiln.setBackend(kiln.listBackends().some((b) => b.name === 'native' && b.available) ? 'native' : 'reference'));

    for (const [name, c] of Object.entries(cases)) {
      it(`${name}: losses, metrics and weights equal, bit for bit`, async () => {
        const eager = await train(c, OPTIMIZERS[1][1], false);
        const compiled = await train(c, OPTIMIZERS[1][1], true);
        expect(compiled.history).toEqual(eager.history);
        expect(compiled.weights).toEqual(eager.weights);
        // one signature for the full batches; a shorter last batch has its own
        for (const s of compiled.status) expect(s).toMatch(c.status);
      });
    }

    it('every optimizer: the replayed steps update the weights as the eager ones do', async () => {
      const c = cases['MLP, categorical cross-entropy, accuracy'];
      for (const [name, make] of OPTIMIZERS) {
        const eager = await train(c, make, false);
        const compiled = await train(c, make, true);
        expect(compiled.weights, name).toEqual(eager.weights);
        expect(compiled.history.loss, name).toEqual(eager.history.loss);
        expect(compiled.status, name).toEqual(['plan']);
      }
    });

    it('a label or index out of range in a replayed step fails at the next read, as in an eager step', async () => {
      const c = cases['Embedding, pooling and sparse labels (their range checks run on the device)'];
      const errors: string[] = [];
      for (const jitCompile of [false, true]) {
        kiln.setSeed(4);
        const model = c.model();
        model.compile({ optimizer: 'sgd', loss: c.loss, jitCompile });
        const x = kiln.tensor(Array.from({ length: 20 }, (_, i) => i % 10), [4, 5], 'int32');
        for (let i = 0; i < 3; i++) await model.trainOnBatch(x, kiln.tensor([0, 1, 2, 1], [4], 'int32'));
        if (jitCompile) expect(Object.values(jitStatus(model))).toEqual(['plan']);
        const badLabel = kiln.tensor([0, 1, 3, 1], [4], 'int32');
        errors.push(await model.trainOnBatch(x, badLabel).then(() => 'no error', (e: Error) => e.message));
        const badIndex = kiln.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 12, 3, 4, 5, 6, 7, 8, 9], [4, 5], 'int32');
        errors.push(await model.trainOnBatch(badIndex, kiln.tensor([0, 1, 2, 1], [4], 'int32')).then(() => 'no error', (e: Error) => e.message));
        kiln.dispose([x, badLabel, badIndex]);
        model.dispose();
      }
      const named = errors.map((e) => e.replace(/'embedding_\d+'/, "'embedding'"));
      const want = [
        'sparse_categorical_crossentropy: label 3 at position 2 is out of range: labels must be integers in [0, 3)',
        "Embedding 'embedding': index 12 (element 12 of the input [4,5], flattened) is out of range for inputDim 10: indices must be in [0, 10)",
      ];
      expect(named).toEqual([...want, ...want]);
    });

    it('1000 compiled steps hold tensors, bytes and buffers constant', async () => {
      kiln.setSeed(3);
      const model = cases['MLP, categorical cross-entropy, accuracy'].model();
      model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.01 }), loss: 'categorical_crossentropy', metrics: ['accuracy'], jitCompile: true });
      const x = uniform([8, 6], 20);
      const y = oneHot(8, 3);
      const step = async () => model.trainOnBatch(x, y);
      for (let i = 0; i < 10; i++) await step();
      const before = kiln.memory();
      for (let i = 0; i < 1000; i++) await step();
      expect(kiln.memory()).toEqual(before);
      expect(Object.values(jitStatus(model))).toEqual(['plan']);
      kiln.dispose([x, y]);
      model.dispose();
    });
  });
}
