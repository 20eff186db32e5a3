import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { modelFromConfig } from '../../models/serialize.js';
import { buildModel, run } from '../../examples/mnist-cnn.js';
import { serveFile } from '../../examples/serve-onnx.js';

const root = resolve(import.meta.dirname, '../..');
const native = kiln.listBackends().find((b) => b.name === 'native')!;
const skipWhy = native.available ? '' : `native backend unavailable: ${native.reason}`;
if (skipWhy) console.warn(`examples/mnist-cnn: skipped, ${skipWhy}`);

/** A config with every layer's name taken out: names count up per process, the rest must match. */
function withoutNames(config: unknown): unknown {
  if (Array.isArray(config)) return config.map(withoutNames);
  if (config === null || typeof config !== 'object') return config;
  return Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'name').map(([k, v]) => [k, withoutNames(v)]));
}

describe('examples/mnist-cnn.json', () => {
  it('describes the very model examples/mnist-cnn.ts builds', () => {
    const json = JSON.parse(readFileSync(join(root, 'examples/mnist-cnn.json'), 'utf8')) as {
      model: { className: string; config: unknown };
      compile: { optimizer: { config: { learningRate: { config: { decaySteps: number } } } } };
      fit: { epochs: number; batchSize: number };
    };
    const fromJson = modelFromConfig(json.model);
    const built = buildModel();
    expect(withoutNames(fromJson.getConfig())).toEqual(withoutNames(built.getConfig()));
    // 320 + 128 (BN) + 18,496 + 256 (BN) + 204,928 + 1,290: Keras's count for this network
    expect(built.countParams()).toBe(225418);
    // the example decays its learning rate to 0 over the whole run, as the config must
    expect(json.compile.optimizer.config.learningRate.config.decaySteps).toBe(json.fit.epochs * Math.ceil(60000 / json.fit.batchSize));
    fromJson.dispose();
    built.dispose();
  });
});

describe.skipIf(!!skipWhy)('examples/mnist-cnn on native (a CI-sized run of the example\'s code)', () => {
  let dir = '';
  let outcome: Awaited<ReturnType<typeof run>>;

  beforeAll(async () => {
    await kiln.setBackend('native');
    dir = mkdtempSync(join(tmpdir(), 'kiln-mnist-cnn-'));
    // 600 steps of 8 images: BatchNormalization's moving statistics (momentum 0.99) start at
    // mean 0, variance 1 and need hundreds of steps to reach the batches'; fewer, larger steps
    // leave evaluation with the start values and near-chance accuracy whatever the weights
    outcome = await run({ epochs: 1, batchSize: 8, trainSamples: 4800, testSamples: 2000, onnx: join(dir, 'mnist-cnn.onnx'), verbose: 0 });
  }, 120_000);

  afterAll(() => {
    outcome?.model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('classifies held-out digits far above chance after 4,800 training images', () => {
    console.log(`mnist-cnn on native, 4,800 images, batch 8: test accuracy ${(outcome.accuracy * 100).toFixed(2)}% on 2,000 digits, ${outcome.seconds.toFixed(1)} s`);
    // chance is 10%; this run measured 93.5%
    expect(outcome.accuracy).toBeGreaterThan(0.8);
  });

  it('exports to ONNX that gives kiln\'s probabilities in onnxruntime-node, and serves it', async () => {
    const { test } = await kiln.datasets.mnist({ normalize: true });
    const digits = kiln.ops.slice(test[0], [0, 0, 0], [256, 28, 28]);
    const predicted = (await outcome.model.predict(digits)) as kiln.Tensor;
    const want = (await predicted.data()) as Float32Array;
    const pixels = (await digits.data()) as Float32Array;
    kiln.dispose([...test, digits, predicted]);

    const session = await ort.InferenceSession.create(outcome.exported!.path);
    const got = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', pixels, [256, 28, 28]) }))[session.outputNames[0]];
    expect(got.dims).toEqual([256, 10]);
    const values = got.data as Float32Array;
    values.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want[i])));
    await session.release();

    // examples/serve-onnx.ts takes a digit as 28 lists of 28 numbers
    const server = await serveFile(outcome.exported!.path, { port: 0, log: false });
    try {
      const image = Array.from({ length: 28 }, (_, r) => Array.from(pixels.subarray(r * 28, r * 28 + 28)));
      const res = await fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify({ inputs: [image, Array.from(pixels.subarray(784, 2 * 784))] }) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { probabilities: number[][] };
      body.probabilities.forEach((p, r) => p.forEach((v, j) => expect(Math.abs(v - want[r * 10 + j])).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(v))));
      const short = await fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify({ inputs: [[1, 2, 3]] }) });
      expect(short.status).toBe(400);
      expect(((await short.json()) as { error: string }).error).toBe('row 0 must be 784 finite numbers, got [1,2,3]');
    } finally {
      await server.close();
    }
  });

  it('trains from the config with the CLI (two steps)', () => {
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const r = spawnSync(process.execPath, ['--import', tsx, join(root, 'cli/main.ts'), '--backend', 'native', 'train', join(root, 'examples/mnist-cnn.json'),
      '--epochs', '1', '--steps-per-epoch', '2', '-o', 'mnist-cnn.kiln'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Total params: 225,418');
    expect(r.stdout).toMatch(/test - loss: [\d.]+ - accuracy: [\d.]+/);
    expect(existsSync(join(dir, 'mnist-cnn.kiln'))).toBe(true);
  }, 120_000);
});
