/**
 * State in the recurrent layers: initialState as a call option, stateful carry-over across calls
 * and resetStates, against the direct loops of recurrent-oracle.ts; dropout masks drawn once per
 * sequence; a user's own cells; save/load; and the bad inputs that must give clear errors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import {
  Dense, Embedding, GRU, GRUCell, Input, LSTM, LSTMCell, RNN, RNNCell, SimpleRNN, SimpleRNNCell, registerLayer, type CellLike, type LayerConfig,
} from '../../layers/index.js';
import { saveModel } from '../../saving/save.js';
import { runLayerTest } from './harness.js';
import { expectClose, gruStepPerGate, lstmStep, lstmStepPerGate, nested, runRef, simpleStep, type Mat } from './recurrent-oracle.js';

const AVAILABLE = kiln.listBackends().filter((b) => b.available).map((b) => b.name);

function randomized(layer: kiln.layers.Layer, x: kiln.Tensor, seed = 50): Mat[] {
  layer.apply(x);
  layer.setWeights(layer.getWeights().map((w, i) => kiln.random.normal([...w.shape], { dtype: w.dtype, seed: seed + i, stddev: 0.6 })));
  return layer.getWeights().map((w) => nested(w));
}

describe.each(AVAILABLE)('states on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  afterAll(() => kiln.setBackend('reference'));

  it('starts from initialState [h, c]', () => {
    const lstm = new LSTM(3, { returnSequences: true, dtype: 'float64' });
    const x = kiln.random.normal([2, 4, 2], { dtype: 'float64', seed: 1 });
    const [k, r, b] = randomized(lstm, x);
    const h0 = kiln.random.normal([2, 3], { dtype: 'float64', seed: 2 });
    const c0 = kiln.random.normal([2, 3], { dtype: 'float64', seed: 3 });
    const y = lstm.apply(x, { initialState: [h0, c0] });
    const want = runRef(lstmStep(k, r, b as unknown as number[]), nested(x), [nested(h0), nested(c0)], 3);
    expectClose(nested(y), want.outputs, 1e-9, 'LSTM from [h0, c0]');
  });

  it('stateful: the second call continues the first; resetStates() starts again from zeros, resetStates(values) from those', () => {
    const lstm = new LSTM(3, { stateful: true, returnSequences: true, batchSize: 2, dtype: 'float64' });
    const x = kiln.random.normal([2, 6, 2], { dtype: 'float64', seed: 4 });
    const [first, second] = kiln.ops.split(x, 2, 1);
    const [k, r, b] = randomized(lstm, first);
    lstm.resetStates();
    const step = lstmStep(k, r, b as unknown as number[]);
    const zeros = [[0, 0, 0], [0, 0, 0]];
    const whole = runRef(step, nested(x), [zeros, zeros], 3);
    const y1 = nested(lstm.apply(first));
    const y2 = nested(lstm.apply(second));
    expectClose([y1[0], y2[0]].flat(), whole.outputs[0], 1e-9, 'sample 0 over two calls');
    expectClose([y1[1], y2[1]].flat(), whole.outputs[1], 1e-9, 'sample 1 over two calls');
    lstm.resetStates();
    expectClose(nested(lstm.apply(second)), runRef(step, nested(second), [zeros, zeros], 3).outputs, 1e-9, 'after resetStates()');
    const h0 = kiln.random.normal([2, 3], { dtype: 'float64', seed: 5 });
    lstm.resetStates([h0, h0]);
    expectClose(nested(lstm.apply(second)), runRef(step, nested(second), [nested(h0), nested(h0)], 3).outputs, 1e-9, 'after resetStates([h, c])');
  });
});

describe('stateful layers and their errors', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('fixes the batch size at the first call when none was given, and refuses another', () => {
    const gru = new GRU(2, { stateful: true, name: 'g' });
    gru.apply(kiln.ones([3, 2, 1]));
    expect(() => gru.apply(kiln.ones([2, 2, 1]))).toThrow(/GRU 'g'.*stateful, so its batch size is fixed at 3.*got a batch of 2/);
    const fixed = new SimpleRNN(2, { stateful: true, batchSize: 4, inputShape: [3, 1] });
    const model = new kiln.Sequential([fixed]);
    expect(() => model.predictOnBatch(kiln.ones([2, 3, 1]))).toThrow(/batch size is fixed at 4/);
    expect(() => new LSTM(2).resetStates()).toThrow(/not stateful/);
    // a call given initial states carries its final states too, and fixes the batch size
    const given = new GRU(2, { stateful: true, returnState: true });
    const [, h] = given.apply(kiln.ones([2, 3, 1]), { initialState: [kiln.ones([2, 2])] }) as unknown as kiln.Tensor[];
    const [, next] = given.apply(kiln.zeros([2, 0, 1])) as unknown as kiln.Tensor[];
    expect(nested(next)).toEqual(nested(h));
    given.apply(kiln.ones([2, 3, 1]));
    expect(nested(next)).toEqual(nested(h));
    expect(() => given.apply(kiln.ones([3, 3, 1]), { initialState: [kiln.ones([3, 2])] })).toThrow(/fixed at 2/);
    expect(() => fixed.resetStates([kiln.ones([4, 3])])).toThrow(/initial state 0 must have shape \[4,2\], got \[4,3\]/);
  });

  it('carries states that are not weights (nothing trains or saves them)', () => {
    const lstm = new LSTM(2, { stateful: true });
    lstm.apply(kiln.ones([1, 3, 2]));
    expect(lstm.weights.map((w) => w.name.split('/').pop())).toEqual(['kernel', 'recurrent_kernel', 'bias']);
  });

  it('rejects initial states of the wrong count or shape, naming the layer and the shapes', () => {
    const lstm = new LSTM(3, { name: 'enc' });
    const x = kiln.zeros([2, 4, 5]);
    expect(() => lstm.apply(x, { initialState: [kiln.zeros([2, 3])] })).toThrow(/LSTM 'enc'.*expects 2 initial states \(\[2,3\], \[2,3\]\), got 1/);
    expect(() => lstm.apply(x, { initialState: [kiln.zeros([2, 3]), kiln.zeros([2, 4])] })).toThrow(/initial state 1 must have shape \[2,3\], got \[2,4\]/);
    expect(() => lstm.apply(x, { initialState: [kiln.zeros([1, 3]), kiln.zeros([1, 3])] })).toThrow(/initial state 0 must have shape \[2,3\], got \[1,3\]/);
    expect(() => new GRU(3).apply(x, { initialState: kiln.zeros([2, 3, 1]) })).toThrow(/initial state 0 must have shape \[2,3\]/);
  });

  it('rejects a cell without stateSize or call, an input of rank 2, and bad options', () => {
    const noState = { call: (x: kiln.Tensor, s: kiln.Tensor[]) => [x, s] } as unknown as CellLike;
    expect(() => new RNN(noState)).toThrow(/RNN.*the cell needs a stateSize.*got none/);
    expect(() => new RNN({ stateSize: [2, 0], call: noState.call } as CellLike)).toThrow(/stateSize.*\[2,0\]/);
    expect(() => new RNN({ stateSize: 2 } as unknown as CellLike)).toThrow(/needs a call\(input, states, options\) method/);
    expect(() => new LSTM(3, { name: 'l2' }).apply(kiln.zeros([2, 5]))).toThrow(/LSTM 'l2'.*expects sequences \[batch, time, features\].*got shape \[2,5\].*add a time axis/);
    const built = new GRU(2, { name: 'g3' });
    built.apply(kiln.zeros([1, 2, 3]));
    expect(() => built.apply(kiln.zeros([1, 2, 4]))).toThrow(/GRU 'g3'.*was built for 3 features, got shape \[1,2,4\]/);
    expect(() => new LSTM(0)).toThrow(/units must be a positive integer, got 0/);
    expect(() => new GRU(2, { dropout: 1.5 })).toThrow(/dropout must be a number in \[0, 1\], got 1.5/);
    expect(() => new SimpleRNN(2, { returnSequences: 'yes' as never })).toThrow(/returnSequences must be true or false/);
    expect(() => new RNN([])).toThrow(/non-empty list of cells/);
  });
});

describe('dropout masks are drawn once per sequence', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('recurrent dropout: each unit keeps one mask value for every step (checked by a loop)', () => {
    // linear, identity kernels, ones as input: h_t = 1 + m·h_{t-1}, so a unit with m = 0 stays
    // at 1 and one with m = 2 follows 1, 3, 7, 15; a mask redrawn per step would mix the two
    const cell = new SimpleRNNCell(64, { activation: 'linear', recurrentDropout: 0.5, seed: 3, useBias: false, kernelInitializer: 'identity', recurrentInitializer: 'identity' });
    const rnn = new RNN(cell, { returnSequences: true });
    const y = nested(rnn.apply(kiln.ones([2, 4, 64]), { training: true })) as number[][][];
    let kept = 0;
    for (const row of y) {
      for (let u = 0; u < 64; u++) {
        const path = row.map((step) => step[u]);
        const dropped = path.every((v) => v === 1);
        const keptPath = path.every((v, t) => Math.abs(v - (2 ** (t + 1) - 1)) < 1e-5);
        expect(dropped || keptPath, `unit ${u}: ${path}`).toBe(true);
        if (keptPath) kept++;
      }
    }
    expect(kept).toBeGreaterThan(30);
    expect(kept).toBeLessThan(98);
    // not in inference
    expect(nested(rnn.apply(kiln.ones([1, 3, 64])))[0].map((s: number[]) => s[0])).toEqual([1, 2, 3]);
  });

  it('input dropout: the fast path of LSTM applies the one mask the step loop of RNN(LSTMCell) draws, and a new one per call', () => {
    const x = kiln.random.normal([3, 5, 4], { seed: 7 });
    const lstm = new LSTM(3, { dropout: 0.4, seed: 11, returnSequences: true });
    const loop = new RNN(new LSTMCell(3, { dropout: 0.4, seed: 11 }), { returnSequences: true });
    lstm.apply(x);
    loop.apply(x);
    loop.setWeights(lstm.getWeights());
    const a = lstm.apply(x, { training: true }) as kiln.Tensor;
    expectClose(nested(a), nested(loop.apply(x, { training: true })), 1e-5, 'fast path vs step loop');
    const again = lstm.apply(x, { training: true }) as kiln.Tensor;
    expect(nested(again)).not.toEqual(nested(a));
    expect(nested(lstm.apply(x))).not.toEqual(nested(a));
  });

  it('recurrent dropout: LSTM and GRU (reset before) mask each gate with its own input and state masks, as Keras', () => {
    const cases = [
      { layer: new LSTM(3, { dropout: 0.3, recurrentDropout: 0.4, seed: 5, returnSequences: true, dtype: 'float64' }), states: 2, gates: 4 },
      { layer: new GRU(3, { dropout: 0.3, recurrentDropout: 0.4, seed: 6, resetAfter: false, returnSequences: true, dtype: 'float64' }), states: 1, gates: 3 },
    ];
    for (const { layer, states, gates } of cases) {
      const x = kiln.random.normal([2, 4, 2], { dtype: 'float64', seed: 8 });
      const [k, r, b] = randomized(layer, x);
      // the masks the call draws, seen as it draws them
      const drawn: { input: Mat[]; recurrent: Mat[] } = { input: [], recurrent: [] };
      const dropout = layer.cell.dropoutMasks;
      for (const kind of ['input', 'recurrent'] as const) {
        const draw = dropout[kind].bind(dropout) as (...args: unknown[]) => kiln.Tensor[] | null;
        (dropout as unknown as Record<string, unknown>)[kind] = (...args: unknown[]) => {
          const masks = draw(...args);
          if (masks && drawn[kind].length === 0) drawn[kind] = masks.map((m) => nested(m));
          return masks;
        };
      }
      const y = nested(layer.apply(x, { training: true }) as kiln.Tensor) as number[][][];
      expect(drawn.input).toHaveLength(gates);
      expect(drawn.recurrent).toHaveLength(gates);
      nested(x).forEach((seq: number[][], s: number) => {
        const dp = drawn.input.map((m) => m[s]);
        const rec = drawn.recurrent.map((m) => m[s]);
        const step = gates === 4 ? lstmStepPerGate(k, r, b as unknown as number[], dp, rec) : gruStepPerGate(k, r, b as unknown as number[], dp, rec);
        const want = runRef(step, [seq], new Array(states).fill([[0, 0, 0]]), 3);
        expectClose(y[s], want.outputs[0], 1e-9, `${layer.className} sample ${s}`);
      });
    }
  });

  it('LSTM and GRU with recurrent dropout take the step loop with one mask per gate, and train', async () => {
    for (const layer of [new LSTM(4, { recurrentDropout: 0.3, dropout: 0.2, seed: 1 }), new GRU(4, { recurrentDropout: 0.3, resetAfter: false, seed: 2 })]) {
      const model = new kiln.Sequential([Input({ shape: [5, 2] }), layer, new Dense(1)]);
      model.compile({ optimizer: 'adam', loss: 'mse' });
      const x = kiln.random.normal([8, 5, 2], { seed: 3 });
      const history = await model.fit(x, kiln.ops.sum(x, [1, 2]), { epochs: 3, batchSize: 8, verbose: 0 });
      expect((history.history.loss as number[]).every(Number.isFinite)).toBe(true);
    }
  });
});

/** A user's cell, as Keras's docs write MinimalRNNCell: h = tanh(x·kernel + h₋₁·recurrent_kernel). */
class MinimalRNNCell extends RNNCell {
  static readonly className = 'MinimalRNNCell';
  kernel: kiln.Variable | null = null;
  recurrentKernel: kiln.Variable | null = null;

  constructor(readonly units: number, args: kiln.layers.LayerArgs = {}) {
    super(args);
  }

  get stateSize(): number {
    return this.units;
  }

  override build(shape: (number | null)[]): void {
    this.kernel = this.addWeight('kernel', [shape[1]!, this.units]);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, this.units], { initializer: 'orthogonal' });
  }

  step(x: kiln.Tensor, [h]: kiln.Tensor[]): [kiln.Tensor, kiln.Tensor[]] {
    const out = kiln.ops.tanh(kiln.ops.add(kiln.ops.matmul(x, this.kernel!.value), kiln.ops.matmul(h, this.recurrentKernel!.value)));
    return [out, [out]];
  }

  override getConfig(): LayerConfig {
    return { ...super.getConfig(), units: this.units };
  }

  static fromConfig(config: LayerConfig): MinimalRNNCell {
    return new MinimalRNNCell(config.units as number, config);
  }
}
registerLayer(MinimalRNNCell);

describe("a user's own cells", () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('a registered RNNCell subclass passes the harness inside RNN, its config nested', () => {
    runLayerTest(RNN, {
      args: [new MinimalRNNCell(3), { returnSequences: true }], inputShape: [2, 4, 2], expectedOutputShape: [2, 4, 3],
      expectedWeights: [['kernel', [2, 3]], ['recurrent_kernel', [3, 3]]],
    });
  });

  it('a plain object with stateSize and call runs as Keras runs it, and cannot be saved', () => {
    const kernel = kiln.random.normal([2, 3], { dtype: 'float64', seed: 1 });
    const recurrent = kiln.random.normal([3, 3], { dtype: 'float64', seed: 2 });
    const cell: CellLike = {
      stateSize: 3,
      call: (x, [h]) => {
        const out = kiln.ops.tanh(kiln.ops.add(kiln.ops.matmul(x, kernel), kiln.ops.matmul(h, recurrent)));
        return [out, out];
      },
    };
    const rnn = new RNN(cell, { goBackwards: true, dtype: 'float64' });
    const x = kiln.random.normal([2, 5, 2], { dtype: 'float64', seed: 3 });
    const want = runRef(simpleStep(nested(kernel), nested(recurrent), null), nested(x), [[[0, 0, 0], [0, 0, 0]]], 3, { goBackwards: true });
    expectClose(nested(rnn.apply(x)), want.last, 1e-9, 'plain cell');
    expect(() => rnn.getConfig()).toThrow(/cannot save a cell that is not a Layer/);
  });
});

describe('save and load', () => {
  let dir: string;
  beforeAll(async () => {
    kiln.setBackend('reference');
    dir = await mkdtemp(join(tmpdir(), 'kiln-rnn-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a model of every recurrent layer gives the same predictions after a .kiln round trip', async () => {
    const ids = Input({ shape: [7], dtype: 'int32' });
    let h = new Embedding(20, 6, { maskZero: true }).apply(ids);
    h = new LSTM(5, { returnSequences: true, goBackwards: true }).apply(h);
    h = new GRU(4, { returnSequences: true, resetAfter: false }).apply(h);
    h = new RNN([new SimpleRNNCell(3), new GRUCell(3), new MinimalRNNCell(2)], { returnSequences: true }).apply(h);
    h = new SimpleRNN(3, { zeroOutputForMask: true }).apply(h);
    const model = new kiln.Model({ inputs: ids, outputs: new Dense(1).apply(h) });
    const path = join(dir, 'rnn.kiln');
    await saveModel(model, path);
    const loaded = await kiln.loadModel(path);
    expect(loaded.layers.map((l) => l.className)).toEqual(['InputLayer', 'Embedding', 'LSTM', 'GRU', 'RNN', 'SimpleRNN', 'Dense']);
    const x = kiln.tensor([1, 5, 3, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 2], [2, 7], 'int32');
    expect(nested(loaded.predictOnBatch(x) as kiln.Tensor)).toEqual(nested(model.predictOnBatch(x) as kiln.Tensor));
  });
});

describe('initialState in a Functional model', () => {
  let dir: string;
  beforeAll(async () => {
    kiln.setBackend('reference');
    dir = await mkdtemp(join(tmpdir(), 'kiln-rnn-state-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("an encoder's states start a decoder: the graph runs, saves and reloads them as the eager calls do", async () => {
    const source = Input({ shape: [null, 3], name: 'source' });
    const target = Input({ shape: [null, 2], name: 'target' });
    const encoder = new LSTM(4, { returnState: true });
    const decoder = new LSTM(4, { returnSequences: true });
    const dense = new Dense(2);
    const [, h, c] = encoder.apply(source) as unknown as kiln.SymbolicTensor[];
    const decoded = decoder.apply(target, { initialState: [h, c] });
    expect([...decoded.shape]).toEqual([null, null, 4]);
    const model = new kiln.Model({ inputs: [source, target], outputs: dense.apply(decoded) });
    expect(model.summary()).toContain('lstm');

    const xs = kiln.random.normal([2, 5, 3], { seed: 1 });
    const xt = kiln.random.normal([2, 3, 2], { seed: 2 });
    const [, he, ce] = encoder.apply(xs) as unknown as kiln.Tensor[];
    const eager = dense.apply(decoder.apply(xt, { initialState: [he, ce] }));
    const predicted = model.predictOnBatch([xs, xt]) as kiln.Tensor;
    expectClose(nested(predicted), nested(eager), 1e-6, 'graph vs eager');

    const path = join(dir, 'seq2seq.kiln');
    await saveModel(model, path);
    const loaded = await kiln.loadModel(path);
    expect(nested(loaded.predictOnBatch([xs, xt]) as kiln.Tensor)).toEqual(nested(predicted));
  });

  it('checks symbolic initial states when the graph is built', () => {
    const x = Input({ shape: [4, 3] });
    expect(() => new GRU(5, { name: 'dec' }).apply(x, { initialState: [Input({ shape: [4] })] })).toThrow(/GRU 'dec'.*initial state 0 must have shape \[null,5\], got \[null,4\]/);
    expect(() => new LSTM(5).apply(x, { initialState: [Input({ shape: [5] })] })).toThrow(/expects 2 initial states/);
  });
});
