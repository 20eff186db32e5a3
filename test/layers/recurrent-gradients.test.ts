/**
 * Gradients through the recurrent layers where the harness does not reach: with a mask, going
 * backwards, from given initial states (their gradients too), on the fused path of the fixed
 * layers and on the step loop, against float64 central differences on every backend; and a
 * training loop that holds its tensor count steady.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Dense, Embedding, GRU, GRUCell, Input, LSTM, LSTMCell, RNN, SimpleRNN } from '../../layers/index.js';

const AVAILABLE = kiln.listBackends().filter((b) => b.available).map((b) => b.name);
const MASK = [true, true, false, true, false, true, false, false];

/** Analytic gradients of sum(y · r) against central differences, for the inputs and trainable weights. */
function checkGradients(layer: RNN, x: kiln.Tensor, states: kiln.Tensor[], mask: kiln.Tensor): void {
  const run = (xi: kiln.Tensor, si: kiln.Tensor[]) => layer.apply(xi, { mask, initialState: si }) as kiln.Tensor;
  const y0 = run(x, states);
  layer.setWeights(layer.getWeights().map((w, i) => kiln.random.normal([...w.shape], { dtype: 'float64', seed: 60 + i, stddev: 0.5 })));
  const r = kiln.random.normal([...y0.shape], { dtype: 'float64', seed: 9 });
  const loss = (xi: kiln.Tensor, si: kiln.Tensor[]) => kiln.tidy(() => kiln.ops.sum(kiln.ops.multiply(run(xi, si), r)).dataSync()[0]);
  const tape = new kiln.GradientTape();
  const value = tape.record(() => kiln.ops.sum(kiln.ops.multiply(run(x, states), r)));
  const sources = [x, ...states, ...layer.trainableWeights];
  const grads = tape.gradient(value, sources);
  sources.forEach((source, k) => {
    const base = Float64Array.from((source instanceof kiln.Variable ? source.value : source).dataSync());
    const analytic = Array.from(grads[k]!.dataSync());
    for (let i = 0; i < base.length; i += Math.max(1, Math.floor(base.length / 12))) {
      const at = (delta: number): number => {
        const data = Float64Array.from(base);
        data[i] += delta;
        const t = kiln.tensor(data, [...source.shape], 'float64');
        if (source instanceof kiln.Variable) {
          source.assign(t);
          return loss(x, states);
        }
        return source === x ? loss(t, states) : loss(x, states.map((s) => (s === source ? t : s)));
      };
      const numeric = (at(1e-6) - at(-1e-6)) / 2e-6;
      if (source instanceof kiln.Variable) source.assign(kiln.tensor(base, [...source.shape], 'float64'));
      expect(Math.abs(analytic[i] - numeric), `source ${k} [${i}]: analytic ${analytic[i]}, numeric ${numeric}`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(numeric));
    }
  });
}

describe.each(AVAILABLE)('gradients with masks and initial states on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  afterAll(() => kiln.setBackend('reference'));

  const x = () => kiln.random.normal([2, 4, 3], { dtype: 'float64', seed: 1 });
  const mask = () => kiln.tensor(MASK, [2, 4], 'bool');
  const state = (seed: number) => kiln.random.normal([2, 3], { dtype: 'float64', seed });

  it('LSTM (fused path), backwards, zero output for masked steps', () => {
    checkGradients(new LSTM(3, { returnSequences: true, goBackwards: true, zeroOutputForMask: true, dtype: 'float64' }), x(), [state(2), state(3)], mask());
  });

  it('GRU (fused path), both reset conventions', () => {
    checkGradients(new GRU(3, { returnSequences: true, dtype: 'float64' }), x(), [state(4)], mask());
    checkGradients(new GRU(3, { resetAfter: false, goBackwards: true, dtype: 'float64' }), x(), [state(5)], mask());
  });

  it('SimpleRNN (fused path) and RNN over stacked cells (step loop)', () => {
    checkGradients(new SimpleRNN(3, { returnSequences: true, dtype: 'float64' }), x(), [state(6)], mask());
    const cells = [new LSTMCell(3, { dtype: 'float64' }), new GRUCell(2, { dtype: 'float64' })];
    checkGradients(new RNN(cells, { returnSequences: true, goBackwards: true, dtype: 'float64' }), x(), [state(7), state(8), kiln.random.normal([2, 2], { dtype: 'float64', seed: 9 })], mask());
  });
});

describe.each(AVAILABLE)('training on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  afterAll(() => kiln.setBackend('reference'));

  it('Embedding(maskZero) → LSTM → Dense holds its tensor count from step 2 to step 12', async () => {
    kiln.setSeed(5);
    const model = new kiln.Sequential([Input({ shape: [6], dtype: 'int32' }), new Embedding(10, 4, { maskZero: true }), new LSTM(8, { dropout: 0.2 }), new Dense(1)]);
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const x = kiln.tensor([1, 2, 3, 0, 0, 0, 4, 5, 6, 7, 0, 0, 9, 9, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3], [4, 6], 'int32');
    const y = kiln.tensor([0.6, 2.2, 1.8, 1.8], [4, 1]);
    await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
    const before = kiln.memory().numTensors;
    await model.fit(x, y, { epochs: 10, batchSize: 4, verbose: 0 });
    expect(kiln.memory().numTensors).toBe(before);
  });

  it('a stateful GRU holds its tensor count too, carrying its states between batches', async () => {
    kiln.setSeed(6);
    const gru = new GRU(4, { stateful: true });
    const model = new kiln.Sequential([Input({ batchShape: [2, 3, 2] }), gru, new Dense(1)]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = kiln.random.normal([6, 3, 2], { seed: 1 });
    const y = kiln.random.normal([6, 1], { seed: 2 });
    await model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0, shuffle: false });
    const before = kiln.memory().numTensors;
    await model.fit(x, y, { epochs: 5, batchSize: 2, verbose: 0, shuffle: false });
    expect(kiln.memory().numTensors).toBe(before);
    gru.resetStates();
  });
});

/** Outputs and weight gradients of a float32 layer on `backend`, its weights set from `weights`. */
async function float32Run(backend: string, make: () => RNN, weights: Float32Array[] | null): Promise<{ y: number[]; grads: number[][]; weights: Float32Array[] }> {
  await kiln.setBackend(backend);
  const layer = make();
  const x = kiln.random.normal([5, 7, 6], { seed: 3 });
  const mask = kiln.tensor([...Array(35).keys()].map((i) => (i * 7) % 5 !== 0), [5, 7], 'bool');
  layer.apply(x);
  if (weights) layer.setWeights(weights.map((w, i) => kiln.tensor(w, [...layer.getWeights()[i].shape])));
  const tape = new kiln.GradientTape();
  let y: kiln.Tensor | null = null;
  const loss = tape.record(() => {
    y = layer.apply(x, { mask }) as kiln.Tensor;
    return kiln.ops.sum(kiln.ops.multiply(y, y));
  });
  const grads = tape.gradient(loss, layer.trainableWeights);
  return { y: Array.from(y!.dataSync()), grads: grads.map((g) => Array.from(g!.dataSync())), weights: layer.getWeights().map((w) => Float32Array.from(w.dataSync())) };
}

describe.each(AVAILABLE.filter((b) => b !== 'reference'))('float32 with masks on %s agrees with reference', (backend) => {
  afterAll(() => kiln.setBackend('reference'));
  const cases: [string, () => RNN][] = [
    ['LSTM', () => new LSTM(9, { returnSequences: true, goBackwards: true })],
    ['GRU', () => new GRU(9, { returnSequences: true, zeroOutputForMask: true })],
    ['GRU (reset before)', () => new GRU(9, { resetAfter: false })],
    ['SimpleRNN', () => new SimpleRNN(9, { returnSequences: true })],
  ];
  for (const [label, make] of cases) {
    it(label, async () => {
      kiln.setSeed(4);
      const want = await float32Run('reference', make, null);
      const got = await float32Run(backend, make, want.weights);
      const close = (a: number[], b: number[], tol: number) => a.forEach((v, i) => expect(Math.abs(v - b[i]), `${label} [${i}]`).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]))));
      close(got.y, want.y, 1e-5);
      got.grads.forEach((g, i) => close(g, want.grads[i], 1e-4));
    });
  }
});
