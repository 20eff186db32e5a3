/**
 * Bidirectional: the layer harness (Keras's weights, forward then backward; shapes symbolic and
 * eager; config round trip with both nested layers; float64 finite differences), values against
 * the float64 loops of recurrent-oracle.ts on every backend (each merge mode, masks of variable
 * lengths read backwards from each sequence's last real step, states and initial states), Keras's
 * own published numbers, save/load, and the inputs Keras refuses.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Bidirectional, Dense, Embedding, GRU, GRUCell, Input, LSTM, RNN, SimpleRNN, TimeDistributed, maskOf, type LayerConfig, type MergeMode } from '../../layers/index.js';
import { modelFromConfig, modelToConfig } from '../../models/serialize.js';
import { saveModel } from '../../saving/save.js';
import { runLayerTest } from './harness.js';
import { expectClose, gruStep, lstmStep, nested, runRef, type Mat } from './recurrent-oracle.js';

const AVAILABLE = kiln.listBackends().filter((b) => b.available).map((b) => b.name);

/** Both nested layers in float64 too: the harness's float64 copy sets the wrapper's dtype only. */
const nestedFloat64 = (config: LayerConfig): LayerConfig => {
  const f64 = (saved: unknown): unknown => {
    const s = saved as { className: string; config: LayerConfig };
    return { ...s, config: { ...s.config, dtype: 'float64' } };
  };
  return { ...config, layer: f64(config.layer), backwardLayer: f64(config.backwardLayer) };
};

describe('Bidirectional passes the layer harness on reference', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('of LSTM, concat: the forward layer\'s weights, then the backward layer\'s', () => {
    const lstm = ['kernel', 'recurrent_kernel', 'bias'].map((n, i): [string, number[]] => [n, [[3, 8], [2, 8], [8]][i]]);
    runLayerTest(Bidirectional, {
      args: [new LSTM(2, { biasInitializer: 'random_normal' })],
      inputShape: [2, 3, 3], expectedOutputShape: [2, 4],
      expectedWeights: [...lstm, ...lstm], expectedTrainableWeights: 6,
      float64Config: nestedFloat64,
    });
  });

  it('of GRU returning sequences, summed; with its own backward layer', () => {
    const gru = (f: number): [string, number[]][] => [['kernel', [f, 6]], ['recurrent_kernel', [2, 6]], ['bias', [2, 6]]];
    runLayerTest(Bidirectional, {
      args: [new GRU(2, { returnSequences: true, biasInitializer: 'random_normal' }), { mergeMode: 'sum' }],
      inputShape: [2, 3, 4], expectedOutputShape: [2, 3, 2],
      expectedWeights: [...gru(4), ...gru(4)],
      float64Config: nestedFloat64,
    });
    runLayerTest(Bidirectional, {
      args: [new SimpleRNN(3, { returnSequences: true }), { mergeMode: 'ave', backwardLayer: new SimpleRNN(3, { goBackwards: true, returnSequences: true, useBias: false }) }],
      inputShape: [2, 3, 2], expectedOutputShape: [2, 3, 3],
      expectedWeights: [['kernel', [2, 3]], ['recurrent_kernel', [3, 3]], ['bias', [3]], ['kernel', [2, 3]], ['recurrent_kernel', [3, 3]]],
      float64Config: nestedFloat64,
    });
  });
});

type Kind = 'LSTM' | 'GRU';
const make = (kind: Kind, units: number, options: Record<string, unknown>): RNN =>
  kind === 'LSTM' ? new LSTM(units, { biasInitializer: 'random_normal', ...options }) : new GRU(units, { biasInitializer: 'random_normal', ...options });

/** One step of the loop oracle, from a layer's weights as they are now. */
function stepOf(kind: Kind, layer: RNN): ReturnType<typeof lstmStep> {
  const [kernel, recurrent, bias] = layer.getWeights().map(nested) as [Mat, Mat, unknown];
  return kind === 'LSTM' ? lstmStep(kernel, recurrent, bias as number[]) : gruStep(kernel, recurrent, bias as Mat, true);
}

const stateCount = (kind: Kind): number => (kind === 'LSTM' ? 2 : 1);

/**
 * Bidirectional as loops: the forward layer over the sequence, the backward one over it reversed
 * (masked steps keep the states), its outputs put back in time order, then merged.
 */
function biRef(kind: Kind, bi: Bidirectional, x: number[][][], mask: boolean[][] | undefined, initial?: Mat[]): { outputs: number[][][] | Mat[]; states: Mat[] } {
  const U = (bi.forwardLayer as RNN).outputSize;
  const zeros = Array.from({ length: 2 * stateCount(kind) }, () => x.map(() => new Array<number>(U).fill(0)));
  const init = initial ?? zeros;
  const seq = bi.returnSequences;
  const f = runRef(stepOf(kind, bi.forwardLayer as RNN), x, init.slice(0, stateCount(kind)), U, { mask, zeroOutputForMask: seq });
  const b = runRef(stepOf(kind, bi.backwardLayer as RNN), x, init.slice(stateCount(kind)), U, { mask, goBackwards: true, zeroOutputForMask: seq });
  const yf = seq ? f.outputs : f.last;
  const yb = seq ? b.outputs.map((s) => [...s].reverse()) : b.last;
  const pair = (u: number[], v: number[]): number[] => {
    switch (bi.mergeMode) {
      case 'concat': return [...u, ...v];
      case 'sum': return u.map((a, j) => a + v[j]);
      case 'mul': return u.map((a, j) => a * v[j]);
      default: return u.map((a, j) => (a + v[j]) / 2);
    }
  };
  const merged = bi.mergeMode === null ? [yf, yb] : seq ? (yf as number[][][]).map((s, i) => s.map((u, t) => pair(u, (yb as number[][][])[i][t]))) : (yf as Mat).map((u, i) => pair(u, (yb as Mat)[i]));
  return { outputs: merged as number[][][] | Mat[], states: [...f.states, ...b.states] };
}

/** Right-padded sequences of lengths 5, 3, 1 and 0; the padding holds normal draws, so a step the mask lets through changes the result. */
const LENGTHS = [5, 3, 1, 0];
const maskOfLengths = (T: number): boolean[][] => LENGTHS.map((n) => Array.from({ length: T }, (_, t) => t < n));

describe.each(AVAILABLE)('values against direct loops on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  afterAll(() => kiln.setBackend('reference'));
  const x = (): kiln.Tensor => kiln.random.normal([4, 5, 3], { seed: 11 });
  const mask = maskOfLengths(5);
  const maskTensor = (): kiln.Tensor => kiln.tensor(mask, [4, 5], 'bool');

  for (const kind of ['LSTM', 'GRU'] as const) {
    for (const mergeMode of ['concat', 'sum', 'mul', 'ave', null] as MergeMode[]) {
      for (const returnSequences of [false, true]) {
        it(`${kind}, mergeMode ${mergeMode}, returnSequences ${returnSequences}, masked to lengths ${LENGTHS}`, () => {
          const bi = new Bidirectional(make(kind, 3, { returnSequences }), { mergeMode });
          const xs = x();
          const y = bi.apply(xs, { mask: maskTensor() });
          const want = biRef(kind, bi, nested(xs), mask);
          expectClose(Array.isArray(y) ? y.map(nested) : nested(y), want.outputs, 1e-5, `${kind} ${mergeMode}`);
          // unmasked too: the same loops without the mask
          const plain = bi.apply(xs);
          expectClose(Array.isArray(plain) ? plain.map(nested) : nested(plain), biRef(kind, bi, nested(xs), undefined).outputs, 1e-5, `${kind} ${mergeMode} unmasked`);
        });
      }
    }

    it(`${kind}: the backward direction starts at each sequence's last real step`, () => {
      const bi = new Bidirectional(make(kind, 2, { returnSequences: true }), { mergeMode: null });
      const xs = x();
      const [, yBackward] = bi.apply(xs, { mask: maskTensor() }) as unknown as kiln.Tensor[];
      const back = nested(yBackward) as number[][][];
      const step = stepOf(kind, bi.backwardLayer as RNN);
      const seqs = nested(xs) as number[][][];
      LENGTHS.forEach((n, b) => {
        // x[n-1], …, x[0] from zero states: step t of the output is the state after reading x[t]
        let states: Mat = Array.from({ length: stateCount(kind) }, () => [0, 0]);
        for (let t = n - 1; t >= 0; t--) {
          const [out, next] = step(seqs[b][t], states);
          states = next;
          expectClose(back[b][t], out, 1e-5, `sample ${b} step ${t}`);
        }
        for (let t = n; t < 5; t++) expect(back[b][t]).toEqual([0, 0]);
      });
    });

    it(`${kind}: returnState gives the output, the forward states, then the backward states; initialState splits half and half`, () => {
      const bi = new Bidirectional(make(kind, 3, { returnState: true }), { mergeMode: 'concat' });
      const xs = x();
      const k = stateCount(kind);
      const initial = Array.from({ length: 2 * k }, (_, i) => kiln.random.normal([4, 3], { seed: 20 + i }));
      const out = bi.apply(xs, { mask: maskTensor(), initialState: initial }) as unknown as kiln.Tensor[];
      expect(out.length).toBe(1 + 2 * k);
      const want = biRef(kind, bi, nested(xs), mask, initial.map(nested));
      expectClose(nested(out[0]), want.outputs, 1e-5, 'output');
      out.slice(1).forEach((s, i) => expectClose(nested(s), want.states[i], 1e-5, `state ${i}`));
    });
  }

  it('a backward layer of its own: its weights, not a copy of the forward layer\'s', () => {
    const backward = new LSTM(3, { goBackwards: true, returnSequences: true, recurrentInitializer: 'glorot_uniform', name: 'mine' });
    const bi = new Bidirectional(new LSTM(3, { returnSequences: true }), { backwardLayer: backward, mergeMode: 'mul' });
    expect(bi.backwardLayer).toBe(backward);
    const xs = x();
    expectClose(nested(bi.apply(xs, { mask: maskTensor() }) as kiln.Tensor), biRef('LSTM', bi, nested(xs), mask).outputs, 1e-5);
  });
});

describe.each(AVAILABLE)('training holds its tensors on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  afterAll(() => kiln.setBackend('reference'));
  it('Embedding(maskZero) → Bidirectional(LSTM) → TimeDistributed(Dense): the same tensors and bytes after step 3 and step 12', async () => {
    const model = new kiln.Sequential([
      Input({ shape: [6], dtype: 'int32' }), new Embedding(9, 4, { maskZero: true }),
      new Bidirectional(new LSTM(3, { returnSequences: true })), new TimeDistributed(new Dense(2, { activation: 'softmax' })),
    ]);
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const x = kiln.tensor([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 0]], [2, 6], 'int32');
    const y = kiln.tensor([[1, 0, 1, 0, 0, 0], [0, 1, 0, 1, 1, 0]], [2, 6], 'int32');
    const held = () => ({ numTensors: kiln.memory().numTensors, numBytes: kiln.memory().numBytes });
    for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
    const after3 = held();
    for (let i = 0; i < 9; i++) await model.trainOnBatch(x, y);
    expect(held()).toEqual(after3);
  });
});

/** Output and gradients of sum(y · r) for the input and weights of a masked Bidirectional(LSTM), on the current backend. */
function outputAndGradients(x: Float32Array, weights: Float32Array[] | null): { y: number[]; grads: number[][]; weights: Float32Array[] } {
  const input = kiln.tensor(x, [4, 5, 3]);
  const bi = new Bidirectional(new LSTM(3, { returnSequences: true, biasInitializer: 'random_normal' }));
  bi.apply(input);
  if (weights) bi.setWeights(weights.map((w, i) => kiln.tensor(w, [...bi.getWeights()[i].shape])));
  const mask = kiln.tensor(maskOfLengths(5), [4, 5], 'bool');
  const r = kiln.tensor(Float32Array.from({ length: 4 * 5 * 6 }, (_, i) => Math.sin(i + 1)), [4, 5, 6]);
  const tape = new kiln.GradientTape();
  const loss = tape.record(() => kiln.ops.sum(kiln.ops.multiply(bi.apply(input, { mask }), r)));
  const grads = tape.gradient(loss, [input, ...bi.trainableWeights]);
  const flatOf = (t: kiln.Tensor): number[] => Array.from(t.dataSync() as Float32Array);
  return { y: flatOf(bi.apply(input, { mask })), grads: grads.map((g) => flatOf(g!)), weights: bi.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array)) };
}

describe.each(AVAILABLE.filter((b) => b !== 'reference'))('outputs and gradients on %s agree with reference', (backend) => {
  afterAll(() => kiln.setBackend('reference'));
  it('Bidirectional(LSTM), masked, returning sequences', async () => {
    await kiln.setBackend('reference');
    const x = Float32Array.from(kiln.random.normal([4, 5, 3], { seed: 12 }).dataSync() as Float32Array);
    const want = outputAndGradients(x, null);
    await kiln.setBackend(backend);
    const got = outputAndGradients(x, want.weights);
    expectClose(got.y, want.y, 1e-5, 'y');
    got.grads.forEach((g, i) => expectClose(g, want.grads[i], 1e-4, `gradient ${i}`));
  });
});

/** Keras 3's own test values (keras/src/layers/rnn/bidirectional_test.py): constant weights on arange inputs. */
describe("Keras's published values", () => {
  const constant = (value: number) => ({ className: 'Constant', config: { value } });
  const weights = (k: number, r: number, b: number) => ({ kernelInitializer: constant(k), recurrentInitializer: constant(r), biasInitializer: constant(b) });
  const arange = (shape: number[]): kiln.Tensor => kiln.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => i), shape);

  it('SimpleRNN: concat, ave, null, and mul with a backward layer of other weights', () => {
    const x = arange([2, 3, 4]);
    const forward = new SimpleRNN(2, weights(0.01, 0.02, 0.03));
    expectClose(nested(new Bidirectional(forward).apply(x)), [[0.39687276, 0.39687276, 0.10004295, 0.10004295], [0.7237238, 0.7237238, 0.53391594, 0.53391594]], 1e-5);
    expectClose(nested(new Bidirectional(forward, { mergeMode: 'ave' }).apply(x)), [[0.24845785, 0.24845785], [0.6288199, 0.6288199]], 1e-5);
    const [a, b] = new Bidirectional(forward, { mergeMode: null }).apply(x) as unknown as kiln.Tensor[];
    expectClose([nested(a), nested(b)], [[[0.39687276, 0.39687276], [0.7237238, 0.7237238]], [[0.10004295, 0.10004295], [0.53391594, 0.53391594]]], 1e-5);
    const backwardLayer = new SimpleRNN(2, { ...weights(0.03, 0.02, 0.01), goBackwards: true });
    expectClose(nested(new Bidirectional(forward, { backwardLayer, mergeMode: 'mul' }).apply(x)), [[0.08374989, 0.08374989], [0.6740834, 0.6740834]], 1e-5);
  });

  it('GRU returning sequences, summed; and masked with holes', () => {
    const seq = new Bidirectional(new GRU(2, { ...weights(0.01, 0.02, 0.03), returnSequences: true }), { mergeMode: 'sum' });
    expectClose(nested(seq.apply(arange([2, 3, 4]))), [
      [[0.20937867, 0.20937867], [0.34462988, 0.34462988], [0.40290534, 0.40290534]],
      [[0.59829646, 0.59829646], [0.6734641, 0.6734641], [0.6479671, 0.6479671]],
    ], 1e-5);
    const mask = kiln.tensor([[true, true, false, true], [true, false, false, true]], [2, 4], 'bool');
    expectClose(nested(new Bidirectional(new GRU(2, weights(0.01, 0.02, 0.03))).apply(arange([2, 4, 3]), { mask })), [
      [0.19393763, 0.19393763, 0.11669192, 0.11669192], [0.30818558, 0.30818558, 0.28380975, 0.28380975],
    ], 1e-5);
  });

  it('LSTM: initial states, returned states, and a stateful layer reset', () => {
    const x = arange([2, 4, 3]);
    const init = [1, 2, 3, 4].map((m) => kiln.tensor([0, m, 2 * m, 3 * m], [2, 2]));
    expectClose(nested(new Bidirectional(new LSTM(2, weights(0.01, 0.02, 0.03))).apply(x, { initialState: init })), [
      [0.20794602, 0.4577124, 0.14046375, 0.48191673], [0.6682636, 0.6711909, 0.60943645, 0.60950446],
    ], 1e-5);
    const [out, h1, c1, h2, c2] = new Bidirectional(new LSTM(2, { ...weights(0.01, 0.02, 0.03), returnState: true })).apply(x) as unknown as kiln.Tensor[];
    expectClose(nested(out), [[0.1990008, 0.1990008, 0.12659755, 0.12659755], [0.52335435, 0.52335435, 0.44717982, 0.44717982]], 1e-5);
    expectClose([h1, c1, h2, c2].map(nested), [
      [[0.1990008, 0.1990008], [0.52335435, 0.52335435]], [[0.35567185, 0.35567185], [1.0492687, 1.0492687]],
      [[0.12659755, 0.12659755], [0.44717982, 0.44717982]], [[0.2501858, 0.2501858], [0.941473, 0.941473]],
    ], 1e-5);
    const stateful = new Bidirectional(new LSTM(2, { ...weights(0.01, 0.02, 0.03), stateful: true }));
    const second = [[0.26234663, 0.26234663, 0.16959146, 0.16959146], [0.6137073, 0.6137073, 0.5381646, 0.5381646]];
    stateful.apply(x);
    expectClose(nested(stateful.apply(x)), second, 1e-5);
    stateful.resetStates();
    stateful.apply(x);
    expectClose(nested(stateful.apply(x)), second, 1e-5);
  });
});

describe('masks, shapes known only at run time, config, save/load', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-bi-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names its layers forward_<name> and backward_<name>, the backward one reading backwards, zeros for masked steps of sequences', () => {
    const bi = new Bidirectional(new LSTM(2, { name: 'enc', returnSequences: true }));
    expect([bi.forwardLayer.name, bi.backwardLayer.name, bi.forwardLayer.goBackwards, bi.backwardLayer.goBackwards]).toEqual(['forward_enc', 'backward_enc', false, true]);
    expect([(bi.forwardLayer as RNN).zeroOutputForMask, (bi.backwardLayer as RNN).zeroOutputForMask]).toEqual([true, true]);
    expect((new Bidirectional(new LSTM(2)).forwardLayer as RNN).zeroOutputForMask).toBe(false);
    // a name that has the prefix already keeps one
    expect(new Bidirectional(new LSTM(2, { name: 'forward_enc' })).forwardLayer.name).toBe('forward_enc');
  });

  it('passes the mask on to sequence outputs only, one per output with mergeMode null', () => {
    const x = kiln.random.normal([2, 3, 2], { seed: 1 });
    const mask = kiln.tensor([[true, true, false], [true, false, false]], [2, 3], 'bool');
    const seq = new Bidirectional(new GRU(2, { returnSequences: true })).apply(x, { mask });
    expect(maskOf(seq)!.arraySync()).toEqual([[true, true, false], [true, false, false]]);
    expect(maskOf(new Bidirectional(new GRU(2)).apply(x, { mask }))).toBeNull();
    const both = new Bidirectional(new LSTM(2, { returnSequences: true, returnState: true }), { mergeMode: null }).apply(x, { mask }) as unknown as kiln.Tensor[];
    expect(both.map((t) => maskOf(t) !== null)).toEqual([true, true, false, false, false, false]);
  });

  it('Embedding(maskZero) → Bidirectional(LSTM) → Bidirectional(GRU) → Dense in a Functional model of unknown time: the padded steps change nothing', () => {
    const input = Input({ shape: [null], dtype: 'int32' });
    const h = new Bidirectional(new LSTM(3, { returnSequences: true })).apply(new Embedding(6, 4, { maskZero: true }).apply(input));
    expect([...h.shape]).toEqual([null, null, 6]);
    const out = new Dense(1).apply(new Bidirectional(new GRU(2), { mergeMode: 'ave' }).apply(h));
    expect([...out.shape]).toEqual([null, 1]);
    const model = new kiln.Model({ inputs: input, outputs: out });
    const short = model.predictOnBatch(kiln.tensor([[3, 1, 4]], [1, 3], 'int32')) as kiln.Tensor;
    const padded = model.predictOnBatch(kiln.tensor([[3, 1, 4, 0, 0, 0]], [1, 6], 'int32')) as kiln.Tensor;
    expectClose(nested(padded), nested(short), 1e-6);
  });

  it('runs zero-length sequences: no steps give empty sequences, and zero last outputs', () => {
    const seq = new Bidirectional(new LSTM(2, { returnSequences: true })).apply(kiln.zeros([2, 0, 3]));
    expect([...seq.shape]).toEqual([2, 0, 4]);
    expect(nested(new Bidirectional(new GRU(2), { mergeMode: 'sum' }).apply(kiln.ones([2, 0, 3])))).toEqual([[0, 0], [0, 0]]);
  });

  it('wraps the generic RNN around a cell', () => {
    const bi = new Bidirectional(new RNN(new GRUCell(2)), { mergeMode: 'mul' });
    expect([...bi.apply(kiln.ones([1, 3, 2])).shape]).toEqual([1, 2]);
    expect(bi.backwardLayer.className).toBe('RNN');
  });

  it('takes symbolic initial states in a Functional model, which saves and loads them as inputs', () => {
    const x = Input({ shape: [null, 2] });
    const states = [0, 1, 2, 3].map(() => Input({ shape: [3] }));
    const out = new Bidirectional(new LSTM(3, { biasInitializer: 'random_normal' }), { mergeMode: 'sum' }).apply(x, { initialState: states });
    const model = new kiln.Model({ inputs: [x, ...states], outputs: out });
    const xs = kiln.random.normal([2, 4, 2], { seed: 3 });
    const given = [0, 1, 2, 3].map((i) => kiln.random.normal([2, 3], { seed: 30 + i }));
    const bi = model.layers.find((l) => l instanceof Bidirectional) as Bidirectional;
    const want = biRef('LSTM', bi, nested(xs), undefined, given.map(nested)).outputs;
    expectClose(nested(model.predictOnBatch([xs, ...given]) as kiln.Tensor), want, 1e-5);
    const copy = modelFromConfig(JSON.parse(JSON.stringify(modelToConfig(model))));
    copy.setWeights(model.getWeights());
    expectClose(nested(copy.predictOnBatch([xs, ...given]) as kiln.Tensor), want, 1e-5);
  });

  it('computes every output shape without running the loops', () => {
    const x = Input({ batchShape: [null, null, 4] });
    const shapes = (layer: Bidirectional): unknown => {
      const y = layer.apply(x) as unknown as kiln.SymbolicTensor | kiln.SymbolicTensor[];
      return Array.isArray(y) ? y.map((t) => [...t.shape]) : [...y.shape];
    };
    expect(shapes(new Bidirectional(new LSTM(3, { returnState: true }), { mergeMode: 'mul' }))).toEqual([[null, 3], [null, 3], [null, 3], [null, 3], [null, 3]]);
    expect(shapes(new Bidirectional(new GRU(3, { returnState: true, returnSequences: true }), { mergeMode: null }))).toEqual([[null, null, 3], [null, null, 3], [null, 3], [null, 3]]);
    expect(shapes(new Bidirectional(new SimpleRNN(3, { returnSequences: true })))).toEqual([null, null, 6]);
    expect(new Bidirectional(new LSTM(3, { returnState: true })).computeOutputShape([2, 5, 4])).toEqual([[2, 6], [2, 3], [2, 3], [2, 3], [2, 3]]);
  });

  it('a backward layer of other units: concat gives forward plus backward units, mergeMode null each its own', () => {
    const backward = (units: number, o: { returnState?: boolean } = {}) => new LSTM(units, { returnSequences: true, goBackwards: true, ...o });
    const concat = new Bidirectional(new LSTM(2, { returnSequences: true }), { backwardLayer: backward(3) });
    expect(concat.computeOutputShape([2, 5, 4])).toEqual([2, 5, 5]);
    expect([...(concat.apply(Input({ shape: [null, 4] })) as unknown as kiln.SymbolicTensor).shape]).toEqual([null, null, 5]);
    expect([...concat.apply(kiln.ones([2, 5, 4])).shape]).toEqual([2, 5, 5]);
    const both = new Bidirectional(new LSTM(2, { returnSequences: true, returnState: true }), { mergeMode: null, backwardLayer: backward(3, { returnState: true }) });
    expect(both.computeOutputShape([2, 5, 4])).toEqual([[2, 5, 2], [2, 5, 3], [2, 2], [2, 2], [2, 3], [2, 3]]);
    const eager = both.apply(kiln.ones([2, 5, 4])) as unknown as kiln.Tensor[];
    expect(eager.map((t) => [...t.shape])).toEqual([[2, 5, 2], [2, 5, 3], [2, 2], [2, 2], [2, 3], [2, 3]]);
  });

  it.each([['concat', 'concat'], ['null', null]] as const)('masked with returnState in a Functional model, mergeMode %s: the sequences keep the mask, the states get none', (_, mergeMode) => {
    const input = Input({ shape: [null], dtype: 'int32' });
    const embedded = new Embedding(6, 2, { maskZero: true }).apply(input);
    const bi = new Bidirectional(new LSTM(2, { returnSequences: true, returnState: true }), { mergeMode });
    const outs = bi.apply(embedded) as unknown as kiln.SymbolicTensor[];
    const sequences = mergeMode === null ? 2 : 1;
    expect(outs.length).toBe(sequences + 4);
    expect(outs.map((t) => maskOf(t) !== null)).toEqual(outs.map((_t, i) => i < sequences));
    expect(bi.computeMask(kiln.zeros([1, 3, 2]), kiln.tensor([[true, true, false]], [1, 3], 'bool'))).toHaveLength(sequences + 4);
    const model = new kiln.Model({ inputs: input, outputs: outs });
    const short = model.predictOnBatch(kiln.tensor([[3, 1, 4]], [1, 3], 'int32')) as kiln.Tensor[];
    const padded = model.predictOnBatch(kiln.tensor([[3, 1, 4, 0, 0]], [1, 5], 'int32')) as kiln.Tensor[];
    // the padded steps change no state, and the sequences are zeros there (zeroOutputForMask)
    for (let i = sequences; i < outs.length; i++) expectClose(nested(padded[i]), nested(short[i]), 1e-6);
    for (let i = 0; i < sequences; i++) {
      const p = nested(padded[i]) as number[][][];
      expectClose(p[0].slice(0, 3), nested(short[i]), 1e-6);
      expect(p[0].slice(3).flat()).toEqual(new Array(2 * p[0][0].length).fill(0));
    }
  });

  it("saves Keras's config: mergeMode and both layers; the weights option sets forward then backward", () => {
    const bi = new Bidirectional(new GRU(2, { name: 'g' }), { name: 'bi', mergeMode: 'ave' });
    const config = bi.getConfig();
    expect(config).toMatchObject({
      name: 'bi', mergeMode: 'ave',
      layer: { className: 'GRU', config: { name: 'forward_g', goBackwards: false, units: 2 } },
      backwardLayer: { className: 'GRU', config: { name: 'backward_g', goBackwards: true, units: 2 } },
    });
    bi.apply(kiln.zeros([1, 2, 3]));
    const values = bi.getWeights().map((w, i) => kiln.fill([...w.shape], i + 1));
    const given = new Bidirectional(new GRU(2), { weights: values });
    given.apply(kiln.zeros([1, 2, 3]));
    expect(given.getWeights().map((w) => w.dataSync()[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(given.forwardLayer.getWeights()[0].dataSync()[0]).toBe(1);
    // a backward layer without a bias takes two arrays after the forward layer's three
    const uneven = new Bidirectional(new GRU(2), { backwardLayer: new GRU(2, { goBackwards: true, useBias: false }), weights: values.slice(0, 5) });
    uneven.apply(kiln.zeros([1, 2, 3]));
    expect(uneven.backwardLayer.getWeights().map((w) => w.dataSync()[0])).toEqual([4, 5]);
  });

  it('saves and loads a model, with the same predictions on masked inputs', async () => {
    const model = new kiln.Sequential([
      Input({ shape: [5], dtype: 'int32' }),
      new Embedding(7, 3, { maskZero: true }),
      new Bidirectional(new LSTM(4, { returnSequences: true }), { mergeMode: 'sum' }),
      new Bidirectional(new GRU(2), { backwardLayer: new GRU(2, { goBackwards: true, activation: 'relu' }) }),
      new Dense(1),
    ]);
    const path = join(dir, 'bi.kiln');
    await saveModel(model, path);
    const loaded = await kiln.loadModel(path);
    expect(loaded.layers.map((l) => l.className)).toEqual(['Embedding', 'Bidirectional', 'Bidirectional', 'Dense']);
    expect(((loaded.layers[2] as Bidirectional).backwardLayer as RNN).getConfig().activation).toBe('relu');
    const x = kiln.tensor([[1, 2, 3, 0, 0], [6, 5, 4, 3, 2], [2, 0, 0, 0, 0]], [3, 5], 'int32');
    expect(nested(loaded.predictOnBatch(x) as kiln.Tensor)).toEqual(nested(model.predictOnBatch(x) as kiln.Tensor));
  });

  it('trains: fit lowers the loss of a task that needs both directions (first plus last token)', async () => {
    const model = new kiln.Sequential([Input({ shape: [4, 1] }), new Bidirectional(new LSTM(4)), new Dense(1)]);
    model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.05 }), loss: 'mse' });
    const x = kiln.random.uniform([32, 4, 1], { seed: 2 });
    const y = kiln.ops.reshape(kiln.ops.add(kiln.ops.slice(x, [0, 0, 0], [32, 1, 1]), kiln.ops.slice(x, [0, 3, 0], [32, 1, 1])), [32, 1]);
    const history = await model.fit(x, y, { epochs: 40, batchSize: 32, verbose: 0 });
    const loss = history.history.loss as number[];
    expect(loss.at(-1)!).toBeLessThan(loss[0] / 10);
  });
});

describe('bad input: errors name the layer, the option and what it got', () => {
  it('refuses a layer that is not recurrent, and what is not a layer', () => {
    expect(() => new Bidirectional(new Dense(3, { name: 'd' }), { name: 'bi' }))
      .toThrow("Bidirectional 'bi': the layer to wrap must be a recurrent layer (RNN, LSTM, GRU, SimpleRNN, or a layer with boolean goBackwards, returnSequences, returnState, stateful), got Dense 'd', which has no goBackwards, returnSequences, returnState, stateful");
    expect(() => new Bidirectional({ returnSequences: true } as never, { name: 'bi' })).toThrow("Bidirectional 'bi': the layer to wrap must be a kiln Layer, got an object (Object)");
    expect(() => new Bidirectional(new LSTM(2), { backwardLayer: 'lstm' as never, name: 'bi' })).toThrow("Bidirectional 'bi': backwardLayer must be a kiln Layer, got string");
  });

  it('refuses a backward layer that does not mirror the forward one', () => {
    expect(() => new Bidirectional(new LSTM(2, { name: 'f' }), { name: 'bi', backwardLayer: new LSTM(2, { name: 'b' }) }))
      .toThrow("Bidirectional 'bi': the forward and backward layers must have opposite goBackwards, got false for LSTM 'forward_f' and false for LSTM 'b'");
    expect(() => new Bidirectional(new LSTM(2, { name: 'f' }), { name: 'bi', backwardLayer: new LSTM(2, { name: 'b', goBackwards: true, returnSequences: true }) }))
      .toThrow("Bidirectional 'bi': the forward and backward layers must have the same returnSequences, got false for LSTM 'forward_f' and true for LSTM 'b'");
    expect(() => new Bidirectional(new GRU(2, { returnState: true }), { backwardLayer: new GRU(2, { goBackwards: true }) })).toThrow('must have the same returnState');
    expect(() => new Bidirectional(new GRU(2, { stateful: true, batchSize: 1, inputShape: [3, 1] }), { backwardLayer: new GRU(2, { goBackwards: true }) })).toThrow('must have the same stateful');
    // as Keras: the copy reads backwards too, so a layer that already does needs a backward layer of its own
    expect(() => new Bidirectional(new LSTM(2, { goBackwards: true }))).toThrow('must have opposite goBackwards, got true');
  });

  it('refuses an unknown mergeMode, an odd number of initial states, weights of the wrong count', () => {
    expect(() => new Bidirectional(new LSTM(2), { mergeMode: 'max' as never, name: 'bi' })).toThrow(`Bidirectional 'bi': mergeMode must be 'sum', 'mul', 'ave', 'concat' or null, got "max"`);
    const bi = new Bidirectional(new LSTM(2), { name: 'bi' });
    expect(() => bi.apply(kiln.zeros([1, 3, 2]), { initialState: [kiln.zeros([1, 2])] }))
      .toThrow("Bidirectional 'bi': initialState must list the forward layer's states then the backward layer's (an even count), got 1 tensors");
    expect(() => bi.apply(kiln.zeros([1, 3, 2]), { initialState: [kiln.zeros([1, 2]), kiln.zeros([1, 2])] })).toThrow(/LSTM 'forward_lstm.*'/);
    expect(() => new Bidirectional(new LSTM(2), { name: 'w', weights: [kiln.zeros([2, 8])] }).apply(kiln.zeros([1, 3, 2])))
      .toThrow("Bidirectional 'w': weights must hold the forward layer's 3 arrays then the backward layer's 3, got 1");
    expect(() => new Bidirectional(new LSTM(2), { name: 'bi' }).resetStates()).toThrow("Bidirectional 'bi'.resetStates: the layer is not stateful");
  });

  it('refuses inputs that are not sequences, and masks that do not fit them: the wrapped layer says why', () => {
    expect(() => new Bidirectional(new LSTM(2)).apply(kiln.zeros([2, 3]))).toThrow(/LSTM 'forward_lstm.*': expects sequences \[batch, time, features\]/);
    expect(() => new Bidirectional(new LSTM(2)).apply(kiln.zeros([2, 3, 1]), { mask: kiln.ones([2, 4], 'bool') })).toThrow(/the mask must be \[batch, time\]/);
  });

  it('refuses a config without its layer', () => {
    const config = new Bidirectional(new LSTM(2), { name: 'bi' }).getConfig();
    expect(() => Bidirectional.fromConfig({ ...config, layer: null })).toThrow('Bidirectional.fromConfig: config.layer must be a saved layer {className, config}, got null');
  });
});
