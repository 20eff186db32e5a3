import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import { parseTrainConfig } from '../cli/train-config.js';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
// the CLI runs from source through tsx's loader, so the tests need no build
const tsx = createRequire(import.meta.url).resolve('tsx');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', tsx, join(root, 'cli/main.ts'), ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A failed run: exit code 1 and one line `kiln: …` on stderr, no stack. */
function expectOneLineError(r: ReturnType<typeof cli>, ...parts: string[]): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kiln: /);
  for (const p of parts) expect(lines[0]).toContain(p);
}

const N = 64;
const config = (changes: Record<string, unknown> = {}) => ({
  seed: 1,
  model: { className: 'Sequential', config: { layers: [
    { className: 'InputLayer', config: { batchShape: [null, 3] } },
    { className: 'Dense', config: { units: 8, activation: 'relu' } },
    { className: 'Dense', config: { units: 2, activation: 'softmax' } },
  ] } },
  data: { train: { x: 'x.npy', y: 'y.npy' }, test: { path: 'data.csv', target: 'label' } },
  compile: { optimizer: { className: 'Adam', config: { learningRate: 0.05 } }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] },
  fit: { epochs: 3, batchSize: 16, validationSplit: 0.25 },
  output: 'out/model.kiln',
  ...changes,
});
const writeConfig = (name: string, cfg: unknown) => writeFileSync(join(dir, name), JSON.stringify(cfg));

beforeAll(async () => {
  // two-class data: the label is whether a + b > 0
  kiln.setSeed(3);
  const x = kiln.random.normal([N, 3]);
  const rows = (await x.array()) as number[][];
  const labels = rows.map(([a, b]) => (a + b > 0 ? 1 : 0));
  await kiln.io.writeNpy(join(dir, 'x.npy'), x);
  await kiln.io.writeNpy(join(dir, 'y.npy'), kiln.tensor(labels, [N], 'int32'));
  writeFileSync(join(dir, 'data.csv'), `a,b,c,label\n${rows.map((r, i) => `${r.join(',')},${labels[i]}`).join('\n')}\n`);
  writeConfig('train.json', config());
  x.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kiln CLI', () => {
  it('info lists the version, CPU, threads and the reference backend', () => {
    const r = cli('info');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`kiln ${kiln.version}`);
    expect(r.stdout).toMatch(/threads: \d+/);
    expect(r.stdout).toMatch(/CPU features: /);
    expect(r.stdout).toMatch(/reference\s+available/);
    // the best available backend is the default, which need not be reference
    expect(r.stdout).toMatch(/current backend: \w+/);
    expect(cli('--backend', 'reference', 'info').stdout).toContain('current backend: reference');
  });

  it('train fits, tests and saves a model that summary, evaluate and predict read', async () => {
    const t = cli('train', 'train.json');
    expect(t.stderr).toBe('');
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('Epoch 3/3');
    expect(t.stdout).toContain('val_accuracy');
    const testLine = t.stdout.split('\n').find((l) => l.startsWith('test - '))!;
    expect(testLine).toMatch(/^test - loss: \d+\.\d{4} - accuracy: \d\.\d{4}$/);
    expect(t.stdout).toContain('saved out/model.kiln');
    expect(existsSync(join(dir, 'out/model.kiln'))).toBe(true);

    const s = cli('summary', 'out/model.kiln');
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('Total params: 50');

    // the same samples as .npy files and as CSV columns give the train command's test metrics
    const fromNpy = cli('evaluate', 'out/model.kiln', 'x.npy', 'y.npy');
    const fromCsv = cli('evaluate', 'out/model.kiln', 'data.csv', '--target', 'label');
    expect(fromNpy.stdout.trim()).toBe(testLine.slice('test - '.length));
    expect(fromCsv.stdout.trim()).toBe(fromNpy.stdout.trim());

    const p = cli('predict', 'out/model.kiln', 'x.npy', '-o', 'predictions.npy');
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('wrote predictions.npy: float32 [64, 2]');
    const written = await kiln.io.readNpy(join(dir, 'predictions.npy'));
    expect(written.shape).toEqual([N, 2]);
    const values = (await written.array()) as number[][];
    written.dispose();
    for (const [p0, p1] of values) expect(p0 + p1).toBeCloseTo(1, 5);

    const printed = cli('predict', 'out/model.kiln', 'data.csv', '--columns', 'a,b,c');
    expect(printed.code).toBe(0);
    const json = JSON.parse(printed.stdout) as number[][];
    json.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(values[i][j], 6)));
  }, 120_000);

  it('trains a Functional model with two named inputs, each from CSV columns', () => {
    const a = kiln.Input({ shape: [2], name: 'ab' });
    const c = kiln.Input({ shape: [1], name: 'c' });
    const merged = new kiln.layers.Concatenate().apply([a, c] as never) as never;
    const out = new kiln.layers.Dense(2, { activation: 'softmax' }).apply(merged) as unknown as kiln.SymbolicTensor;
    const model = new kiln.Model({ inputs: [a, c], outputs: out });
    writeConfig('functional.json', config({
      model: { className: 'Functional', config: model.getConfig() },
      data: { train: { x: { ab: { path: 'data.csv', columns: ['a', 'b'] }, c: { path: 'data.csv', columns: ['c'] } }, y: { path: 'data.csv', columns: 'label' } } },
      output: 'out/functional.kiln',
    }));
    model.dispose();
    const r = cli('train', 'functional.json', '--epochs', '1');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Epoch 1/1');
    expect(existsSync(join(dir, 'out/functional.kiln'))).toBe(true);
  }, 60_000);

  it("streams a CSV source (stream: true) to the same JSON-line losses as the CSV loaded whole", () => {
    const run = (stream: boolean) => {
      const source = { path: 'data.csv', target: 'label', stream };
      writeConfig(`stream-${stream}.json`, config({
        data: { train: source, validation: source, test: source },
        fit: { epochs: 2, batchSize: 16, shuffle: false, verbose: 'json' },
        output: `out/stream-${stream}.kiln`,
      }));
      const r = cli('train', `stream-${stream}.json`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { event: string; logs?: Record<string, number> });
    };
    const streamed = run(true);
    expect(streamed.map((l) => l.event)).toEqual(['train_begin', 'epoch', 'epoch', 'train_end']);
    expect(Object.keys(streamed[1].logs!).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    const loaded = run(false);
    for (const e of [1, 2]) for (const [k, v] of Object.entries(loaded[e].logs!)) expect(streamed[e].logs![k]).toBeCloseTo(v, 5);
  }, 120_000);

  it('trains examples/mnist-mlp.json (one short epoch)', () => {
    const r = cli('train', join(root, 'examples/mnist-mlp.json'), '--epochs', '1', '--steps-per-epoch', '2', '-o', 'mnist.kiln');
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Total params: 269,322');
    expect(r.stdout).toMatch(/test - loss: [\d.]+ - accuracy: [\d.]+/);
    expect(existsSync(join(dir, 'mnist.kiln'))).toBe(true);
  }, 120_000);

  it('reports a bad config field, a missing data file or an unknown backend in one line, exit code 1', () => {
    writeConfig('typo.json', { ...config(), fitt: {} });
    expectOneLineError(cli('train', 'typo.json'), "typo.json: top level: unknown field 'fitt'; allowed: description, seed, model, data, compile, fit, output");
    writeConfig('epochs.json', config({ fit: { epochs: '3' } }));
    expectOneLineError(cli('train', 'epochs.json'), 'epochs.json: fit.epochs: expected a positive integer, got "3"');
    writeConfig('missing.json', config({ data: { train: { x: 'nope.npy', y: 'y.npy' } } }));
    expectOneLineError(cli('train', 'missing.json'), 'missing.json: data.train.x: file not found: nope.npy');
    writeConfig('layer.json', config({ model: { className: 'Sequential', config: { layers: [{ className: 'Dense', config: { units: -1 } }] } } }));
    expectOneLineError(cli('train', 'layer.json'), 'layer.json: model: ', 'units must be a positive integer');
    expectOneLineError(cli('--backend', 'nope', 'info'), "unknown backend 'nope'");
    expectOneLineError(cli('info', '--bogus'), 'Unknown argument: bogus', 'kiln --help');
    expectOneLineError(cli('summary', 'absent.kiln'), 'absent.kiln does not exist');
  }, 60_000);

  it('prints the stack only with --verbose', () => {
    const r = cli('--backend', 'nope', '--verbose', 'info');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kiln: .*unknown backend 'nope'/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('names the line and column of a CSV cell that is not a number', () => {
    writeFileSync(join(dir, 'bad.csv'), 'a,b,c,label\n1,2,3,1\n1,oops,3,0\n');
    expectOneLineError(cli('evaluate', 'out/model.kiln', 'bad.csv', '--target', 'label'), "bad.csv: line 3, column 'b': expected a number, got 'oops'");
  });
});

describe('train config checks', () => {
  const parse = (cfg: unknown) => parseTrainConfig(cfg, join(dir, 'train.json'));

  it('resolves paths against the config folder and defaults the output to the config name', () => {
    const { output, ...rest } = config();
    const cfg = parse(rest);
    expect(cfg.output).toBe(join(dir, 'train.kiln'));
    expect(cfg.data.train).toEqual({ kind: 'files', x: { path: join(dir, 'x.npy') }, y: { path: join(dir, 'y.npy') } });
    expect(cfg.data.test).toEqual({ kind: 'csv', path: join(dir, 'data.csv'), target: 'label' });
    expect(output).toBe('out/model.kiln');
  });

  it.each([
    [{ fit: { epochs: 0 } }, 'fit.epochs: expected a positive integer, got 0'],
    [{ fit: { validationSplit: 1 } }, 'fit.validationSplit: expected a fraction in [0, 1), got 1'],
    [{ fit: { verbose: 3 } }, "fit.verbose: expected 0 (silent), 1 (progress), 2 (a line per epoch) or 'json'"],
    [{ data: { train: { path: 'data.csv', target: 'label', stream: 1 } } }, 'data.train.stream: expected'],
    [{ data: { train: { path: 'data.csv', target: 'label', stream: true } } }, 'fit.validationSplit: a streamed data.train cannot be split: give data.validation'],
    [{ fit: { epoch: 2 } }, "fit: unknown field 'epoch'; allowed: epochs,"],
    [{ compile: { optimizer: 'adam' } }, "compile: missing 'loss'"],
    [{ compile: { loss: 3 } }, 'compile.loss: expected a loss: a name or { className, config }, got 3'],
    [{ compile: { loss: 'mse', metrics: 'accuracy' } }, 'compile.metrics: expected a list of metrics, got "accuracy"'],
    [{ model: [] }, 'model: expected a Keras-style model config'],
    [{ data: { test: { x: 'x.npy', y: 'y.npy' } } }, "data: missing 'train'"],
    [{ data: { train: { dataset: 'cifar10' } } }, "data.train.dataset: expected 'mnist', got \"cifar10\""],
    [{ data: { train: { x: { path: 'x.npy', columns: ['a'] }, y: 'y.npy' } } }, 'data.train.x.path: expected a .csv file, got'],
    [{ data: { train: { path: 'data.csv' } } }, "data.train: missing 'target'"],
    [{ data: { train: { x: 'x.npy', y: 'y.npy' }, validation: { x: 'x.npy', y: 'y.npy' } } }, 'fit.validationSplit: give data.validation or fit.validationSplit, not both'],
  ])('rejects %j', (change, message) => {
    expect(() => parse(config(change))).toThrow(message);
  });
});
