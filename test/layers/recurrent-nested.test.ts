/**
 * Recurrent layers inside a nested model applied to symbolic inputs: the nested model runs its
 * graph on symbolic tensors, so the layer must give shapes without its loop over time. Values
 * are checked against the inner model's own eager call.
 */
import { expect, it } from 'vitest';
import * as kiln from '../../index.js';

it('a Sequential holding an LSTM, applied to an Input of unknown time, predicts what it predicts alone', async () => {
  kiln.setSeed(3);
  const inner = new kiln.Sequential([kiln.Input({ shape: [4, 3] }), new kiln.layers.LSTM(5)]);
  const x = kiln.Input({ shape: [null, 3] });
  const y = inner.apply(x) as unknown as kiln.SymbolicTensor;
  expect([...y.shape]).toEqual([null, 5]);
  const outer = new kiln.Model({ inputs: x, outputs: y });
  const data = kiln.random.normal([2, 6, 3], { seed: 4 });
  const nested = (await outer.predict(data)) as kiln.Tensor;
  expect(Array.from(nested.dataSync())).toEqual(Array.from((inner.apply(data) as kiln.Tensor).dataSync()));
});

it('a Sequential holding a Bidirectional GRU with returnState gives every output its shape when nested', () => {
  const inner = new kiln.Sequential([kiln.Input({ shape: [4, 3] }), new kiln.layers.Bidirectional(new kiln.layers.GRU(2, { returnSequences: true }))]);
  const z = inner.apply(kiln.Input({ shape: [4, 3] })) as unknown as kiln.SymbolicTensor;
  expect([...z.shape]).toEqual([null, 4, 4]);
  const states = new kiln.layers.LSTM(2, { returnState: true });
  const model = new kiln.Sequential([kiln.Input({ shape: [4, 3] }), new kiln.layers.SimpleRNN(3, { returnSequences: true })]);
  const outs = states.apply(model.apply(kiln.Input({ shape: [4, 3] })) as unknown as kiln.SymbolicTensor) as unknown as kiln.SymbolicTensor[];
  expect(outs.map((t) => [...t.shape])).toEqual([[null, 2], [null, 2], [null, 2]]);
});
