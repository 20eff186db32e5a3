/** Mistakes that used to surface late (at the first training step) or not at all. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { modelFromConfig, modelToConfig } from '../../models/serialize.js';

const model = () => new kiln.Sequential([kiln.Input({ shape: [2] }), new kiln.layers.Dense(1)]);

describe('compile lossWeights', () => {
  it.each([['a string', ['str'], /"str"/], ['NaN', [NaN], /NaN|null/], ['a keyed string', { OUT: 'x' }, /"x"/]] as const)('refuses %s, naming the field and the output', (_, given, got) => {
    const m = model();
    const lossWeights = 'OUT' in given ? { [m.outputNames[0]]: given.OUT } : given;
    expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', lossWeights: lossWeights as never })).toThrow(/^compile: lossWeights for output '.*' must be a finite number, got /);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'mse', lossWeights: lossWeights as never })).toThrow(got);
  });
  it('still takes numbers', () => {
    expect(() => model().compile({ optimizer: 'sgd', loss: 'mse', lossWeights: [0.5] })).not.toThrow();
  });
});

describe('setSeed', () => {
  afterEach(() => kiln.setSeed(0));
  it.each([2 ** 32, 1e308, -1, 2 ** 53])('refuses %d: seeds are integers in [0, 2^32 - 1]', (seed) => {
    expect(() => kiln.setSeed(seed)).toThrow(/^setSeed: expected an integer seed, got .* \(a seed is an integer in \[0, 4294967295\]\)/);
  });
  it('takes both ends of the range, and they give different streams', async () => {
    kiln.setSeed(0);
    const a = await kiln.random.uniform([4]).data();
    kiln.setSeed(2 ** 32 - 1);
    const b = await kiln.random.uniform([4]).data();
    expect([...a]).not.toEqual([...b]);
  });
  it('checks a seed given to one draw too', () => {
    expect(() => kiln.random.uniform([2], { seed: 2 ** 40 })).toThrow(/^random: expected an integer seed, got 1099511627776/);
  });
});

describe('Normalization.adapt', () => {
  it('refuses data with no samples instead of storing NaN statistics', async () => {
    const norm = new kiln.layers.Normalization();
    await expect(norm.adapt(kiln.zeros([0, 3]))).rejects.toThrow(/^Normalization '.*'\.adapt: expected data with at least one sample on the reduced axes \[0\], got shape \[0,3\]/);
  });
});

describe('Lambda', () => {
  it.each([['a number', () => 3, 'number'], ['nothing', () => undefined, 'undefined'], ['an array', (x: kiln.Tensor) => [x], 'an array']] as const)('names itself when its function returns %s', (_, fn, got) => {
    const layer = new kiln.layers.Lambda(fn as never);
    expect(() => new kiln.Sequential([kiln.Input({ shape: [2] }), layer])).toThrow(new RegExp(`^Lambda '${layer.name}': its function must return a tensor, got ${got}`));
    expect(() => layer.apply(kiln.zeros([1, 2]))).toThrow(/its function must return a tensor/);
  });
});

// found by npm run fuzz: each passed modelFromConfig and failed later with a TypeError or an addon error
describe('layer configs from files', () => {
  const dense = (config: unknown) => ({ className: 'Sequential', config: { layers: [{ className: 'InputLayer', config: { batchShape: [null, 2] } }, { className: 'Dense', config }] } });
  it.each([[{ a: 1 }], [7], [''], ['a\0b']])('a layer name %j is refused when the layer is made', (name) => {
    expect(() => modelFromConfig(dense({ units: 1, name }))).toThrow(/^Dense: name must be a non-empty string without NUL characters, got /);
  });
  it('a layer without a config names its class', () => {
    expect(() => modelFromConfig(dense(undefined))).toThrow(/^modelFromConfig: layer Dense: expected a config object, got nothing/);
  });
  // the native addon takes these as int32, where 2^32 is 0
  it("a dilation of 2^53 with 'same' padding (a valid shape) or a pool stride of 2^32 is refused in core", () => {
    expect(() => new kiln.Sequential([kiln.Input({ shape: [5, 1] }), new kiln.layers.Conv1D(1, 3, { padding: 'same', dilationRate: 2 ** 53 })]))
      .toThrow(/dilationRate must be at most 2147483647, got 9007199254740992/);
    expect(() => new kiln.Sequential([kiln.Input({ shape: [5, 1] }), new kiln.layers.MaxPooling1D(2, { strides: 2 ** 32 })]))
      .toThrow(/strides must be at most 2147483647, got 4294967296/);
  });
  it('pads over int32 (a transposed convolution dilated 2^30 times) are refused before the backend', () => {
    expect(() => new kiln.Sequential([kiln.Input({ shape: [5, 1] }), new kiln.layers.Conv1DTranspose(1, 3, { dilationRate: 2 ** 30 })]))
      .toThrow(/^conv: strides, dilations and pads must be integers in \[0, 2147483647\]/);
  });
  it('a Dropout noiseShape that is not a list of sizes is refused when the layer is made', () => {
    expect(() => new kiln.layers.Dropout(0.5, { noiseShape: 1e30 as never })).toThrow(/noiseShape must be a list of positive integers or nulls, got 1e\+30/);
  });
  it("verification feeds an input named '__proto__' to onnxruntime as an input, not as a prototype", async () => {
    const m = new kiln.Sequential([kiln.Input({ shape: [2], name: '__proto__' }), new kiln.layers.Dense(1)]);
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-reliability-proto-')), 'm.onnx');
    await expect(m.export(file, { format: 'onnx', verify: true })).resolves.toMatchObject({ verification: { ok: true } });
    rmSync(dirname(file), { recursive: true });
  });
});

describe('models of no outputs', () => {
  it('a Functional model with an empty list or object of outputs is refused, and so is a config whose outputLayers is not a reference', () => {
    const x = kiln.Input({ shape: [2] });
    expect(() => new kiln.Model({ inputs: x, outputs: [] })).toThrow(/a Functional model needs at least one output, got none/);
    expect(() => new kiln.Model({ inputs: x, outputs: {} })).toThrow(/a Functional model needs at least one output, got none/);
    expect(() => new kiln.Model({ inputs: [], outputs: new kiln.layers.Dense(1).apply(x) })).toThrow(/needs at least one input, got none/);
    const functional = new kiln.Model({ inputs: x, outputs: new kiln.layers.Dense(1, { name: "d" }).apply(x) });
    // the fuzzer's two crashes (onnxruntime refused the exported graph of a model of no outputs)
    for (const bad of [-0.5, 2 ** 53 + 2, {}, [], null]) {
      const config = JSON.parse(JSON.stringify(modelToConfig(functional)));
      config.config.outputLayers = bad;
      expect(() => modelFromConfig(config)).toThrow(/outputLayers must be a tensor reference, a list of them or an object of them, at least one|at least one output/);
    }
  });
});

