/** A train config nobody checked: numbers that never end or never fit, and outputs that cannot be written. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { parseTrainConfig, readTrainConfig } from '../../cli/train-config.js';
import { writableOutput } from '../../cli/data.js';
import { modelFromConfig } from '../../models/serialize.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'kiln-reliability-cli-'));
const tsx = createRequire(import.meta.url).resolve('tsx');

function cli(...args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', tsx, join(root, 'cli/main.ts'), ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: r.stderr };
}

const layers = (units: number) => [
  { className: 'InputLayer', config: { batchShape: [null, 3] } },
  { className: 'Dense', config: { units } },
];
const config = (changes: Record<string, unknown> = {}) => ({
  model: { className: 'Sequential', config: { layers: layers(2) } },
  data: { train: { x: 'x.npy', y: 'y.npy' } },
  compile: { optimizer: 'sgd', loss: 'mse' },
  fit: { epochs: 1, batchSize: 4 },
  ...changes,
});

beforeAll(async () => {
  await kiln.io.writeNpy(join(dir, 'x.npy'), kiln.zeros([8, 3]));
  await kiln.io.writeNpy(join(dir, 'y.npy'), kiln.zeros([8, 2]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fit numbers', () => {
  it.each([
    ['epochs', 1e20, 'fit.epochs: expected an integer <= 1,000,000, got 100000000000000000000'],
    ['epochs', 2 ** 53, 'fit.epochs: expected an integer <= 1,000,000, got 9007199254740992'],
    ['stepsPerEpoch', 1e12, 'fit.stepsPerEpoch: expected an integer <= 1,000,000,000, got 1000000000000'],
    ['batchSize', 2 ** 31, 'fit.batchSize: expected an integer <= 2,147,483,647, got 2147483648'],
    ['initialEpoch', 1e7, 'fit.initialEpoch: expected an integer <= 1,000,000, got 10000000'],
    ['validationFreq', 1e300, 'fit.validationFreq: expected an integer <= 1,000,000'],
  ])('%s = %d is refused before anything runs', (field, value, message) => {
    expect(() => parseTrainConfig(config({ fit: { [field]: value } }), join(dir, 'c.json'))).toThrow(message);
  });
  it('the bounds themselves pass', () => {
    expect(parseTrainConfig(config({ fit: { epochs: 1_000_000, stepsPerEpoch: 1e9 } }), join(dir, 'c.json')).fit.epochs).toBe(1_000_000);
  });
  it('seed must be in [0, 2^32 - 1]', () => {
    expect(() => parseTrainConfig(config({ seed: 1e308 }), join(dir, 'c.json'))).toThrow('seed: expected an integer <= 4,294,967,295, got 1e+308');
  });
  it('fit() itself refuses an epoch count that is not a safe integer', async () => {
    const m = modelFromConfig(config().model as never);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(m.fit(kiln.zeros([2, 3]), kiln.zeros([2, 2]), { epochs: 1e20, verbose: 0 })).rejects.toThrow(/^fit: epochs must be a positive integer, got 100000000000000000000/);
  });
  it('--epochs over the bound is refused by the CLI', () => {
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(config()));
    const r = cli('train', 'ok.json', '--epochs', '1e20');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--epochs: expected an integer in [1, 1000000], got 100000000000000000000');
  });
});

describe('compile settings', () => {
  it('lossWeights must be numbers, named by index', () => {
    expect(() => parseTrainConfig(config({ compile: { optimizer: 'sgd', loss: 'mse', lossWeights: ['str'] } }), join(dir, 'c.json'))).toThrow('compile.lossWeights[0]: expected a number, got "str"');
  });
  it("a loss named 'toString' fails at compile in the CLI, naming the file and section", () => {
    writeFileSync(join(dir, 'proto.json'), JSON.stringify(config({ compile: { optimizer: 'sgd', loss: 'toString' } })));
    const r = cli('train', 'proto.json');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kiln: proto.json: compile: getLoss: unknown loss 'toString'; known ids: mse/);
  });
});

describe('layer sizes', () => {
  it('units: 1e9 fails naming the layer and the weight, before allocating 12 GB', () => {
    const before = kiln.memory().numTensors;
    expect(() => modelFromConfig({ className: 'Sequential', config: { layers: layers(1e9) } } as never))
      .toThrow(/Dense 'dense.*': weight 'kernel': shape \[3, 1000000000\] of float32 needs 12,000,000,000 bytes, over the limit of 4,294,967,296/);
    expect(kiln.memory().numTensors).toBe(before);
  });
});

describe('output paths', () => {
  it.each(['/proc/kiln-out/model.kiln', '/proc/model.kiln'])('%s fails at once, naming the field', async (path) => {
    await expect(writableOutput(path, 'c.json: output')).rejects.toThrow(/^c.json: output: cannot write \/proc\/.*model.kiln: E[A-Z]+/);
  });
  it('a folder that is a file fails naming it', async () => {
    writeFileSync(join(dir, 'plain'), '');
    await expect(writableOutput(join(dir, 'plain', 'sub', 'm.kiln'), 'output')).rejects.toThrow(/^output: cannot write .*plain\/sub\/m.kiln: .*plain is not a folder/);
  });
  it('missing folders are made, and the probe file is gone', async () => {
    await writableOutput(join(dir, 'a', 'b', 'm.kiln'), 'output');
    expect(existsSync(join(dir, 'a', 'b'))).toBe(true);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual([]);
  });
  it('the CLI stops before training when the output is under /proc', () => {
    writeFileSync(join(dir, 'proc.json'), JSON.stringify(config({ output: '/proc/kiln-out/model.kiln' })));
    const r = cli('train', 'proc.json');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^kiln: .*proc.json: output: cannot write \/proc\/kiln-out\/model.kiln: E[A-Z]+/);
  });
});

// found by npm run fuzz: these reached Node's file calls, whose TypeError or ENAMETOOLONG named no field
describe('paths Node refuses', () => {
  it.each([
    ['a NUL character', 'x\0.npy', /^data.train.x: a path cannot contain a NUL character/],
    ['a name too long for the file system', `${'a'.repeat(5000)}.npy`, /^data.train.x: cannot read .*a{20}.*: ENAMETOOLONG$/],
    ['a file standing as a folder', 'x.npy/y.npy', /^data.train.x: cannot read .*x.npy\/y.npy: ENOTDIR$/],
  ])('a data path with %s fails naming the field', (_, path, message) => {
    expect(() => parseTrainConfig(config({ data: { train: { x: path, y: 'y.npy' } } }), join(dir, 'c.json'))).toThrow(message);
  });
  it('an output with a NUL character fails naming the field', async () => {
    await expect(writableOutput(join(dir, 'm\0.kiln'), 'output')).rejects.toThrow(/^output: a path cannot contain a NUL character/);
  });
  it('a config nested 20,000 deep fails naming the file, not with a stack overflow', async () => {
    const path = join(dir, 'deep.json');
    writeFileSync(path, JSON.stringify(config({ fit: 'DEEP' })).replace('"DEEP"', `${'['.repeat(20000)}1${']'.repeat(20000)}`));
    await expect(readTrainConfig(path)).rejects.toThrow(/deep.json: the config nests deeper than 1000 levels$/);
  });
});
