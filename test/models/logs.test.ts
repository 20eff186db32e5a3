/**
 * The names and values of the training logs, as Keras 3 writes them (keras/src/trainers/
 * compile_utils.py): `loss`; `<output>_loss` for each output with a loss, only when more than
 * one output has one; `<output>_<metric>` on multi-output models; a weighted metric that shares
 * an unweighted one's name as `weighted_<name>`; repeats as `<name>_1`; `val_` before each on
 * validation. Every value is worked out by hand from weights set in the test, with a learning
 * rate of 0 so that fit's logs are those of the set weights.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const { Dense } = kiln.layers;
const { SGD } = kiln.optimizers;
type Sym = kiln.SymbolicTensor;

function sym(layer: kiln.Layer, input: Sym): Sym {
  return layer.apply(input as never) as unknown as Sym;
}

/**
 * One input feature and one Dense(1) head per (kernel, bias): head `o<k>` predicts kernel·x + bias.
 * On x = [[1], [2]]: o1 (1, 0) predicts [1, 2], o2 (2, 0) predicts [2, 4], o3 (-1, 1) predicts [0, -1].
 */
function heads(count: 1 | 2 | 3): kiln.Model {
  const params: [number, number][] = [[1, 0], [2, 0], [-1, 1]];
  const x = kiln.Input({ shape: [1], name: 'x' });
  const layers = params.slice(0, count).map((_, k) => new Dense(1, { name: `o${k + 1}` }));
  const outputs = layers.map((l) => sym(l, x));
  const model = new kiln.Model({ inputs: x, outputs: count === 1 ? outputs[0] : outputs, name: `heads${count}` });
  layers.forEach((l, k) => l.setWeights([[[params[k][0]]], [params[k][1]]]));
  return model;
}

const x = () => kiln.tensor([[1], [2]]);
const zeros = () => kiln.zeros([2, 1]);

function expectLogs(got: Record<string, number | number[]>, want: Record<string, number>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [k, v] of Object.entries(want)) {
    const g = got[k];
    expect(Array.isArray(g) ? g[0] : g, k).toBeCloseTo(v, 5);
  }
}

describe('training logs: per-output losses', () => {
  it('a loss on the second of two outputs logs only `loss` (one loss term), nothing under o1', async () => {
    const model = heads(2);
    // o2 predicts [2, 4] against 0: mse = (4 + 16) / 2 = 10; o1's mae metric: (1 + 2) / 2 = 1.5
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: { o2: 'mse' }, metrics: { o1: ['mae'] } });
    const history = await model.fit(x(), [zeros(), zeros()], { epochs: 1, batchSize: 2, verbose: 0, validationData: [x(), [zeros(), zeros()]] });
    expectLogs(history.history, { loss: 10, o1_mae: 1.5, val_loss: 10, val_o1_mae: 1.5 });
    expectLogs(await model.evaluate(x(), [zeros(), zeros()]), { loss: 10, o1_mae: 1.5 });
  });

  it('losses on o2 and o3 of three outputs log o2_loss and o3_loss, each under its own output', async () => {
    const model = heads(3);
    // o2: mse of [2, 4] = 10; o3: mae of [0, -1] = 0.5; loss = 10 + 0.5
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: { o2: 'mse', o3: 'mae' } });
    const ys = () => [zeros(), zeros(), zeros()];
    const history = await model.fit(x(), ys(), { epochs: 1, batchSize: 2, verbose: 0, validationData: [x(), ys()] });
    expectLogs(history.history, { loss: 10.5, o2_loss: 10, o3_loss: 0.5, val_loss: 10.5, val_o2_loss: 10, val_o3_loss: 0.5 });
  });

  it('pins loss, <output>_loss, <output>_<metric>, <output>_weighted_<metric> and val_ on two outputs', async () => {
    const model = heads(2);
    model.compile({
      optimizer: new SGD({ learningRate: 0 }),
      loss: ['mse', 'mae'],
      lossWeights: [2, 1],
      metrics: { o1: ['mae'], o2: ['mse'] },
      weightedMetrics: { o2: ['mse'] },
    });
    const sw = () => kiln.tensor([1, 3]);
    // o1 predicts [1, 2]: squared errors [1, 4], weighted sum 1 + 12 = 13 over 2 samples: o1_loss 6.5
    // o2 predicts [2, 4]: absolute errors [2, 4], weighted sum 2 + 12 = 14 over 2 samples: o2_loss 7
    // loss = 2 · 6.5 + 1 · 7 = 20 (lossWeights scale the total, not the per-output logs)
    // o1_mae unweighted = (1 + 2) / 2 = 1.5; o2_mse unweighted = (4 + 16) / 2 = 10
    // o2_weighted_mse = (1 · 4 + 3 · 16) / (1 + 3) = 13
    const want = { loss: 20, o1_loss: 6.5, o2_loss: 7, o1_mae: 1.5, o2_mse: 10, o2_weighted_mse: 13 };
    const history = await model.fit(x(), [zeros(), zeros()], {
      epochs: 2, batchSize: 2, verbose: 0, sampleWeight: sw(), validationData: [x(), [zeros(), zeros()], sw()],
    });
    const val = Object.fromEntries(Object.entries(want).map(([k, v]) => [`val_${k}`, v]));
    expectLogs(history.history, { ...want, ...val });
    expect(history.history.o2_weighted_mse).toHaveLength(2);
    expectLogs(await model.evaluate(x(), [zeros(), zeros()], { sampleWeight: sw() }), want);
  });
});

describe('training logs: weighted and repeated metrics', () => {
  // one output o1 predicting [1, 2, 3] against 0, sample weights [1, 0, 2]:
  // absolute errors [1, 2, 3], squared errors [1, 4, 9]
  const x3 = () => kiln.tensor([[1], [2], [3]]);
  const y3 = () => kiln.zeros([3, 1]);
  const sw3 = () => kiln.tensor([1, 0, 2]);

  it('metrics: [mae] with weightedMetrics: [mae] logs mae unweighted and weighted_mae', async () => {
    const model = heads(1);
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse', metrics: ['mae'], weightedMetrics: ['mae'] });
    // loss = (1·1 + 0·4 + 2·9) / 3 = 19/3; mae = (1 + 2 + 3) / 3 = 2; weighted_mae = (1 + 0 + 6) / (1 + 0 + 2) = 7/3
    const want = { loss: 19 / 3, mae: 2, weighted_mae: 7 / 3 };
    const history = await model.fit(x3(), y3(), { epochs: 1, batchSize: 3, verbose: 0, sampleWeight: sw3() });
    expectLogs(history.history, want);
    expectLogs(await model.evaluate(x3(), y3(), { sampleWeight: sw3() }), want);
  });

  it('repeats take _1, _2; a weighted metric alone keeps its plain name', async () => {
    const model = heads(1);
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse', metrics: ['mae', 'mae'], weightedMetrics: ['mae', 'mae', 'mse'] });
    // weighted mse = (1 + 0 + 18) / 3 = 19/3, named plainly: no unweighted 'mse' took the name
    expectLogs(await model.evaluate(x3(), y3(), { sampleWeight: sw3() }), {
      loss: 19 / 3, mae: 2, mae_1: 2, weighted_mae: 7 / 3, weighted_mae_1: 7 / 3, mse: 19 / 3,
    });
  });

  it('leaves the name of a Metric the user passed as they gave it', async () => {
    const model = heads(2);
    const mae = new kiln.metrics.MeanAbsoluteError();
    model.compile({ optimizer: new SGD({ learningRate: 0 }), loss: 'mse', metrics: { o1: [mae] } });
    // o1 predicts [1, 2] against 0: mae = 1.5; mse o1 = 2.5, o2 = 10
    expectLogs(await model.evaluate(x(), [zeros(), zeros()]), { loss: 12.5, o1_loss: 2.5, o2_loss: 10, o1_mean_absolute_error: 1.5 });
    expect(mae.name).toBe('mean_absolute_error');
  });
});
