/** `.kiln` files that lie: every claim is checked against the file before anything is built from it. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { loadWeights } from '../../saving/load.js';
import { saveModel } from '../../saving/save.js';
import { writeFileAtomic } from '../../saving/atomic.js';
import { unzip, zip } from '../../saving/zip.js';
import { sha256 } from '../../saving/format.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-reliability-load-'));
let good: Map<string, Uint8Array>;

const build = () => {
  const m = new kiln.Sequential([kiln.Input({ shape: [4] }), new kiln.layers.Dense(3), new kiln.layers.Dense(2)]);
  m.compile({ optimizer: 'adam', loss: 'mse' });
  return m;
};
type Json = Record<string, any>;

/** A copy of the good file with its JSON entries edited and its binary entries replaced. */
function forged(name: string, edit: { config?: (c: Json) => void; weights?: (w: Json) => void; bin?: (b: Buffer) => Buffer; meta?: (m: Json) => void; keepHashes?: boolean }): string {
  const entries = new Map(good);
  const json = (entry: string, f?: (j: Json) => void) => {
    if (!f) return;
    const j = JSON.parse(Buffer.from(entries.get(entry)!).toString('utf8'));
    f(j);
    entries.set(entry, Buffer.from(JSON.stringify(j)));
  };
  json('config.json', edit.config);
  json('weights.json', edit.weights);
  json('metadata.json', edit.meta);
  if (edit.bin) entries.set('weights.bin', edit.bin(Buffer.from(entries.get('weights.bin')!)));
  // fresh SHA-256s unless asked: the forger knows the format, and each check below must hold without the hash
  if (!edit.keepHashes) json('metadata.json', (m) => { m.sha256 = hashes(entries); });
  const path = join(dir, name);
  writeFileSync(path, zip([...entries].map(([n, data]) => ({ name: n, data }))));
  return path;
}

const hashes = (entries: Map<string, Uint8Array>) => Object.fromEntries([...entries].filter(([n]) => n !== 'metadata.json').map(([n, data]) => [n, sha256(data)]));

beforeAll(async () => {
  kiln.setSeed(1);
  const m = build();
  await m.fit(kiln.ones([8, 4]), kiln.ones([8, 2]), { epochs: 1, verbose: 0 });
  await saveModel(m, join(dir, 'good.kiln'));
  good = unzip(await readFile(join(dir, 'good.kiln')), 'test', 'good.kiln');
  m.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Expects `load` to fail with `message` and to leave kiln.memory() as it was. */
async function refused(load: () => Promise<unknown>, message: RegExp): Promise<void> {
  const before = kiln.memory().numTensors;
  await expect(load()).rejects.toThrow(message);
  expect(kiln.memory().numTensors).toBe(before);
}

describe('loadModel', () => {
  it('loads the good file', async () => {
    const m = await kiln.loadModel(join(dir, 'good.kiln'));
    expect(m.getWeightVariables()).toHaveLength(4);
    m.compiled?.optimizer.dispose();
    m.dispose();
  });

  it('refuses a config far larger than its weights before initializing it', async () => {
    const path = forged('huge.kiln', { config: (c) => { c.config.layers[1].config.units = 1e8; } });
    await refused(() => kiln.loadModel(path), /^loadModel: .*huge.kiln: cannot rebuild the model from config.json: Dense 'dense.*': weight 'kernel': shape \[4, 100000000\] of float32 needs 1,600,000,000 bytes, but only \d+ are left of the \d+ bytes of weights the file holds/);
  });

  it('refuses overlapping ranges (a bias reading kernel bytes)', async () => {
    const path = forged('overlap.kiln', { weights: (w) => { w.weights[1].byteOffset = 8; } });
    await refused(() => kiln.loadModel(path), /weights.json: tensors '.*' \(bytes 0\.\.48\) and '.*' \(from byte 8\) overlap: the file is corrupt/);
  });

  it('refuses a misaligned range', async () => {
    const path = forged('misaligned.kiln', { weights: (w) => { w.weights[1].byteOffset += 4; } });
    await refused(() => kiln.loadModel(path), /weights.json: tensor '.*bias' starts at byte 52, not a multiple of 8 as the format requires/);
  });

  it('refuses non-finite weights unless asked, naming the tensor and element', async () => {
    const path = forged('nan.kiln', { bin: (b) => { b.writeFloatLE(NaN, 4); return b; } });
    await refused(() => kiln.loadModel(path), /weights.json: tensor '.*kernel' holds NaN at element 1; load with \{ allowNonFinite: true \}/);
    const m = await kiln.loadModel(path, { allowNonFinite: true });
    expect(Number.isNaN((await m.getWeightVariables()[0].value.data())[1])).toBe(true);
    m.compiled?.optimizer.dispose();
    m.dispose();
  });

  it.each([
    ['a weight count mismatch', { weights: (w: Json) => { w.weights.pop(); } }],
    ['an unknown layer', { config: (c: Json) => { c.config.layers[2].className = 'NoSuchLayer'; } }],
    ['a shape mismatch', { config: (c: Json) => { c.config.layers[2].config.units = 1; } }],
  ])('leaves memory as it was after %s, 50 times over', async (_, edit) => {
    const path = forged('bad.kiln', edit);
    const before = kiln.memory().numTensors;
    for (let i = 0; i < 50; i++) await expect(kiln.loadModel(path)).rejects.toThrow(/^loadModel: /);
    expect(kiln.memory().numTensors).toBe(before);
  });
});

describe('SHA-256 per entry (format version 2)', () => {
  it('saves a hash for every entry but metadata.json', () => {
    const meta = JSON.parse(Buffer.from(good.get('metadata.json')!).toString('utf8'));
    expect(meta.formatVersion).toBe(2);
    expect(meta.sha256).toEqual(hashes(good));
  });
  it('refuses an entry edited without its hash, naming it', async () => {
    const path = forged('edited.kiln', { config: (c) => { c.config.layers[1].config.activation = 'relu'; }, keepHashes: true });
    await refused(() => kiln.loadModel(path), /^loadModel: .*edited.kiln: entry 'config.json' fails its SHA-256 check \(metadata.json says [0-9a-f]{16}…, computed [0-9a-f]{16}…\): the file was altered/);
  });
  it.each([
    ['a hash dropped', (m: Json) => { delete m.sha256['weights.bin']; }, /metadata.json gives no SHA-256 for entry 'weights.bin'/],
    ['no hashes at all', (m: Json) => { delete m.sha256; }, /metadata.json of format version 2 needs a sha256 object, got undefined/],
    ['a listed entry missing', (m: Json) => { m.sha256['extra.bin'] = '00'; }, /metadata.json lists entry 'extra.bin', which the file does not hold/],
  ])('refuses %s', async (_, meta, message) => {
    const path = forged('hashes.kiln', { meta, keepHashes: true });
    await refused(() => kiln.loadModel(path), message);
  });
  it('still loads a version 1 file, which has no hashes', async () => {
    const path = forged('v1.kiln', { meta: (m) => { m.formatVersion = 1; delete m.sha256; }, keepHashes: true });
    const m = await kiln.loadModel(path);
    expect(m.getWeightVariables()).toHaveLength(4);
    m.compiled?.optimizer.dispose();
    m.dispose();
  });
});

describe('deeply nested configs', () => {
  /** The good file with `text` in place of its second layer (config.json) or first dtype (weights.json), written as text: JSON.stringify itself recurses, and overflows near 5,000 levels. */
  async function withLayerText(name: string, entry: 'config.json' | 'weights.json', text: string): Promise<string> {
    const path = forged(name, entry === 'config.json' ? { config: (c) => { c.config.layers = [c.config.layers[0], 'DEEP']; } } : { weights: (w) => { w.weights[0].dtype = 'DEEP'; } });
    const entries = unzip(await readFile(path), 'test', path);
    entries.set(entry, Buffer.from(Buffer.from(entries.get(entry)!).toString('utf8').replace('"DEEP"', text)));
    const meta = JSON.parse(Buffer.from(entries.get('metadata.json')!).toString('utf8'));
    entries.set('metadata.json', Buffer.from(JSON.stringify({ ...meta, sha256: hashes(entries) })));
    writeFileSync(path, zip([...entries].map(([n, data]) => ({ name: n, data }))));
    return path;
  }
  it('a model nested 200 deep fails naming the file, not with a stack overflow', async () => {
    const deep = `${'{"className":"Sequential","config":{"layers":['.repeat(200)}{"className":"Dense","config":{"units":2}}${']}}'.repeat(200)}`;
    const path = await withLayerText('deep.kiln', 'config.json', deep);
    await refused(() => kiln.loadModel(path), /^loadModel: .*deep.kiln: cannot rebuild the model from config.json: modelFromConfig: models are nested more than 100 deep/);
  });
  it.each([
    ['config.json', `${'{"className":"Sequential","config":{"layers":['.repeat(5000)}1${']}}'.repeat(5000)}`],
    // found by npm run fuzz: the manifest's error message printed the dtype with JSON.stringify, which overflowed
    ['weights.json', `${'['.repeat(20000)}1${']'.repeat(20000)}`],
  ] as const)('%s nested 5,000 or more levels deep is refused before anything walks it', async (entry, text) => {
    const path = await withLayerText('deeper.kiln', entry, text);
    await refused(() => kiln.loadModel(path), new RegExp(`^loadModel: .*deeper.kiln: ${entry} nests deeper than 1000 levels$`));
  });
});

describe('loadWeights', () => {
  it('refuses overlap and non-finite values, leaving the model and memory as they were', async () => {
    const m = build();
    const kernel = await m.getWeightVariables()[0].value.data();
    await refused(() => loadWeights(m, forged('o2.kiln', { weights: (w) => { w.weights[3].byteOffset = 48; } })), /overlap/);
    await refused(() => m.loadWeights(forged('inf.kiln', { bin: (b) => { b.writeFloatLE(Infinity, 0); return b; } })), /holds Infinity at element 0/);
    expect(await m.getWeightVariables()[0].value.data()).toEqual(kernel);
    m.dispose();
  });
});

describe('atomic saves', () => {
  it('removes the temporary file a killed save left, on the next save of that file', async () => {
    const sub = mkdtempSync(join(dir, 'atomic-'));
    // no process has pid 2^22 + 1 (above Linux's pid_max default and most configured ones)
    const stale = `.m.kiln.${2 ** 22 + 1}.0123456789ab.tmp`;
    const live = `.m.kiln.${process.pid}.0123456789ab.tmp`;
    const other = `.n.kiln.${2 ** 22 + 1}.0123456789ab.tmp`;
    for (const f of [stale, live, other]) writeFileSync(join(sub, f), 'partial');
    await writeFileAtomic(join(sub, 'm.kiln'), 'new');
    expect(readdirSync(sub).sort()).toEqual([live, other, 'm.kiln'].sort());
  });
  it('removes its own temporary file when the write fails', async () => {
    const sub = mkdtempSync(join(dir, 'atomic-'));
    // a folder where the file should go: the temporary file is written, the rename fails
    mkdirSync(join(sub, 'm.kiln'));
    await expect(writeFileAtomic(join(sub, 'm.kiln'), 'new')).rejects.toThrow(/^writeFileAtomic: cannot write .*m.kiln \(the previous file, if any, is unchanged\)/);
    expect(readdirSync(sub)).toEqual(['m.kiln']);
  });
});
