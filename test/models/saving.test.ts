import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const { Dense, Dropout, Add, Concatenate, Lambda } = kiln.layers;
type Sym = kiln.SymbolicTensor;

function sym(layer: kiln.Layer, inputs: Sym | Sym[]): Sym {
  return layer.apply(inputs as never) as unknown as Sym;
}

async function values(t: kiln.Tensor | kiln.Variable): Promise<number[]> {
  return Array.from(await (t instanceof kiln.Variable ? t.value : t).data());
}

async function outputs(model: kiln.Model, x: Parameters<kiln.Model['predict']>[0]): Promise<number[][]> {
  const out = await model.predict(x, { batchSize: 5 });
  return Promise.all((Array.isArray(out) ? out : [out]).map((t) => values(t)));
}

async function weightValues(model: kiln.Model): Promise<number[][]> {
  return Promise.all(model.getWeights().map((w) => values(w)));
}

/** A layer of our own: `x · scale`, one weight per feature, and a config option. */
class Scale extends kiln.Layer {
  static readonly className = 'ModelsTestScale';
  scale: kiln.Variable | null = null;

  constructor(readonly initial: number, args: kiln.LayerArgs = {}) {
    super(args);
  }

  override build(shape: readonly (number | null)[]): void {
    this.scale = this.addWeight('scale', [shape.at(-1)!], { initializer: { className: 'Constant', config: { value: this.initial } } });
  }

  call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
    return kiln.ops.multiply(x as kiln.Tensor, this.scale!);
  }

  override getConfig(): kiln.LayerConfig {
    return { ...super.getConfig(), initial: this.initial };
  }

  static fromConfig(config: kiln.LayerConfig): Scale {
    return new Scale(config.initial as number, { name: config.name, trainable: config.trainable });
  }
}
kiln.registerLayer(Scale);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-models-saving-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('save → loadModel round trips', () => {
  it('Sequential: same layers, weights, predictions and compile settings', async () => {
    kiln.setSeed(1);
    const model = new kiln.Sequential([
      kiln.Input({ shape: [4] }),
      new Dense(8, { activation: 'relu', name: 'hidden' }),
      new Dropout(0.3),
      new Dense(3, { activation: 'softmax', name: 'probs' }),
    ], { name: 'classifier' });
    model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.003 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const x = kiln.random.normal([7, 4]);
    const y = kiln.tensor([0, 1, 2, 0, 1, 2, 0], [7], 'int32');
    await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 });
    const path = join(dir, 'seq.kiln');
    await model.save(path);
    const loaded = await kiln.loadModel(path);
    expect(loaded).toBeInstanceOf(kiln.Sequential);
    expect(loaded.name).toBe('classifier');
    expect(loaded.layers.map((l) => `${l.name}:${l.className}`)).toEqual(model.layers.map((l) => `${l.name}:${l.className}`));
    expect(await weightValues(loaded)).toEqual(await weightValues(model));
    expect(await outputs(loaded, x)).toEqual(await outputs(model, x));
    expect(loaded.optimizer).toBeInstanceOf(kiln.optimizers.Adam);
    expect(loaded.optimizer!.learningRate).toBeCloseTo(0.003, 8);
    expect(await loaded.evaluate(x, y)).toEqual(await model.evaluate(x, y));
    expect(loaded.summary({ printFn: () => {} })).toBe(model.summary({ printFn: () => {} }));
  });

  it('Functional with two inputs and outputs, a shared layer and a nested model', async () => {
    kiln.setSeed(2);
    const innerIn = kiln.Input({ shape: [3] });
    const inner = new kiln.Model({ inputs: innerIn, outputs: sym(new Dense(3, { activation: 'tanh', name: 'inner_dense' }), innerIn), name: 'inner' });
    const a = kiln.Input({ shape: [3], name: 'a' });
    const b = kiln.Input({ shape: [3], name: 'b' });
    const shared = new Dense(3, { name: 'shared' });
    const left = sym(shared, sym(inner, a));
    const right = sym(shared, b);
    const merged = sym(new Concatenate({ name: 'merged' }), [left, sym(new Add({ name: 'sum' }), [left, right])]);
    const reg = sym(new Dense(1, { name: 'reg' }), merged);
    const cls = sym(new Dense(2, { activation: 'softmax', name: 'cls' }), merged);
    const model = new kiln.Model({ inputs: [a, b], outputs: [reg, cls], name: 'two_heads' });
    model.compile({ optimizer: 'adam', loss: { reg: 'mse', cls: 'sparse_categorical_crossentropy' }, lossWeights: { reg: 0.5, cls: 2 }, metrics: { cls: ['accuracy'] } });
    const xa = kiln.random.normal([6, 3]);
    const xb = kiln.random.normal([6, 3]);
    const yReg = kiln.random.normal([6, 1]);
    const yCls = kiln.tensor([0, 1, 1, 0, 1, 0], [6], 'int32');
    await model.fit([xa, xb], [yReg, yCls], { epochs: 2, batchSize: 3, verbose: 0 });

    const path = join(dir, 'functional.kiln');
    await model.save(path);
    const loaded = await kiln.loadModel(path);
    expect(loaded.inputNames).toEqual(['a', 'b']);
    expect(loaded.outputNames).toEqual(['reg', 'cls']);
    expect(loaded.countParams()).toBe(model.countParams());
    expect(loaded.weights).toHaveLength(model.weights.length);
    expect(await weightValues(loaded)).toEqual(await weightValues(model));
    expect(await outputs(loaded, [xa, xb])).toEqual(await outputs(model, [xa, xb]));
    expect(await outputs(loaded, { b: xb, a: xa })).toEqual(await outputs(model, [xa, xb]));
    // the shared layer is still one layer used twice, and the nested model still a model
    const loadedShared = loaded.getLayer('shared');
    expect(loaded.layers.filter((l) => l === loadedShared)).toHaveLength(1);
    expect(loaded.getLayer('inner')).toBeInstanceOf(kiln.Model);
    expect(await loaded.evaluate([xa, xb], [yReg, yCls])).toEqual(await model.evaluate([xa, xb], [yReg, yCls]));
  });

  it('a Sequential built lazily inside a Functional model, and a Sequential inside a Sequential', async () => {
    kiln.setSeed(5);
    const inner = new kiln.Sequential([new Dense(4, { activation: 'relu' }), new Dense(2)], { name: 'inner_seq' });
    const x = kiln.Input({ shape: [3] });
    const functional = new kiln.Model({ inputs: x, outputs: sym(new Dense(1), sym(inner, x)) });
    const stacked = new kiln.Sequential([kiln.Input({ shape: [3] }), new kiln.Sequential([new Dense(2)], { name: 'inner_stack' }), new Dense(1)]);
    const data = kiln.random.normal([4, 3]);
    for (const [model, name] of [[functional, 'lazy-inner'], [stacked, 'seq-in-seq']] as const) {
      const path = join(dir, `${name}.kiln`);
      await model.save(path);
      const loaded = await kiln.loadModel(path);
      expect(loaded.countParams()).toBe(model.countParams());
      expect(await outputs(loaded, data)).toEqual(await outputs(model, data));
    }
  });

  it('named outputs keep their names', async () => {
    const x = kiln.Input({ shape: [2] });
    const model = new kiln.Model({ inputs: x, outputs: { score: sym(new Dense(1), x), logits: sym(new Dense(2), x) } });
    expect(model.outputNames).toEqual(['score', 'logits']);
    const path = join(dir, 'named.kiln');
    await model.save(path);
    const loaded = await kiln.loadModel(path);
    expect(loaded.outputNames).toEqual(['score', 'logits']);
    expect(await outputs(loaded, kiln.ones([2, 2]))).toEqual(await outputs(model, kiln.ones([2, 2])));
  });

  it('a custom layer registered with kiln.registerLayer round-trips with its config and weights', async () => {
    const scale = new Scale(2, { name: 'scale' });
    const model = new kiln.Sequential([kiln.Input({ shape: [3] }), scale, new Dense(1)]);
    scale.setWeights([[1, -2, 3]]);
    const path = join(dir, 'custom.kiln');
    await model.save(path);
    const loaded = await kiln.loadModel(path);
    const again = loaded.getLayer('scale');
    expect(again).toBeInstanceOf(Scale);
    expect((again as Scale).initial).toBe(2);
    expect(await values((again as Scale).scale!)).toEqual([1, -2, 3]);
    const x = kiln.tensor([[1, 1, 1], [0.5, 2, -1]]);
    expect(await outputs(loaded, x)).toEqual(await outputs(model, x));
  });
});

describe('training resumes after save and load', () => {
  async function trajectories(makeOptimizer: () => kiln.optimizers.Optimizer, name: string): Promise<{ straight: number[]; resumed: number[]; w1: number[][]; w2: number[][] }> {
    kiln.setSeed(3);
    const x = kiln.random.normal([12, 3]);
    const y = kiln.ops.sum(x, 1, true);
    const make = () => {
      kiln.setSeed(4);
      const m = new kiln.Sequential([kiln.Input({ shape: [3] }), new Dense(6, { activation: 'tanh' }), new Dense(1)]);
      m.compile({ optimizer: makeOptimizer(), loss: 'mse', metrics: ['mae'] });
      return m;
    };
    const options = { batchSize: 4, shuffle: false, verbose: 0 as const };
    const straight = make();
    const all = await straight.fit(x, y, { ...options, epochs: 4 });

    const first = make();
    const head = await first.fit(x, y, { ...options, epochs: 2 });
    const path = join(dir, `${name}.kiln`);
    await first.save(path);
    const loaded = await kiln.loadModel(path);
    const tail = await loaded.fit(x, y, { ...options, epochs: 4, initialEpoch: 2 });
    return {
      straight: all.history.loss,
      resumed: [...head.history.loss, ...tail.history.loss],
      w1: await weightValues(straight),
      w2: await weightValues(loaded),
    };
  }

  it.each([
    ['adam', () => new kiln.optimizers.Adam({ learningRate: 0.01 })],
    ['sgd-momentum', () => new kiln.optimizers.SGD({ learningRate: 0.02, momentum: 0.9 })],
    ['rmsprop', () => new kiln.optimizers.RMSprop({ learningRate: 0.005 })],
  ])('2 epochs + save + load + 2 epochs = 4 epochs (%s)', async (name, makeOptimizer) => {
    const { straight, resumed, w1, w2 } = await trajectories(makeOptimizer, name);
    expect(resumed).toHaveLength(4);
    resumed.forEach((l, i) => expect(l, `epoch ${i}`).toBeCloseTo(straight[i], 6));
    w2.forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(w1[i][j], 6)));
  });

  it('loadModel with compile: false gives an uncompiled model with the same predictions', async () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(2)]);
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const path = join(dir, 'nocompile.kiln');
    await model.save(path);
    const loaded = await kiln.loadModel(path, { compile: false });
    expect(loaded.compiled).toBeNull();
    expect(await outputs(loaded, kiln.ones([1, 2]))).toEqual(await outputs(model, kiln.ones([1, 2])));
  });
});

describe('saving over an existing file', () => {
  async function dirListing(): Promise<string[]> {
    return (await readdir(dir)).filter((n) => n.startsWith('.') || n.startsWith('over'));
  }

  it('keeps the old file intact when saving fails (an unserializable Lambda), and replaces it atomically on success', async () => {
    const path = join(dir, 'over.kiln');
    const original = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(1, { name: 'original' })]);
    await original.save(path);
    const bytes = await readFile(path);
    const { ino } = await stat(path);

    const inline = new kiln.Sequential([kiln.Input({ shape: [2] }), new Lambda((t) => kiln.ops.multiply(t, 2)), new Dense(1)]);
    await expect(inline.save(path)).rejects.toThrow(/cannot save a JavaScript function.*registerFunction/);
    expect(await readFile(path)).toEqual(bytes);
    expect(await dirListing()).toEqual(['over.kiln']);
    expect((await kiln.loadModel(path)).getLayer('original')).toBeDefined();

    const replacement = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(3, { name: 'replacement' })]);
    await replacement.save(path);
    // a new file renamed over the old one, not the old one rewritten in place
    expect((await stat(path)).ino).not.toBe(ino);
    expect(await dirListing()).toEqual(['over.kiln']);
    const loaded = await kiln.loadModel(path);
    expect(loaded.getLayer('replacement')).toBeDefined();
    expect(await outputs(loaded, kiln.ones([1, 2]))).toEqual(await outputs(replacement, kiln.ones([1, 2])));
  });

  it('a Lambda whose function is registered saves and loads', async () => {
    const double = (t: kiln.Tensor) => kiln.ops.multiply(t, 2);
    Lambda.registerFunction('models_test_double', double);
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Lambda(double, { name: 'double' }), new Dense(1)]);
    const path = join(dir, 'lambda.kiln');
    await model.save(path);
    const loaded = await kiln.loadModel(path);
    expect(await outputs(loaded, kiln.tensor([[1, 2]]))).toEqual(await outputs(model, kiln.tensor([[1, 2]])));
  });

  it('overwrite: false refuses to replace an existing file and leaves it alone', async () => {
    const path = join(dir, 'over-kept.kiln');
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(1)]);
    await model.save(path);
    const bytes = await readFile(path);
    await expect(model.save(path, { overwrite: false })).rejects.toThrow(/already exists; pass \{ overwrite: true \}/);
    expect(await readFile(path)).toEqual(bytes);
  });

  it('an unregistered custom layer fails to load with its class name', async () => {
    class Unlisted extends kiln.Layer {
      static readonly className = 'ModelsTestUnlisted';
      call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
        return x as kiln.Tensor;
      }
      static fromConfig(config: kiln.LayerConfig): Unlisted {
        return new Unlisted(config);
      }
    }
    const model = new kiln.Sequential([kiln.Input({ shape: [2] }), new Unlisted(), new Dense(1)]);
    const path = join(dir, 'unlisted.kiln');
    await model.save(path);
    await expect(kiln.loadModel(path)).rejects.toThrow(/ModelsTestUnlisted/);
    const loaded = await kiln.loadModel(path, { customObjects: { ModelsTestUnlisted: Unlisted } });
    expect(await outputs(loaded, kiln.ones([1, 2]))).toEqual(await outputs(model, kiln.ones([1, 2])));
  });
});
