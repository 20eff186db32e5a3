/**
 * The recurrent family in ONNX: SimpleRNN, LSTM and GRU (and RNNs of their cells) as ONNX's RNN,
 * LSTM and GRU ops, each exported once and run in onnxruntime-node at batch 1, 7 and 256 with a
 * different sequence length each time, with every option the export maps: returnSequences,
 * returnState, goBackwards, activations, biases, GRU's resetAfter, initial states, right-padded
 * masks from Embedding and Masking, dropout (off at inference); RNNs of other cells traced at a
 * fixed length; TimeDistributed with dynamic batch and time; and the exports refused. The ONNX
 * project's conformance cases for the three ops are in recurrent-node-cases.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { toModelProto } from '../../onnx/index.js';
import { expectParity, opTypes, randomizeWeights, reportErrors } from './harness.js';

const L = kiln.layers;
const BATCHES = [1, 7, 256];
/** The sequence length of each batch's run: one file serves them all. */
const STEPS = [4, 9, 1];
const FEATURES = 3;
type Sym = kiln.SymbolicTensor;
const stepsOf = (seed: number) => STEPS[(seed - 100) % STEPS.length];

function sequences(batch: number, seed: number): kiln.Tensor {
  return kiln.random.normal([batch, stepsOf(seed), FEATURES], { seed });
}

/** A model of `layer` on [time, FEATURES] with time dynamic, weights drawn at random. */
function alone(layer: kiln.Layer): kiln.Model {
  kiln.setSeed(5);
  const x = kiln.Input({ shape: [null, FEATURES] });
  const model = new kiln.Model({ inputs: x, outputs: layer.apply(x as never) as unknown as Sym });
  randomizeWeights(model);
  return model;
}

interface Case {
  label: string;
  make: () => kiln.Layer;
  op: string;
}

const cases: Case[] = [
  { label: 'SimpleRNN', make: () => new L.SimpleRNN(5), op: 'RNN' },
  { label: 'SimpleRNN returnSequences', make: () => new L.SimpleRNN(4, { returnSequences: true }), op: 'RNN' },
  { label: 'SimpleRNN goBackwards, returnSequences, returnState', make: () => new L.SimpleRNN(4, { goBackwards: true, returnSequences: true, returnState: true }), op: 'RNN' },
  { label: 'SimpleRNN relu, no bias', make: () => new L.SimpleRNN(3, { activation: 'relu', useBias: false }), op: 'RNN' },
  { label: 'SimpleRNN linear', make: () => new L.SimpleRNN(3, { activation: 'linear', returnSequences: true }), op: 'RNN' },
  { label: 'LSTM', make: () => new L.LSTM(5), op: 'LSTM' },
  { label: 'LSTM returnSequences, returnState', make: () => new L.LSTM(4, { returnSequences: true, returnState: true }), op: 'LSTM' },
  { label: 'LSTM goBackwards', make: () => new L.LSTM(4, { goBackwards: true, returnState: true }), op: 'LSTM' },
  { label: 'LSTM goBackwards, returnSequences', make: () => new L.LSTM(4, { goBackwards: true, returnSequences: true }), op: 'LSTM' },
  { label: 'LSTM hard_sigmoid gates, relu', make: () => new L.LSTM(4, { recurrentActivation: 'hard_sigmoid', activation: 'relu', returnSequences: true }), op: 'LSTM' },
  { label: 'LSTM softsign, no bias', make: () => new L.LSTM(3, { activation: 'softsign', useBias: false }), op: 'LSTM' },
  { label: 'LSTM with dropout and recurrentDropout (off at inference)', make: () => new L.LSTM(4, { dropout: 0.5, recurrentDropout: 0.3, returnSequences: true }), op: 'LSTM' },
  { label: 'GRU (resetAfter)', make: () => new L.GRU(5, { returnSequences: true, returnState: true }), op: 'GRU' },
  { label: 'GRU resetAfter false', make: () => new L.GRU(5, { resetAfter: false, returnSequences: true }), op: 'GRU' },
  { label: 'GRU goBackwards, hard_sigmoid', make: () => new L.GRU(4, { goBackwards: true, recurrentActivation: 'hard_sigmoid', returnSequences: true, returnState: true }), op: 'GRU' },
  { label: 'GRU no bias', make: () => new L.GRU(3, { useBias: false }), op: 'GRU' },
  { label: 'GRU resetAfter false, no bias', make: () => new L.GRU(3, { useBias: false, resetAfter: false }), op: 'GRU' },
  { label: 'RNN of an LSTMCell', make: () => new L.RNN(new L.LSTMCell(4), { returnSequences: true }), op: 'LSTM' },
  { label: 'RNN of a GRUCell, returnState', make: () => new L.RNN(new L.GRUCell(4, { resetAfter: false }), { returnState: true }), op: 'GRU' },
  { label: 'RNN of a SimpleRNNCell', make: () => new L.RNN(new L.SimpleRNNCell(4)), op: 'RNN' },
];

describe('recurrent layers exported and run in onnxruntime-node at several sequence lengths', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  it.each(cases)('$label', async ({ label, make, op }) => {
    const proto = await expectParity(alone(make()), { label, batches: BATCHES, inputs: (n, seed) => [sequences(n, seed)] });
    expect(opTypes(proto).filter((o) => ['RNN', 'LSTM', 'GRU'].includes(o))).toEqual([op]);
  });

  it.each([
    ['SimpleRNNCell', () => new L.SimpleRNNCell(4, { activation: 'relu' })],
    ['LSTMCell', () => new L.LSTMCell(4)],
    ['GRUCell', () => new L.GRUCell(4, { resetAfter: false })],
  ] as const)('%s applied alone: one step from zero states', async (name, make) => {
    kiln.setSeed(5);
    const x = kiln.Input({ shape: [FEATURES] });
    const model = new kiln.Model({ inputs: x, outputs: make().apply(x) as unknown as Sym });
    randomizeWeights(model);
    await expectParity(model, { label: `${name} alone`, batches: BATCHES });
  });

  it('starts from initial states given as inputs (LSTM h and c, GRU h)', async () => {
    kiln.setSeed(5);
    const x = kiln.Input({ shape: [null, FEATURES] });
    const h = kiln.Input({ shape: [4] });
    const c = kiln.Input({ shape: [4] });
    const lstm = new L.LSTM(4, { returnSequences: true, returnState: true }).apply(x, { initialState: [h, c] as never }) as unknown as Sym[];
    const gru = new L.GRU(4, { goBackwards: true }).apply(x, { initialState: h as never }) as unknown as Sym;
    const model = new kiln.Model({ inputs: [x, h, c], outputs: [...lstm, gru] });
    randomizeWeights(model);
    const inputs = (n: number, seed: number) => [sequences(n, seed), kiln.random.normal([n, 4], { seed: seed + 1 }), kiln.random.normal([n, 4], { seed: seed + 2 })];
    const proto = await expectParity(model, { label: 'LSTM and GRU from initial states', batches: BATCHES, inputs });
    expect(opTypes(proto)).toContain('LSTM');
  });
});

const bidirectional: { label: string; make: () => kiln.Layer; ops: string[] }[] = [
  { label: 'Bidirectional(LSTM), concat', make: () => new L.Bidirectional(new L.LSTM(4)), ops: ['LSTM'] },
  { label: 'Bidirectional(GRU) returnSequences, sum', make: () => new L.Bidirectional(new L.GRU(3, { returnSequences: true }), { mergeMode: 'sum' }), ops: ['GRU'] },
  { label: 'Bidirectional(SimpleRNN) returnSequences, mul', make: () => new L.Bidirectional(new L.SimpleRNN(3, { returnSequences: true }), { mergeMode: 'mul' }), ops: ['RNN'] },
  { label: 'Bidirectional(LSTM) returnSequences, ave, returnState', make: () => new L.Bidirectional(new L.LSTM(3, { returnSequences: true, returnState: true }), { mergeMode: 'ave' }), ops: ['LSTM'] },
  { label: 'Bidirectional(GRU resetAfter false), mergeMode null, returnState', make: () => new L.Bidirectional(new L.GRU(3, { resetAfter: false, returnState: true }), { mergeMode: null }), ops: ['GRU'] },
  {
    label: 'Bidirectional with a backward layer of another size: two ops',
    make: () => new L.Bidirectional(new L.LSTM(3, { returnSequences: true }), { backwardLayer: new L.LSTM(2, { returnSequences: true, goBackwards: true }) }),
    ops: ['LSTM', 'LSTM'],
  },
  {
    label: 'Bidirectional with a backward GRU of other activations: two ops',
    make: () => new L.Bidirectional(new L.GRU(3, { returnSequences: true, returnState: true }), { backwardLayer: new L.GRU(3, { returnSequences: true, returnState: true, goBackwards: true, activation: 'relu' }) }),
    ops: ['GRU', 'GRU'],
  },
];

describe('Bidirectional as one op with direction bidirectional, or two', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  it.each(bidirectional)('$label', async ({ label, make, ops }) => {
    const proto = await expectParity(alone(make()), { label, batches: BATCHES, inputs: (n, seed) => [sequences(n, seed)] });
    expect(opTypes(proto).filter((o) => ['RNN', 'LSTM', 'GRU'].includes(o))).toEqual(ops);
  });

  it('Bidirectional(LSTM) from initial states, forward then backward', async () => {
    kiln.setSeed(5);
    const x = kiln.Input({ shape: [null, FEATURES] });
    const states = Array.from({ length: 4 }, () => kiln.Input({ shape: [3] }));
    const out = new L.Bidirectional(new L.LSTM(3, { returnSequences: true })).apply(x, { initialState: states as never }) as unknown as Sym;
    const model = new kiln.Model({ inputs: [x, ...states], outputs: out });
    randomizeWeights(model);
    const inputs = (n: number, seed: number) => [sequences(n, seed), ...states.map((_, i) => kiln.random.normal([n, 3], { seed: seed + 1 + i }))];
    await expectParity(model, { label: 'Bidirectional(LSTM) from initial states', batches: BATCHES, inputs });
  });

  it.each([
    ['concat, last outputs', () => new L.Bidirectional(new L.GRU(3))],
    ['returnSequences, sum', () => new L.Bidirectional(new L.LSTM(3, { returnSequences: true }), { mergeMode: 'sum' })],
    ['returnSequences, returnState, concat', () => new L.Bidirectional(new L.LSTM(3, { returnSequences: true, returnState: true }))],
    ['returnSequences, returnState, mergeMode null', () => new L.Bidirectional(new L.GRU(3, { returnSequences: true, returnState: true }), { mergeMode: null })],
  ] as const)('Embedding(maskZero) into Bidirectional, %s', async (label, make) => {
    await expectParity(embedded(make()), { label: `masked Bidirectional, ${label}`, batches: BATCHES, inputs: (n, seed) => [padded(n, seed)] });
  });
});

/** Token ids 1..8, each sample's tail padded with 0 (right padding), one sample all padding and one none. */
function padded(batch: number, seed: number): kiln.Tensor {
  const steps = stepsOf(seed) + 2;
  const ids = kiln.random.randint([batch, steps], 1, 9, { seed }).arraySync() as number[][];
  const lengths = kiln.random.randint([batch], 0, steps + 1, { seed: seed + 1 }).arraySync() as number[];
  lengths[0] = batch > 1 ? 0 : steps;
  if (batch > 2) lengths[1] = steps;
  return kiln.tensor(ids.map((row, i) => row.map((v, t) => (t < lengths[i] ? v : 0))), [batch, steps], 'int32');
}

/** Embedding({ maskZero }) then `layer`: the mask reaches the layer as sequence_lens. */
function embedded(layer: kiln.Layer): kiln.Model {
  kiln.setSeed(6);
  const x = kiln.Input({ shape: [null], dtype: 'int32' });
  const e = new L.Embedding(9, FEATURES, { maskZero: true }).apply(x) as unknown as Sym;
  const model = new kiln.Model({ inputs: x, outputs: layer.apply(e as never) as unknown as Sym });
  randomizeWeights(model);
  return model;
}

const masked: { label: string; make: () => kiln.Layer }[] = [
  { label: 'LSTM, last output', make: () => new L.LSTM(4) },
  { label: 'LSTM returnSequences (padded steps repeat the last output)', make: () => new L.LSTM(4, { returnSequences: true, returnState: true }) },
  { label: 'LSTM returnSequences, zeroOutputForMask', make: () => new L.LSTM(4, { returnSequences: true, zeroOutputForMask: true }) },
  { label: 'GRU goBackwards, returnSequences', make: () => new L.GRU(4, { goBackwards: true, returnSequences: true, returnState: true }) },
  { label: 'GRU resetAfter false', make: () => new L.GRU(4, { resetAfter: false, returnSequences: true }) },
  { label: 'SimpleRNN returnState', make: () => new L.SimpleRNN(4, { returnState: true }) },
  { label: 'SimpleRNN goBackwards, zeroOutputForMask', make: () => new L.SimpleRNN(4, { goBackwards: true, returnSequences: true, zeroOutputForMask: true }) },
];

describe('right-padded masks as sequence_lens', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  it.each(masked)('Embedding(maskZero) into $label', async ({ label, make }) => {
    const proto = await expectParity(embedded(make()), { label: `masked ${label}`, batches: BATCHES, inputs: (n, seed) => [padded(n, seed)] });
    expect(opTypes(proto)).toContain('ReduceSum');
  });

  it.each([13, 26])('a masked Bidirectional(LSTM) and a GRU at opset %i', async (opset) => {
    kiln.setSeed(6);
    const x = kiln.Input({ shape: [null], dtype: 'int32' });
    const e = new L.Embedding(9, FEATURES, { maskZero: true }).apply(x) as unknown as Sym;
    const bi = new L.Bidirectional(new L.LSTM(3, { returnSequences: true })).apply(e) as unknown as Sym;
    const model = new kiln.Model({ inputs: x, outputs: new L.GRU(2).apply(bi) as unknown as Sym });
    randomizeWeights(model);
    await expectParity(model, { label: `masked Bidirectional(LSTM), GRU, opset ${opset}`, opset, batches: BATCHES, inputs: (n, seed) => [padded(n, seed)] });
  });

  it('a masked LSTM from initial states: an all-padding sample keeps them', async () => {
    kiln.setSeed(6);
    const x = kiln.Input({ shape: [null], dtype: 'int32' });
    const states = [kiln.Input({ shape: [3] }), kiln.Input({ shape: [3] })];
    const e = new L.Embedding(9, FEATURES, { maskZero: true }).apply(x) as unknown as Sym;
    const out = new L.LSTM(3, { returnState: true }).apply(e, { initialState: states as never }) as unknown as Sym[];
    const model = new kiln.Model({ inputs: [x, ...states], outputs: out });
    randomizeWeights(model);
    const inputs = (n: number, seed: number) => [padded(n, seed), ...states.map((_, i) => kiln.random.normal([n, 3], { seed: seed + 2 + i }))];
    await expectParity(model, { label: 'masked LSTM from initial states', batches: BATCHES, inputs });
  });

  it('Masking into an LSTM', async () => {
    kiln.setSeed(6);
    const x = kiln.Input({ shape: [null, FEATURES] });
    const m = new L.Masking().apply(x) as unknown as Sym;
    const model = new kiln.Model({ inputs: x, outputs: new L.LSTM(4, { returnSequences: true }).apply(m) as unknown as Sym });
    randomizeWeights(model);
    const inputs = (n: number, seed: number) => [kiln.tidy(() => {
      const ids = padded(n, seed);
      return kiln.ops.multiply(kiln.random.normal([...ids.shape, FEATURES], { seed }), kiln.ops.expandDims(kiln.ops.cast(kiln.ops.notEqual(ids, 0), 'float32'), 2));
    })];
    await expectParity(model, { label: 'Masking into LSTM', batches: BATCHES, inputs });
  });
});

/** A cell of the user's own: h = tanh(x·k + h₋₁), for the traced RNN. */
class PlainCell extends L.Layer {
  static readonly className = 'PlainCell';
  readonly stateSize = 3;
  kernel: kiln.Variable | null = null;
  override build(shape: (number | null)[]): void {
    this.kernel = this.addWeight('kernel', [shape[1] as number, 3]);
  }
  override call(...args: unknown[]): never {
    const [input, states] = args as [kiln.Tensor, kiln.Tensor[]];
    const h = kiln.ops.tanh(kiln.ops.add(kiln.ops.matmul(input, this.kernel!.value), states[0]));
    return [h, [h]] as never;
  }
}

describe('RNNs ONNX has no op for, TimeDistributed, and the exports refused', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  it.each([
    ['a cell of the user\'s own, returnSequences', () => new L.RNN(new PlainCell() as never, { returnSequences: true })],
    ['a cell of the user\'s own, goBackwards, returnState', () => new L.RNN(new PlainCell() as never, { goBackwards: true, returnState: true })],
    ['stacked cells', () => new L.RNN([new L.SimpleRNNCell(3), new L.GRUCell(2)])],
  ] as const)('traces an RNN of %s, step by step at a fixed sequence length', async (label, make) => {
    kiln.setSeed(5);
    const x = kiln.Input({ shape: [5, FEATURES] });
    const model = new kiln.Model({ inputs: x, outputs: make().apply(x) as unknown as Sym });
    randomizeWeights(model);
    await expectParity(model, { label: `RNN of ${label} (traced)`, batches: BATCHES });
  });

  it('traces an RNN of a cell of the user\'s own from initial states', async () => {
    kiln.setSeed(5);
    const x = kiln.Input({ shape: [4, FEATURES] });
    const h = kiln.Input({ shape: [3] });
    const model = new kiln.Model({ inputs: [x, h], outputs: new L.RNN(new PlainCell() as never).apply(x, { initialState: h as never }) as unknown as Sym });
    randomizeWeights(model);
    await expectParity(model, { label: 'RNN of a custom cell from initial states (traced)', batches: BATCHES });
  });

  it('refuses a traced RNN with a dynamic sequence length, naming the layer and the fix', async () => {
    const model = alone(new L.RNN([new L.SimpleRNNCell(3), new L.GRUCell(2)], { name: 'stack' }));
    await expect(toModelProto(model)).rejects.toThrow(/layer 'stack' \(RNN\) runs the cell StackedRNNCells.*fixed, positive sequence length.*kiln\.Input/);
  });

  it('refuses a float64 LSTM, which onnxruntime cannot run', async () => {
    const x = kiln.Input({ shape: [null, FEATURES], dtype: 'float64' });
    const model = new kiln.Model({ inputs: x, outputs: new L.LSTM(3, { dtype: 'float64', name: 'wide' }).apply(x) as unknown as Sym });
    await expect(toModelProto(model)).rejects.toThrow(/layer 'wide' \(LSTM\) computes in float64, and onnxruntime runs ONNX's LSTM op in float32 only/);
  });

  it('refuses a stateful layer', async () => {
    kiln.setSeed(5);
    const x = kiln.Input({ shape: [null, FEATURES], batchSize: 2 });
    const model = new kiln.Model({ inputs: x, outputs: new L.LSTM(3, { stateful: true, name: 'carry' }).apply(x) as unknown as Sym });
    await expect(toModelProto(model)).rejects.toThrow(/layer 'carry' \(LSTM\) is stateful.*stateful: false/);
  });

  it('refuses an activation the recurrent ops do not take, listing the ones they do', async () => {
    await expect(toModelProto(alone(new L.GRU(3, { activation: 'gelu', name: 'g' })))).rejects.toThrow(/layer 'g' \(GRU\): activation 'gelu', which ONNX's recurrent ops do not take; they take tanh, sigmoid, relu, hard_sigmoid/);
  });

  it('TimeDistributed(Dense) with dynamic batch and time', async () => {
    kiln.setSeed(5);
    const x = kiln.Input({ shape: [null, 2, FEATURES] });
    const model = new kiln.Model({ inputs: x, outputs: new L.TimeDistributed(new L.Dense(4, { activation: 'relu' })).apply(x) as unknown as Sym });
    randomizeWeights(model);
    const inputs = (n: number, seed: number) => [kiln.random.normal([n, stepsOf(seed), 2, FEATURES], { seed })];
    const proto = await expectParity(model, { label: 'TimeDistributed(Dense)', batches: BATCHES, inputs });
    expect(opTypes(proto)).toContain('Reshape');
  });

  it('TimeDistributed(LSTM) over [batch, time, steps, features], all three dynamic', async () => {
    kiln.setSeed(5);
    const x = kiln.Input({ shape: [null, null, FEATURES] });
    const model = new kiln.Model({ inputs: x, outputs: new L.TimeDistributed(new L.LSTM(2, { returnSequences: true })).apply(x) as unknown as Sym });
    randomizeWeights(model);
    const inputs = (n: number, seed: number) => [kiln.random.normal([n, stepsOf(seed), 5 - stepsOf(seed) % 3, FEATURES], { seed })];
    const proto = await expectParity(model, { label: 'TimeDistributed(LSTM)', batches: BATCHES, inputs });
    expect(opTypes(proto)).toContain('LSTM');
  });

  it('TimeDistributed(Conv1D) over [batch, time, steps, features]', async () => {
    kiln.setSeed(5);
    const x = kiln.Input({ shape: [null, 4, FEATURES] });
    const model = new kiln.Model({ inputs: x, outputs: new L.TimeDistributed(new L.Conv1D(2, 2)).apply(x) as unknown as Sym });
    randomizeWeights(model);
    const inputs = (n: number, seed: number) => [kiln.random.normal([n, stepsOf(seed), 4, FEATURES], { seed })];
    const proto = await expectParity(model, { label: 'TimeDistributed(Conv1D)', batches: BATCHES, inputs });
    expect(opTypes(proto)).toContain('Conv');
  });
});
