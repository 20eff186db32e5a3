/**
 * The recurrent cells and layers: the layer harness for every class (Keras's weight names, order
 * and shapes written out by hand, symbolic and eager shapes, config round trip, float64 finite
 * differences), and values against the direct loops of recurrent-oracle.ts on every backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, SimpleRNN, SimpleRNNCell, StackedRNNCells } from '../../layers/index.js';
import { runLayerTest } from './harness.js';
import { expectClose, gruStep, lstmStep, nested, runRef, simpleStep, stackedStep, type Mat } from './recurrent-oracle.js';

const AVAILABLE = kiln.listBackends().filter((b) => b.available).map((b) => b.name);

describe('the recurrent layers pass the layer harness on reference', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('the cells, one step from zero states', () => {
    runLayerTest(SimpleRNNCell, {
      args: [4, { biasInitializer: 'ones' }], inputShape: [2, 3], expectedOutputShape: [2, 4],
      expectedWeights: [['kernel', [3, 4]], ['recurrent_kernel', [4, 4]], ['bias', [4]]],
    });
    runLayerTest(LSTMCell, {
      args: [3], inputShape: [2, 5], expectedOutputShape: [2, 3],
      expectedWeights: [['kernel', [5, 12]], ['recurrent_kernel', [3, 12]], ['bias', [12]]],
    });
    runLayerTest(GRUCell, {
      args: [3, { biasInitializer: 'random_normal' }], inputShape: [2, 5], expectedOutputShape: [2, 3],
      expectedWeights: [['kernel', [5, 9]], ['recurrent_kernel', [3, 9]], ['bias', [2, 9]]],
    });
    runLayerTest(GRUCell, {
      args: [3, { resetAfter: false, biasInitializer: 'random_normal' }], inputShape: [2, 5], expectedOutputShape: [2, 3],
      expectedWeights: [['kernel', [5, 9]], ['recurrent_kernel', [3, 9]], ['bias', [9]]],
    });
    runLayerTest(StackedRNNCells, {
      args: [[new LSTMCell(3), new SimpleRNNCell(2, { useBias: false })]], inputShape: [2, 4], expectedOutputShape: [2, 2],
      expectedWeights: [['kernel', [4, 12]], ['recurrent_kernel', [3, 12]], ['bias', [12]], ['kernel', [3, 2]], ['recurrent_kernel', [2, 2]]],
    });
  });

  it('SimpleRNN, LSTM and GRU with their options', () => {
    runLayerTest(SimpleRNN, {
      args: [4, { returnSequences: true, biasInitializer: 'ones' }], inputShape: [2, 5, 3], expectedOutputShape: [2, 5, 4],
      expectedWeights: [['kernel', [3, 4]], ['recurrent_kernel', [4, 4]], ['bias', [4]]],
    });
    runLayerTest(LSTM, {
      args: [3, { goBackwards: true }], inputShape: [2, 4, 2], expectedOutputShape: [2, 3],
      expectedWeights: [['kernel', [2, 12]], ['recurrent_kernel', [3, 12]], ['bias', [12]]],
    });
    runLayerTest(LSTM, {
      args: [2, { returnSequences: true, useBias: false, unitForgetBias: false, activation: 'relu', recurrentActivation: 'hard_sigmoid' }],
      inputShape: [1, 3, 2], expectedOutputShape: [1, 3, 2],
      expectedWeights: [['kernel', [2, 8]], ['recurrent_kernel', [2, 8]]],
    });
    runLayerTest(GRU, {
      args: [3, { returnSequences: true, biasInitializer: 'random_normal' }], inputShape: [2, 4, 2], expectedOutputShape: [2, 4, 3],
      expectedWeights: [['kernel', [2, 9]], ['recurrent_kernel', [3, 9]], ['bias', [2, 9]]],
    });
    runLayerTest(GRU, {
      args: [3, { resetAfter: false, goBackwards: true, biasInitializer: 'random_normal' }], inputShape: [2, 4, 2], expectedOutputShape: [2, 3],
      expectedWeights: [['kernel', [2, 9]], ['recurrent_kernel', [3, 9]], ['bias', [9]]],
    });
  });

  it('RNN around a cell and around a list of cells', () => {
    runLayerTest(RNN, {
      args: [new GRUCell(3), { returnSequences: true }], inputShape: [2, 4, 2], expectedOutputShape: [2, 4, 3],
      expectedWeights: [['kernel', [2, 9]], ['recurrent_kernel', [3, 9]], ['bias', [2, 9]]],
    });
    runLayerTest(RNN, {
      args: [[new SimpleRNNCell(3), new LSTMCell(2)], { goBackwards: true }], inputShape: [2, 4, 2], expectedOutputShape: [2, 2],
      expectedWeights: [['kernel', [2, 3]], ['recurrent_kernel', [3, 3]], ['bias', [3]], ['kernel', [3, 8]], ['recurrent_kernel', [2, 8]], ['bias', [8]]],
    });
  });

  it('LSTM starts its forget gate bias at 1 (unitForgetBias), the rest from biasInitializer', () => {
    const lstm = new LSTM(2, { biasInitializer: 'zeros' });
    lstm.apply(kiln.zeros([1, 1, 1]));
    expect(nested(lstm.cell.bias!.value)).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
    const plain = new LSTM(2, { unitForgetBias: false });
    plain.apply(kiln.zeros([1, 1, 1]));
    expect(nested(plain.cell.bias!.value)).toEqual(new Array(8).fill(0));
  });

  it('activityRegularizer penalizes the output the layer returns, per sample', () => {
    const gru = new GRU(3, { activityRegularizer: 'l2', returnSequences: true, dtype: 'float64' });
    const y = gru.apply(kiln.random.normal([2, 4, 2], { dtype: 'float64', seed: 1 })) as kiln.Tensor;
    expect(gru.callLosses).toHaveLength(1);
    const sumSquares = Array.from(y.dataSync()).reduce((a, v) => a + v * v, 0);
    expect(gru.callLosses[0].dataSync()[0]).toBeCloseTo((0.01 * sumSquares) / 2, 12);
  });

  it('saves the options as Keras names them, flat for the fixed layers and with the cell nested for RNN', () => {
    const lstm = new LSTM(4, { returnState: true, dropout: 0.1, seed: 3 });
    expect(lstm.getConfig()).toMatchObject({
      name: lstm.name, units: 4, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, unitForgetBias: true,
      kernelInitializer: { className: 'GlorotUniform' }, recurrentInitializer: { className: 'Orthogonal' }, biasInitializer: { className: 'Zeros' },
      kernelRegularizer: null, recurrentRegularizer: null, biasRegularizer: null, activityRegularizer: null,
      kernelConstraint: null, recurrentConstraint: null, biasConstraint: null, dropout: 0.1, recurrentDropout: 0, seed: 3,
      returnSequences: false, returnState: true, goBackwards: false, stateful: false, unroll: false, zeroOutputForMask: false,
    });
    expect(lstm.getConfig()).not.toHaveProperty('cell');
    expect(new GRU(2).getConfig()).toMatchObject({ resetAfter: true });
    const rnn = new RNN([new LSTMCell(2), new GRUCell(3)]);
    const config = JSON.parse(JSON.stringify(rnn.getConfig()));
    expect(config.cell.className).toBe('StackedRNNCells');
    expect(config.cell.config.cells.map((c: { className: string }) => c.className)).toEqual(['LSTMCell', 'GRUCell']);
    const clone = RNN.fromConfig(config);
    expect((clone.cell as StackedRNNCells).cells.map((c) => (c as RNNCell).className)).toEqual(['LSTMCell', 'GRUCell']);
  });
});

/** Float64 layers whose weights are random (biases included), and those weights as arrays. */
function weightsOf(layer: kiln.layers.Layer): Mat[] {
  return layer.getWeights().map((w) => nested(w));
}

function randomize(layer: kiln.layers.Layer, seed: number): void {
  layer.setWeights(layer.getWeights().map((w, i) => kiln.random.normal([...w.shape], { dtype: w.dtype, seed: seed + i, stddev: 0.6 })));
}

interface ValueCase {
  label: string;
  make: () => kiln.layers.Layer;
  step: (w: Mat[]) => Parameters<typeof runRef>[0];
  states: number[];
  outputSize: number;
  options?: { goBackwards?: boolean; returnSequences?: boolean };
}

const CASES: ValueCase[] = [
  { label: 'SimpleRNN', make: () => new SimpleRNN(3, { returnSequences: true, dtype: 'float64' }), step: ([k, r, b]) => simpleStep(k, r, b as unknown as number[]), states: [3], outputSize: 3, options: { returnSequences: true } },
  { label: 'LSTM', make: () => new LSTM(3, { returnSequences: true, dtype: 'float64' }), step: ([k, r, b]) => lstmStep(k, r, b as unknown as number[]), states: [3, 3], outputSize: 3, options: { returnSequences: true } },
  { label: 'LSTM going backwards', make: () => new LSTM(2, { returnSequences: true, goBackwards: true, dtype: 'float64' }), step: ([k, r, b]) => lstmStep(k, r, b as unknown as number[]), states: [2, 2], outputSize: 2, options: { returnSequences: true, goBackwards: true } },
  { label: 'GRU (resetAfter)', make: () => new GRU(3, { returnSequences: true, dtype: 'float64' }), step: ([k, r, b]) => gruStep(k, r, b, true), states: [3], outputSize: 3, options: { returnSequences: true } },
  { label: 'GRU (reset before)', make: () => new GRU(3, { returnSequences: true, resetAfter: false, goBackwards: true, dtype: 'float64' }), step: ([k, r, b]) => gruStep(k, r, [b as unknown as number[]], false), states: [3], outputSize: 3, options: { returnSequences: true, goBackwards: true } },
  { label: 'GRU without bias', make: () => new GRU(2, { returnSequences: true, useBias: false, dtype: 'float64' }), step: ([k, r]) => gruStep(k, r, null, true), states: [2], outputSize: 2, options: { returnSequences: true } },
  {
    label: 'RNN of stacked LSTM and SimpleRNN cells',
    make: () => new RNN([new LSTMCell(3, { dtype: 'float64' }), new SimpleRNNCell(2, { dtype: 'float64' })], { returnSequences: true, dtype: 'float64' }),
    step: ([k1, r1, b1, k2, r2, b2]) => stackedStep(lstmStep(k1, r1, b1 as unknown as number[]), 2, simpleStep(k2, r2, b2 as unknown as number[])),
    states: [3, 3, 2], outputSize: 2, options: { returnSequences: true },
  },
];

describe.each(AVAILABLE)('values against direct loops on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  afterAll(() => kiln.setBackend('reference'));

  for (const c of CASES) {
    it(c.label, () => {
      const layer = c.make();
      const x = kiln.random.normal([3, 5, 4], { dtype: 'float64', seed: 11 });
      layer.apply(x);
      randomize(layer, 20);
      const y = layer.apply(x) as kiln.Tensor;
      const initial = c.states.map((n) => Array.from({ length: 3 }, () => new Array<number>(n).fill(0)));
      const want = runRef(c.step(weightsOf(layer)), nested(x), initial, c.outputSize, c.options);
      expectClose(nested(y), want.outputs, 1e-9, c.label);
    });
  }

  it('returnState gives the last output and the final states [h, c]', () => {
    const lstm = new LSTM(3, { returnState: true, dtype: 'float64' });
    const x = kiln.random.normal([2, 4, 2], { dtype: 'float64', seed: 3 });
    lstm.apply(x);
    randomize(lstm, 5);
    const out = lstm.apply(x) as unknown as kiln.Tensor[];
    expect(out).toHaveLength(3);
    const [k, r, b] = weightsOf(lstm);
    const zeros = [[0, 0, 0], [0, 0, 0]];
    const want = runRef(lstmStep(k, r, b as unknown as number[]), nested(x), [zeros, zeros], 3);
    expectClose(nested(out[0]), want.last, 1e-9, 'output');
    expectClose(nested(out[1]), want.states[0], 1e-9, 'h');
    expectClose(nested(out[2]), want.states[1], 1e-9, 'c');
    expect(lstm.multiOutput).toBe(true);
  });

  it('float32 on this backend agrees with the float64 loop within float32 tolerance', () => {
    const gru = new GRU(8, { returnSequences: true });
    const x = kiln.random.normal([4, 6, 5], { seed: 9 });
    gru.apply(x);
    randomize(gru, 40);
    const y = gru.apply(x) as kiln.Tensor;
    const [k, r, b] = weightsOf(gru);
    const want = runRef(gruStep(k, r, b, true), nested(x), [Array.from({ length: 4 }, () => new Array(8).fill(0))], 8);
    expectClose(nested(y), want.outputs, 2e-5, 'GRU float32');
  });
});
