/**
 * Masks in the recurrent layers, against the direct loops of recurrent-oracle.ts: a masked step
 * keeps the states and repeats the previous output (or outputs zeros), on the fast path of the
 * fixed layers and on the step loop of RNN(cell), going forwards and backwards; the output mask;
 * zero-length sequences; Embedding(maskZero) → LSTM in Sequential and Functional models that train.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { Dense, Embedding, GRU, GRUCell, Input, LSTM, LSTMCell, RNN, SimpleRNN, maskOf } from '../../layers/index.js';
import { expectClose, gruStep, lstmStep, nested, runRef, simpleStep, type Mat } from './recurrent-oracle.js';

const AVAILABLE = kiln.listBackends().filter((b) => b.available).map((b) => b.name);
const B = 3;
const T = 5;
/** A right-padded row, a row with holes (first step masked too), a row of nothing. */
const MASK = [[true, true, true, false, false], [false, true, false, true, true], [false, false, false, false, false]];

function randomized(layer: kiln.layers.Layer, x: kiln.Tensor): Mat[] {
  layer.apply(x);
  layer.setWeights(layer.getWeights().map((w, i) => kiln.random.normal([...w.shape], { dtype: w.dtype, seed: 30 + i, stddev: 0.6 })));
  return layer.getWeights().map((w) => nested(w));
}

const zerosState = (n: number): Mat => Array.from({ length: B }, () => new Array<number>(n).fill(0));

describe.each(AVAILABLE)('masked steps on %s', (backend) => {
  beforeAll(() => kiln.setBackend(backend));
  afterAll(() => kiln.setBackend('reference'));

  const variants = [
    { goBackwards: false, zeroOutputForMask: false },
    { goBackwards: true, zeroOutputForMask: false },
    { goBackwards: false, zeroOutputForMask: true },
    { goBackwards: true, zeroOutputForMask: true },
  ];
  for (const v of variants) {
    const tag = `${v.goBackwards ? 'backwards' : 'forwards'}${v.zeroOutputForMask ? ', zero output' : ''}`;
    const mask = () => kiln.tensor(MASK.flat(), [B, T], 'bool');

    it(`LSTM (fast path) and RNN(LSTMCell) (step loop), ${tag}`, () => {
      const x = kiln.random.normal([B, T, 2], { dtype: 'float64', seed: 2 });
      for (const layer of [new LSTM(3, { ...v, returnSequences: true, returnState: true, dtype: 'float64' }), new RNN(new LSTMCell(3, { dtype: 'float64' }), { ...v, returnSequences: true, returnState: true, dtype: 'float64' })]) {
        const [k, r, b] = randomized(layer, x);
        const [seq, h, c] = layer.apply(x, { mask: mask() }) as unknown as kiln.Tensor[];
        const want = runRef(lstmStep(k, r, b as unknown as number[]), nested(x), [zerosState(3), zerosState(3)], 3, { ...v, mask: MASK });
        expectClose(nested(seq), want.outputs, 1e-9, `${layer.className} outputs`);
        expectClose(nested(h), want.states[0], 1e-9, 'h');
        expectClose(nested(c), want.states[1], 1e-9, 'c');
      }
    });

    it(`GRU, both reset conventions, and SimpleRNN, last output only, ${tag}`, () => {
      const x = kiln.random.normal([B, T, 2], { dtype: 'float64', seed: 4 });
      for (const resetAfter of [true, false]) {
        const gru = new GRU(2, { ...v, resetAfter, dtype: 'float64' });
        const [k, r, b] = randomized(gru, x);
        const want = runRef(gruStep(k, r, resetAfter ? b : [b as unknown as number[]], resetAfter), nested(x), [zerosState(2)], 2, { ...v, mask: MASK });
        expectClose(nested(gru.apply(x, { mask: mask() }) as kiln.Tensor), want.last, 1e-9, `GRU resetAfter=${resetAfter}`);
      }
      const rnn = new SimpleRNN(4, { ...v, dtype: 'float64' });
      const [k, r, b] = randomized(rnn, x);
      const want = runRef(simpleStep(k, r, b as unknown as number[]), nested(x), [zerosState(4)], 4, { ...v, mask: MASK });
      expectClose(nested(rnn.apply(x, { mask: mask() }) as kiln.Tensor), want.last, 1e-9, 'SimpleRNN');
    });
  }

  it('a masked step repeats the previous output exactly, and an all-masked row stays at its initial state', () => {
    const gru = new GRU(3, { returnSequences: true, returnState: true });
    const x = kiln.random.normal([B, T, 2], { seed: 5 });
    const h0 = kiln.random.normal([B, 3], { seed: 6 });
    const [seq, h] = gru.apply(x, { mask: kiln.tensor(MASK.flat(), [B, T], 'bool'), initialState: [h0] }) as unknown as kiln.Tensor[];
    const out = nested(seq) as number[][][];
    expect(out[0][3]).toEqual(out[0][2]);
    expect(out[0][4]).toEqual(out[0][2]);
    expect(out[1][0]).toEqual([0, 0, 0]);
    expect(out[1][2]).toEqual(out[1][1]);
    expect(out[2]).toEqual(new Array(T).fill([0, 0, 0]));
    expect(nested(h)[2]).toEqual(nested(h0)[2]);
  });

  it('a mask of all true gives the unmasked result; a numeric mask counts non-zero as kept', () => {
    const lstm = new LSTM(3, { returnSequences: true });
    const x = kiln.random.normal([2, 4, 3], { seed: 8 });
    const plain = nested(lstm.apply(x) as kiln.Tensor);
    expect(nested(lstm.apply(x, { mask: kiln.ones([2, 4], 'bool') }) as kiln.Tensor)).toEqual(plain);
    const numeric = nested(lstm.apply(x, { mask: kiln.tensor([1, 1, 0, 2, 0, 1, 1, 1], [2, 4]) }) as kiln.Tensor);
    const bool = nested(lstm.apply(x, { mask: kiln.tensor([1, 1, 0, 1, 0, 1, 1, 1].map(Boolean), [2, 4], 'bool') }) as kiln.Tensor);
    expect(numeric).toEqual(bool);
  });
});

describe('masks through layers and models', () => {
  beforeAll(() => kiln.setBackend('reference'));

  it('passes the mask on only with returnSequences, and never to the states', () => {
    const emb = new Embedding(10, 4, { maskZero: true });
    const ids = kiln.tensor([[3, 1, 0], [0, 2, 5]], [2, 3], 'int32');
    const e = emb.apply(ids);
    expect(maskOf(new LSTM(2, { returnSequences: true }).apply(e))).not.toBeNull();
    expect(nested(maskOf(new GRU(2, { returnSequences: true }).apply(e))!)).toEqual([[1, 1, 0], [0, 1, 1]]);
    expect(maskOf(new LSTM(2).apply(e))).toBeNull();
    const outs = new LSTM(2, { returnSequences: true, returnState: true }).apply(e) as unknown as kiln.Tensor[];
    expect(outs.map((o) => maskOf(o) !== null)).toEqual([true, false, false]);
    // the symbolic call agrees
    const sym = new LSTM(2, { returnSequences: true }).apply(new Embedding(10, 4, { maskZero: true }).apply(Input({ shape: [null], dtype: 'int32' })));
    expect(maskOf(sym)).not.toBeNull();
  });

  it('zero-length sequences: empty outputs, zero last output, the initial states', () => {
    for (const layer of [new LSTM(3, { returnSequences: true, returnState: true }), new RNN(new GRUCell(3), { returnSequences: true, returnState: true })]) {
      const h0 = kiln.random.normal([2, 3], { seed: 1 });
      const init = layer.className === 'LSTM' ? [h0, h0] : [h0];
      const [seq, ...states] = layer.apply(kiln.zeros([2, 0, 4]), { initialState: init }) as unknown as kiln.Tensor[];
      expect([...seq.shape]).toEqual([2, 0, 3]);
      states.forEach((s) => expect(nested(s)).toEqual(nested(h0)));
      const last = new LSTM(3).apply(kiln.zeros([2, 0, 4])) as kiln.Tensor;
      expect(nested(last)).toEqual([[0, 0, 0], [0, 0, 0]]);
    }
  });

  it('rejects a mask that does not match the sequence, naming the layer and the shapes', () => {
    const lstm = new LSTM(2, { name: 'enc' });
    const x = kiln.zeros([2, 4, 3]);
    expect(() => lstm.apply(x, { mask: kiln.ones([2, 3], 'bool') })).toThrow(/LSTM 'enc'.*mask must be \[batch, time\] = \[2,4\].*\[2,4,3\].*\[2,3\]/);
    expect(() => lstm.apply(x, { mask: kiln.ones([2, 4, 2], 'bool') })).toThrow(/mask must be \[batch, time\]/);
    expect(() => new RNN(new LSTMCell(2)).apply(x, { mask: kiln.ones([2, 5], 'bool') })).toThrow(/mask must be/);
  });

  const model = (functional: boolean): kiln.Model => {
    if (!functional) {
      return new kiln.Sequential([Input({ shape: [null], dtype: 'int32' }), new Embedding(12, 8, { maskZero: true }), new LSTM(16), new Dense(1)]);
    }
    const ids = Input({ shape: [6], dtype: 'int32' });
    const seq = new LSTM(8, { returnSequences: true }).apply(new Embedding(12, 8, { maskZero: true }).apply(ids));
    return new kiln.Model({ inputs: ids, outputs: new Dense(1).apply(new GRU(8).apply(seq)) });
  };

  for (const functional of [false, true]) {
    it(`Embedding(maskZero) → LSTM in a ${functional ? 'Functional' : 'Sequential'} model: padding does not change predictions, and fit lowers the loss`, async () => {
      kiln.setSeed(3);
      const m = model(functional);
      // the target is the sum of the ids (scaled); padding (0) at the end of each row
      const rows = [[3, 1, 4, 0, 0, 0], [5, 9, 2, 6, 0, 0], [2, 7, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0], [8, 0, 0, 0, 0, 0], [4, 4, 2, 0, 0, 0]];
      const x = kiln.tensor(rows.flat(), [6, 6], 'int32');
      const y = kiln.tensor(rows.map((r) => r.reduce((a, b) => a + b, 0) / 20), [6, 1]);
      // a different padding length leaves the prediction alone: masked steps keep the state
      const short = kiln.tensor([3, 1, 4, 0], [1, 4], 'int32');
      if (!functional) expectClose(nested(m.predictOnBatch(short) as kiln.Tensor), [nested(m.predictOnBatch(x) as kiln.Tensor)[0]], 1e-6, 'padding');
      m.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.02 }), loss: 'mse' });
      const history = await m.fit(x, y, { epochs: 15, batchSize: 6, verbose: 0 });
      const loss = history.history.loss as number[];
      expect(loss.at(-1)!).toBeLessThan(loss[0] * 0.5);
    });
  }
});
