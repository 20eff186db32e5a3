import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import { Registry, canonical, ownClassName } from '../src/registry.js';

type Class = abstract new (...args: never[]) => unknown;

/** Every class a family module exports that extends one of `bases`, less the abstract bases themselves. */
function concreteClasses(family: object, bases: readonly Class[]): [string, Class][] {
  return Object.entries(family).filter(([, v]) => typeof v === 'function' && !bases.includes(v) && bases.some((b) => v.prototype instanceof b)) as [string, Class][];
}

/** Each family: its exported classes, how one is found by its className, and what an unknown name fails with. */
const FAMILIES: { name: string; classes: [string, Class][]; find: (className: string) => unknown; unknown: () => unknown }[] = [
  {
    name: 'layers',
    classes: concreteClasses(kiln.layers, [kiln.layers.Layer, kiln.layers.Merge, kiln.layers.RNNCell, kiln.layers.AttentionLayer, kiln.layers.HeadAttention]),
    find: (className) => kiln.layers.getLayerClass(className),
    unknown: () => kiln.layers.layerFromConfig({ className: 'NoSuchThing', config: { name: 'x', trainable: true, dtype: 'float32' } }),
  },
  {
    name: 'losses',
    classes: concreteClasses(kiln.losses, [kiln.losses.Loss]),
    find: (className) => kiln.losses.getLoss({ className, config: className === 'LossFunctionWrapper' ? { fn: 'hinge' } : {} }).constructor,
    unknown: () => kiln.losses.getLoss({ className: 'NoSuchThing', config: {} }),
  },
  {
    name: 'optimizers',
    classes: concreteClasses(kiln.optimizers, [kiln.optimizers.Optimizer]),
    find: (className) => kiln.optimizers.getOptimizer({ className, config: {} }).constructor,
    unknown: () => kiln.optimizers.getOptimizer({ className: 'NoSuchThing' }),
  },
  {
    name: 'schedules',
    classes: concreteClasses(kiln.optimizers.schedules, [kiln.optimizers.LearningRateSchedule]),
    // one config that every built-in schedule's constructor accepts
    find: (className) => kiln.optimizers.deserializeSchedule({
      className,
      config: { initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, firstDecaySteps: 10, boundaries: [], values: [0.1] },
    }).constructor,
    unknown: () => kiln.optimizers.deserializeSchedule({ className: 'NoSuchThing', config: {} }),
  },
  {
    name: 'initializers',
    classes: concreteClasses(kiln.initializers, [kiln.initializers.Initializer, kiln.initializers.RandomInitializer]),
    find: (className) => kiln.initializers.serializeInitializer({ className, config: {} }).className,
    unknown: () => kiln.initializers.getInitializer({ className: 'NoSuchThing', config: {} }),
  },
  {
    name: 'regularizers',
    classes: concreteClasses(kiln.regularizers, [kiln.regularizers.Regularizer]),
    find: (className) => kiln.regularizers.serializeRegularizer({ className, config: {} }).className,
    unknown: () => kiln.regularizers.getRegularizer({ className: 'NoSuchThing', config: {} }),
  },
  {
    name: 'constraints',
    classes: concreteClasses(kiln.constraints, [kiln.constraints.Constraint]),
    find: (className) => kiln.constraints.serializeConstraint({ className, config: {} }).className,
    unknown: () => kiln.constraints.getConstraint({ className: 'NoSuchThing', config: {} }),
  },
  {
    name: 'metrics',
    classes: concreteClasses(kiln.metrics, [kiln.metrics.Metric, kiln.metrics.MeanBase]),
    find: (className) => {
      const fn = className === 'MeanMetricWrapper' ? { fn: 'meanSquaredError' } : {};
      const metric = kiln.metrics.getMetric({ className, config: { name: 'm', dtype: 'float32', ...fn } });
      metric.dispose();
      return metric.constructor;
    },
    unknown: () => kiln.metrics.getMetric({ className: 'NoSuchThing', config: { name: 'm', dtype: 'float32' } }),
  },
];

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe.each(FAMILIES)('$name', ({ classes, find, unknown }) => {
  it('every exported class has a static className of its own, and is found by it', () => {
    expect(classes.length).toBeGreaterThan(0);
    for (const [exported, cls] of classes) {
      const className = ownClassName(cls);
      expect(className, `${exported} declares no static className`).toBeDefined();
      const found = find(className!);
      // some families hand back the class, the others an instance's saved className
      expect(found === cls || found === className, `${className} finds ${String((found as { name?: string })?.name ?? found)}`).toBe(true);
    }
  });

  it('an unknown name fails, listing the known ones', () => {
    const message = errorOf(unknown);
    expect(message).toMatch(/unknown .*'NoSuchThing'|unknown .*"NoSuchThing"/);
    // initializers, regularizers and constraints list Keras's ids ('glorot_uniform'), which match class names under `canonical`
    const listed = canonical(message);
    for (const [, cls] of classes) {
      const name = canonical(ownClassName(cls)!);
      expect(listed.includes(name), `'${name}' is not listed in: ${message}`).toBe(true);
    }
  });
});

describe('Registry', () => {
  class Shape {
    static readonly className: string = 'Shape';
  }
  class Circle extends Shape {
    static override readonly className: string = 'Circle';
  }

  it('matches names by the family rule and lists the known ids for an unknown one', () => {
    const shapes = new Registry<typeof Shape>('shape', canonical).register(Shape).register(Circle, ['round_thing']);
    expect(shapes.get('round_thing')).toBe(Circle);
    expect(shapes.get('RoundThing')).toBe(Circle);
    expect(shapes.getClass('round_thing')).toBeUndefined();
    expect(shapes.getClass('circle')).toBe(Circle);
    expect(shapes.nameOf(Circle)).toBe('Circle');
    expect(() => shapes.lookup('Square', 'getShape')).toThrow("getShape: unknown shape 'Square'; known ids: round_thing");
    expect(() => new Registry<typeof Shape>('shape').register(Shape).lookup(3, 'getShape')).toThrow('getShape: unknown shape 3; known classes: Shape');
  });

  it('refuses a class without its own className and a different class under a taken name, changing nothing', () => {
    class Unnamed extends Circle {}
    const shapes = new Registry<typeof Shape>('shape').register(Circle);
    expect(() => shapes.register(Unnamed, [], 'registerShape')).toThrow('registerShape: the class Unnamed needs a static className (the name its configs are saved under)');
    class Impostor extends Shape {
      static override readonly className: string = 'Oval';
    }
    expect(() => shapes.register(Impostor, ['circle_like', 'Circle'])).toThrow("shape registry: a different class is already registered as 'Circle'");
    expect(shapes.get('circle_like')).toBeUndefined();
    expect(shapes.get('Oval')).toBeUndefined();
    shapes.register(Circle);
    expect(shapes.classNames()).toEqual(['Circle']);
  });

  it('keeps functions by their ids, the first one saved', () => {
    const double = (x: number): number => 2 * x;
    const fns = new Registry<(x: number) => number>('function', canonical).add(double, ['double', 'twice']);
    expect(fns.get('Twice')).toBe(double);
    expect(fns.nameOf(double)).toBe('double');
    expect(() => fns.add((x) => x, ['twice'])).toThrow("function registry: a different function is already registered as 'twice'");
  });
});

describe('a fresh process importing only the package entry', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-registry-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a model with a layer of every family, its loss, optimizer, schedule and metrics', async () => {
    kiln.setSeed(3);
    const L = kiln.layers;
    const apply = (layer: kiln.Layer, x: unknown) => layer.apply(x as never) as unknown as kiln.SymbolicTensor;
    const input = kiln.Input({ shape: [4], name: 'x' });
    const scaled = apply(new L.Rescaling(0.5), input);
    const hidden = apply(new L.Dropout(0.2), apply(new L.Dense(4, { kernelInitializer: 'he_normal', kernelRegularizer: 'l2', kernelConstraint: 'max_norm' }), scaled));
    const activated = apply(new L.ReLU(), hidden);
    const reshaped = apply(new L.Flatten(), apply(new L.Reshape([2, 2]), activated));
    const output = apply(new L.Dense(1, { activation: 'sigmoid' }), apply(new L.Add(), [reshaped, scaled]));
    const model = new kiln.Model({ inputs: input, outputs: output, name: 'families' });
    const schedule = new kiln.optimizers.ExponentialDecay({ initialLearningRate: 0.01, decaySteps: 2, decayRate: 0.5 });
    model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: schedule }), loss: new kiln.losses.BinaryFocalCrossentropy(), metrics: ['mae', new kiln.metrics.AUC()] });
    const x = [[1, 2, 3, 4], [-1, 0, 2, 1], [0.5, -2, 1, 0]];
    const y = [[1], [0], [1]];
    await model.fit(kiln.tensor(x), kiln.tensor(y), { epochs: 1, verbose: 0 });
    const path = join(dir, 'families.kiln');
    await model.save(path);
    const expected = {
      layers: model.layers.map((l) => l.className),
      predictions: Array.from(await ((await model.predict(kiln.tensor(x))) as kiln.Tensor).data()),
      optimizer: [model.optimizer!.className, kiln.optimizers.serializeOptimizer(model.optimizer!).config.learningRate],
      loss: model.compiled!.losses.map((l) => l && kiln.losses.serializeLoss(l)),
      evaluation: await model.evaluate(kiln.tensor(x), kiln.tensor(y)),
    };

    const script = `
      import * as kiln from ${JSON.stringify(fileURLToPath(new URL('../index.ts', import.meta.url)))};
      const model = await kiln.loadModel(${JSON.stringify(path)});
      const x = kiln.tensor(${JSON.stringify(x)});
      console.log(JSON.stringify({
        layers: model.layers.map((l) => l.className),
        predictions: Array.from(await (await model.predict(x)).data()),
        optimizer: [model.optimizer.className, kiln.optimizers.serializeOptimizer(model.optimizer).config.learningRate],
        loss: model.compiled.losses.map((l) => l && kiln.losses.serializeLoss(l)),
        evaluation: await model.evaluate(x, kiln.tensor(${JSON.stringify(y)})),
      }));`;
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const child = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const loaded = JSON.parse(child.stdout);
    expect(loaded.layers).toEqual(expected.layers);
    expect(loaded.optimizer).toEqual(expected.optimizer);
    expect(loaded.loss).toEqual(expected.loss);
    expect(loaded.predictions).toEqual(expected.predictions.map((v) => expect.closeTo(v, 6)));
    for (const [name, value] of Object.entries(expected.evaluation)) expect(loaded.evaluation[name]).toBeCloseTo(value as number, 6);
  });
});
