import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as kiln from '../../index.js';
import { ENGINE } from '../../src/engine.js';
import { jitStatus } from '../../models/jit.js';

const { layers } = kiln;

/** Reads a value back inside its call: a host value could steer the computation, so no replay. */
class ReadsBack extends kiln.Layer {
  static readonly className = 'JitReadsBack';
  call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
    const t = x as kiln.Tensor;
    // symbolic while the model is built: nothing to read yet
    if (!(t instanceof kiln.Tensor)) return kiln.ops.multiply(t, 2);
    return kiln.ops.multiply(t, t.dataSync()[0] > 0 ? 2 : 3);
  }
}

/** Adds a number drawn on the host at each call: two traces upload different constants. */
class HostNoise extends kiln.Layer {
  static readonly className = 'JitHostNoise';
  call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
    return kiln.ops.add(x as kiln.Tensor, Math.random());
  }
}

/** Keeps a tensor it made at each call: a replay would not. */
class Caches extends kiln.Layer {
  static readonly className = 'JitCaches';
  last: kiln.Tensor | null = null;
  call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
    if (x instanceof kiln.Tensor) {
      this.last?.dispose();
      this.last = ENGINE.keep(kiln.ops.multiply(x, 2));
    }
    return kiln.ops.add(x as kiln.Tensor, 1);
  }
}

const models: Record<string, () => { model: kiln.Model; inputs: () => kiln.Tensor[] }> = {
  'MLP (fused dense)': () => ({
    model: new kiln.Sequential([kiln.Input({ shape: [6] }), new layers.Dense(5, { activation: 'relu' }), new layers.Dense(3, { activation: 'softmax' })]),
    inputs: () => [kiln.random.normal([4, 6], { seed: 1 })],
  }),
  'CNN with BatchNormalization, pooling and dropout': () => ({
    model: new kiln.Sequential([
      kiln.Input({ shape: [8, 8, 2] }),
      new layers.Conv2D(3, 3, { activation: 'relu', padding: 'same' }),
      new layers.BatchNormalization({ movingMeanInitializer: { className: 'RandomUniform', config: { minval: -0.5, maxval: 0.5 } } }),
      new layers.MaxPooling2D(2),
      new layers.Flatten(),
      new layers.Dropout(0.5),
      new layers.Dense(4, { activation: 'softmax' }),
    ]),
    inputs: () => [kiln.random.uniform([3, 8, 8, 2], { minval: -1, maxval: 1, seed: 2 })],
  }),
  'LSTM over a masked sequence': () => ({
    model: new kiln.Sequential([kiln.Input({ shape: [5, 2] }), new layers.Masking(), new layers.LSTM(3)]),
    inputs: () => [kiln.tensor([[[1, 2], [3, 1], [0, 0], [0, 0], [0, 0]], [[4, 5], [6, 7], [8, 1], [2, 2], [1, 3]]])],
  }),
  'Functional, two inputs and two outputs, attention': () => {
    const a = kiln.Input({ shape: [4, 6], name: 'a' });
    const b = kiln.Input({ shape: [3, 6], name: 'b' });
    const att = new layers.MultiHeadAttention(2, 3).apply([a, b]) as kiln.SymbolicTensor;
    const o1 = new layers.Dense(2, { name: 'o1' }).apply(att) as kiln.SymbolicTensor;
    const o2 = new layers.GlobalAveragePooling1D({ name: 'o2' }).apply(b) as kiln.SymbolicTensor;
    return {
      model: new kiln.Model({ inputs: [a, b], outputs: [o1, o2] }),
      inputs: () => [kiln.random.normal([2, 4, 6], { seed: 3 }), kiln.random.normal([2, 3, 6], { seed: 4 })],
    };
  },
};

const values = async (out: kiln.Tensor | kiln.Tensor[]) => Promise.all((Array.isArray(out) ? out : [out]).map((t) => t.data()));
const outputs = (out: kiln.Tensor | kiln.Tensor[]) => (Array.isArray(out) ? out : [out]);

for (const backend of kiln.listBackends().filter((b) => b.available && b.name !== 'webgpu').map((b) => b.name)) {
  describe(`jitCompile on ${backend}: predictOnBatch replays its kernels`, () => {
    beforeAll(async () => kiln.setBackend(backend));
    afterAll(async () => kiln.setBackend(kiln.listBackends().some((b) => b.name === 'native' && b.available) ? 'native' : 'reference'));

    for (const [name, make] of Object.entries(models)) {
      it(`${name}: the replayed outputs equal the eager ones, bit for bit, and no layer runs`, async () => {
        kiln.setSeed(7);
        const { model, inputs } = make();
        const xs = inputs();
        const x = xs.length === 1 ? xs[0] : xs;
        const eager = model.predictOnBatch(x);
        const want = await values(eager);
        model.compile({ jitCompile: true });
        kiln.dispose([model.predictOnBatch(x), model.predictOnBatch(x)].flatMap(outputs));
        expect(jitStatus(model)).toEqual({ [Object.keys(jitStatus(model))[0]]: 'plan' });
        const run = vi.spyOn(ENGINE, 'run');
        const replayed = model.predictOnBatch(x);
        expect(run).not.toHaveBeenCalled();
        run.mockRestore();
        expect(await values(replayed)).toEqual(want);
        // a replay's outputs are the caller's: disposing them frees their buffers, and 200 replays hold nothing more
        kiln.dispose(outputs(replayed));
        const before = kiln.memory();
        for (let i = 0; i < 200; i++) kiln.dispose(outputs(model.predictOnBatch(x)));
        expect(kiln.memory()).toEqual(before);
        kiln.dispose([...outputs(eager), ...xs]);
        model.dispose();
      });
    }

    it('a new batch size traces again; new weights (setWeights, fit) trace again and are used', async () => {
      kiln.setSeed(1);
      const { model } = models['MLP (fused dense)']();
      model.compile({ jitCompile: true, optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
      const x4 = kiln.random.normal([4, 6], { seed: 5 });
      const x1 = kiln.random.normal([1, 6], { seed: 6 });
      for (let i = 0; i < 3; i++) kiln.dispose([model.predictOnBatch(x4) as kiln.Tensor, model.predictOnBatch(x1) as kiln.Tensor]);
      expect(Object.values(jitStatus(model))).toEqual(['plan', 'plan']);
      // Dense 6 → 5 relu → 3 softmax with all weights zero: every output is 1/3
      model.setWeights(model.getWeights().map((w) => {
        const zeros = kiln.zerosLike(w);
        w.dispose();
        return zeros;
      }));
      const uniform = model.predictOnBatch(x4) as kiln.Tensor;
      for (const v of await uniform.data()) expect(v).toBeCloseTo(1 / 3, 6);
      uniform.dispose();
      await model.fit(x4, kiln.ones([4, 3]), { epochs: 1, verbose: 0 });
      // after training, the replay must see the trained weights: compare with a fresh eager model
      const trained = model.getWeights();
      const twin = models['MLP (fused dense)']().model;
      twin.setWeights(trained);
      const want = await (twin.predictOnBatch(x1) as kiln.Tensor).data();
      for (let i = 0; i < 3; i++) {
        const got = model.predictOnBatch(x1) as kiln.Tensor;
        expect(await got.data()).toEqual(want);
        got.dispose();
      }
      expect(Object.values(jitStatus(model))).toContain('plan');
      kiln.dispose([x4, x1, ...trained]);
      twin.dispose();
      model.dispose();
    });

    it('a call that reads back, draws host values or keeps a tensor runs eagerly, and says why', async () => {
      const cases: [kiln.Layer, RegExp][] = [
        [new ReadsBack(), /^eager: it reads tensor \d+ float32 \[2,3\] back to the host$/],
        [new HostNoise(), /^eager: two calls with the same input shapes called different kernels or uploaded different values$/],
        [new Caches(), /^eager: it keeps a tensor it made \(a cache or a state update\)$/],
      ];
      for (const [layer, why] of cases) {
        const model = new kiln.Sequential([kiln.Input({ shape: [3] }), layer]);
        model.compile({ jitCompile: true });
        const x = kiln.tensor([[1, 2, 3], [-1, 0, 4]]);
        const before = kiln.memory().numBuffers;
        for (let i = 0; i < 4; i++) (model.predictOnBatch(x) as kiln.Tensor).dispose();
        const [status] = Object.values(jitStatus(model));
        expect(status).toMatch(why);
        // eager still computes: ReadsBack doubles (first value 1 > 0)
        if (layer instanceof ReadsBack) expect(await (model.predictOnBatch(x) as kiln.Tensor).array()).toEqual([[2, 4, 6], [-2, 0, 8]]);
        if (layer instanceof Caches) layer.last?.dispose();
        // the traces' buffers were given back
        expect(kiln.memory().numBuffers).toBeLessThanOrEqual(before + (layer instanceof ReadsBack ? 1 : 0));
        x.dispose();
        model.dispose();
      }
    });

    it('predict in batches: the full batches replay and the last, shorter one has its own plan', async () => {
      kiln.setSeed(2);
      const { model } = models['MLP (fused dense)']();
      const x = kiln.random.normal([10, 6], { seed: 9 });
      const eager = await (await model.predict(x, { batchSize: 4 }) as kiln.Tensor).data();
      model.compile({ jitCompile: true });
      for (let i = 0; i < 3; i++) {
        const p = await model.predict(x, { batchSize: 4 }) as kiln.Tensor;
        expect(await p.data()).toEqual(eager);
        p.dispose();
      }
      expect(Object.values(jitStatus(model)).sort()).toEqual(['plan', 'plan']);
      const buffers = kiln.memory().numBuffers;
      model.dispose();
      // the plans' buffers go with the model
      expect(kiln.memory().numBuffers).toBeLessThan(buffers - 4);
      x.dispose();
    });
  });
}

describe('jitCompile option', () => {
  it('is a boolean', () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new layers.Dense(1)]);
    expect(() => model.compile({ jitCompile: 'auto' as unknown as boolean })).toThrow('compile: jitCompile must be true or false, got auto');
    model.dispose();
  });
});
