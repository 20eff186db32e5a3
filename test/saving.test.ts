import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as kiln from '../index.js';
import { Add, Concatenate, Dense, Dropout, Input, Layer, registerLayer, type LayerClass, type LayerConfig } from '../layers/index.js';
import { Model } from '../models/model.js';
import { Sequential } from '../models/sequential.js';
import { modelFromConfig, modelToConfig } from '../models/serialize.js';
import { writeFileAtomic } from '../saving/atomic.js';
import { loadModel, loadWeights } from '../saving/load.js';
import { saveModel, saveWeights } from '../saving/save.js';
import { crc32, unzip, zip } from '../saving/zip.js';
import { sha256 } from '../saving/format.js';

// one rename can be made to fail, to check that a failed write leaves the previous file alone
const failRename = vi.hoisted(() => ({ next: false }));
vi.mock('node:fs/promises', async (original) => {
  const fs = await original<typeof import('node:fs/promises')>();
  return {
    ...fs,
    rename: async (from: string, to: string) => {
      if (failRename.next) {
        failRename.next = false;
        throw new Error('injected rename failure');
      }
      return fs.rename(from, to);
    },
  };
});

registerLayer(Sequential as unknown as LayerClass);

/** A custom layer with a weight and a config option, loadable once registered. */
class Scale extends Layer {
  static readonly className = 'Scale';
  factor: kiln.Variable | null = null;
  constructor(readonly init: number, args: { name?: string } = {}) {
    super(args);
  }
  override build(shape: readonly (number | null)[]): void {
    this.factor = this.addWeight('factor', [shape.at(-1)!], { initializer: { className: 'Constant', config: { value: this.init } } });
  }
  call(x: kiln.Tensor): kiln.Tensor {
    return kiln.ops.multiply(x, this.factor!);
  }
  override getConfig(): LayerConfig {
    return { ...super.getConfig(), init: this.init };
  }
  static fromConfig(config: LayerConfig): Scale {
    return new Scale(config.init as number, { name: config.name });
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-saving-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The standard unzip tool, for a cross-check of the archive format; CI installs it (.ci/run). */
const HAS_UNZIP = (() => {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    console.log('test/saving: the unzip cross-check is skipped, the unzip command is not installed (apt-get install -y unzip)');
    return false;
  }
})();

const values = (t: kiln.Tensor | kiln.Tensor[]) => (Array.isArray(t) ? t : [t]).map((x) => Array.from(x.dataSync()));
const x4 = () => kiln.tensor([[0.5, -1, 2, 0.25], [1, 1, -3, 0], [0.1, 0.2, 0.3, 0.4]]);

function mlp(): Sequential {
  return new Sequential([Input({ shape: [4] }), new Dense(8, { activation: 'relu' }), new Dense(3, { activation: 'softmax' })]);
}

describe('zip', () => {
  const entries = [{ name: 'a.json', data: Buffer.from('{"x":1}') }, { name: 'dir/b.bin', data: new Uint8Array([1, 2, 3, 4, 5]) }];

  it('round-trips entries, aligns their data to 64 bytes and checks CRC-32', () => {
    const file = zip(entries);
    const back = unzip(file, 'test', 'f.zip');
    expect([...back.keys()]).toEqual(['a.json', 'dir/b.bin']);
    expect(Array.from(back.get('dir/b.bin')!)).toEqual([1, 2, 3, 4, 5]);
    for (const data of back.values()) expect(data.byteOffset % 64).toBe(file.byteOffset % 64);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it.skipIf(!HAS_UNZIP)('is read by the standard unzip tool', async () => {
    const path = join(dir, 'plain.zip');
    await writeFile(path, zip(entries));
    expect(execFileSync('unzip', ['-l', path], { encoding: 'utf8' })).toContain('dir/b.bin');
    expect(execFileSync('unzip', ['-tq', path], { encoding: 'utf8' })).toMatch(/No errors/);
  });

  it('rejects foreign, truncated, corrupt and compressed archives', () => {
    const file = zip(entries);
    expect(() => unzip(Buffer.from('hello, not a zip'), 'op', 'x')).toThrow('op: x is not a kiln file (no zip end-of-central-directory record');
    expect(() => unzip(file.subarray(0, file.length - 10), 'op', 'x')).toThrow(/no zip end-of-central-directory record/);
    const corrupt = Buffer.from(file);
    corrupt[unzip(file, 'op', 'x').get('dir/b.bin')!.byteOffset - file.byteOffset] ^= 0xff;
    expect(() => unzip(corrupt, 'op', 'x')).toThrow(/entry 'dir\/b.bin' fails its CRC-32 check/);
    const deflated = Buffer.from(file);
    deflated.writeUInt16LE(8, file.indexOf(Buffer.from([0x50, 0x4b, 1, 2])) + 10);
    expect(() => unzip(deflated, 'op', 'x')).toThrow(/entry 'a.json' is compressed \(method 8\)/);
  });

  it('refuses archives that need ZIP64', () => {
    const huge = { length: 2 ** 32, byteLength: 2 ** 32 } as Uint8Array;
    expect(() => zip([{ name: 'weights.bin', data: huge }])).toThrow(/entry 'weights.bin' \(4294967296 bytes at offset 0\) needs ZIP64, which kiln does not write: a save file must stay under 4 GiB/);
  });
});

describe('writeFileAtomic', () => {
  it('writes and replaces a file, leaving no temporary file', async () => {
    const path = join(dir, 'atomic.txt');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, [Buffer.from('tw'), Buffer.from('o')]);
    expect(await readFile(path, 'utf8')).toBe('two');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('names the missing folder', async () => {
    const path = join(dir, 'no-such-dir', 'f.kiln');
    await expect(writeFileAtomic(path, 'x')).rejects.toThrow(`cannot write ${path}: the folder ${join(dir, 'no-such-dir')} does not exist`);
  });

  it('keeps the previous file when writing or renaming fails', async () => {
    const path = join(dir, 'keep.txt');
    await writeFileAtomic(path, 'previous');
    const broken = { get byteLength(): number { throw new Error('injected write failure'); } } as unknown as Uint8Array;
    await expect(writeFileAtomic(path, [Buffer.from('partial'), broken])).rejects.toThrow(/previous file, if any, is unchanged\): injected write failure/);
    failRename.next = true;
    await expect(writeFileAtomic(path, 'new')).rejects.toThrow(/injected rename failure/);
    expect(await readFile(path, 'utf8')).toBe('previous');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('saveModel / loadModel', () => {
  it('round-trips a Sequential model: same config and predictions, inspectable file', async () => {
    const model = mlp();
    const path = join(dir, 'mlp.kiln');
    await saveModel(model, path);
    const listing = [...unzip(await readFile(path), 't', path).keys()];
    expect(listing).toEqual(['metadata.json', 'config.json', 'weights.json', 'weights.bin', 'optimizer.json', 'optimizer.bin']);
    const loaded = await loadModel(path);
    expect(loaded).toBeInstanceOf(Sequential);
    expect(modelToConfig(loaded)).toEqual(modelToConfig(model));
    expect(values(loaded.predictOnBatch(x4()))).toEqual(values(model.predictOnBatch(x4())));
  });

  it('round-trips a Functional model with two inputs and outputs, a shared layer and a nested model', async () => {
    const inner = (() => {
      const i = Input({ shape: [4] });
      return new Model({ inputs: i, outputs: new Dense(4, { activation: 'tanh' }).apply(i) as never, name: 'inner' });
    })();
    const a = Input({ shape: [4], name: 'a' });
    const b = Input({ shape: [4], name: 'b' });
    const shared = new Dense(4, { name: 'shared' });
    const sa = shared.apply(a) as never;
    const sb = shared.apply(b) as never;
    const sum = new Add().apply([sa, inner.apply(sb) as never]) as never;
    const scaled = new Scale(0.5).apply(sum) as never;
    const out1 = new Dense(2, { name: 'head1' }).apply(new Concatenate().apply([scaled, sa]) as never);
    const tower = new Sequential([new Dense(3, { activation: 'relu' }), new Dense(1)], { name: 'tower' });
    const out2 = tower.apply(new Dropout(0.5).apply(sb, { training: false }) as never);
    const model = new Model({ inputs: [a, b], outputs: [out1, out2] as never, name: 'two_heads' });
    registerLayer(Scale);
    const config = modelToConfig(model);
    const sharedEntry = (config.config as { layers: { name: string; inboundNodes: unknown[] }[] }).layers.find((l) => l.name === 'shared')!;
    expect(sharedEntry.inboundNodes).toEqual([[['a', 0, 0]], [['b', 0, 0]]]);
    expect(JSON.stringify(config)).toContain('"training":false');

    const path = join(dir, 'graph.kiln');
    await saveModel(model, path);
    const loaded = await loadModel(path);
    expect(modelToConfig(loaded)).toEqual(config);
    const xs = [x4(), kiln.tensor([[1, 0, 0, 1], [2, 2, 2, 2], [-1, 0.5, 0, 3]])];
    expect(values(loaded.predictOnBatch(xs))).toEqual(values(model.predictOnBatch(xs)));
  });

  it('keeps named outputs', async () => {
    const i = Input({ shape: [4] });
    const model = new Model({ inputs: i, outputs: { score: new Dense(1).apply(i), aux: new Dense(2).apply(i) } as never });
    const path = join(dir, 'named.kiln');
    await saveModel(model, path);
    const loaded = await loadModel(path);
    expect(loaded.outputNames).toEqual(['score', 'aux']);
    expect(values(loaded.predictOnBatch(x4()))).toEqual(values(model.predictOnBatch(x4())));
  });

  it('loads custom layers through customObjects too, and a config rebuilds without weights', () => {
    const model = new Sequential([Input({ shape: [4] }), new Scale(3, { name: 'scale_custom' })]);
    const rebuilt = modelFromConfig(JSON.parse(JSON.stringify(modelToConfig(model))), { Scale });
    expect(rebuilt.getWeightVariables().map((v) => v.name)).toEqual(['scale_custom/factor']);
  });

  it('restores compile settings and optimizer state: 3 steps + save + load + 3 steps = 6 steps', async () => {
    const x = x4();
    const y = kiln.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const make = (from?: Sequential) => {
      const m = mlp();
      if (from) m.setWeights(from.getWeights());
      m.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.05 }), loss: 'categorical_crossentropy', metrics: ['accuracy'] });
      return m;
    };
    const straight = make();
    const resumed = make(straight);
    const expected: number[] = [];
    for (let i = 0; i < 6; i++) expected.push((await straight.trainOnBatch(x, y)).loss);
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) losses.push((await resumed.trainOnBatch(x, y)).loss);
    const path = join(dir, 'resume.kiln');
    await saveModel(resumed, path);
    const loaded = await loadModel(path);
    expect(loaded.optimizer?.iterations).toBe(3);
    for (let i = 0; i < 3; i++) losses.push((await loaded.trainOnBatch(x, y)).loss);
    expect(losses).toEqual(expected);
    expect(Object.keys(await loaded.testOnBatch(x, y))).toEqual(['loss', 'accuracy']);
    expect((await loadModel(path, { compile: false })).compiled).toBeNull();
  });

  it('refuses to overwrite when asked, and keeps the previous file when saving fails', async () => {
    const path = join(dir, 'keep.kiln');
    await saveModel(mlp(), path);
    const before = await readFile(path);
    await expect(saveModel(mlp(), path, { overwrite: false })).rejects.toThrow(`saveModel: ${path} already exists; pass { overwrite: true } to replace it`);
    failRename.next = true;
    await expect(saveModel(mlp(), path)).rejects.toThrow(/injected rename failure/);
    expect(await readFile(path)).toEqual(before);
    await expect(saveModel(mlp(), join(dir, 'missing', 'm.kiln'))).rejects.toThrow(/the folder .*missing does not exist/);
    class Subclassed extends Model {
      override call(x: kiln.Tensor): kiln.Tensor {
        return x;
      }
    }
    await expect(saveModel(new Subclassed(), path)).rejects.toThrow(/is subclassed: its call\(\) is code.*Save its weights with saveWeights/);
    expect(await readFile(path)).toEqual(before);
  });
});

describe('saveWeights / loadWeights', () => {
  it('moves weights into another build of the same architecture', async () => {
    const source = mlp();
    const target = mlp();
    const path = join(dir, 'mlp.weights.kiln');
    await saveWeights(source, path);
    await loadWeights(target, path);
    expect(values(target.predictOnBatch(x4()))).toEqual(values(source.predictOnBatch(x4())));
    await expect(loadModel(path)).rejects.toThrow(/is a kiln weights file, expected a model file: it holds only weights/);
  });

  it('names the weight and both shapes on a mismatch, and counts weights', async () => {
    const path = join(dir, 'mismatch.weights.kiln');
    await saveWeights(mlp(), path);
    const wider = new Sequential([Input({ shape: [4] }), new Dense(8), new Dense(5, { name: 'wide' })]);
    await expect(loadWeights(wider, path)).rejects.toThrow("weight 'wide/kernel' is float32 [8,3] in the file but float32 [8,5] in the model");
    await expect(loadWeights(new Sequential([Input({ shape: [4] }), new Dense(8)]), path)).rejects.toThrow(/holds 4 weights but the model has 2/);
  });
});

describe('damaged and foreign files', () => {
  let good: Buffer;
  const path = join(tmpdir(), 'never-written.kiln');
  beforeAll(async () => {
    await saveModel(mlp(), join(dir, 'good.kiln'));
    good = await readFile(join(dir, 'good.kiln'));
  });
  const load = async (bytes: Uint8Array, name: string) => {
    const p = join(dir, name);
    await writeFile(p, bytes);
    return loadModel(p);
  };
  // the patched entries get fresh SHA-256s, so each check below is reached as if the editor knew the format
  const rezip = (patch: (files: Map<string, Uint8Array>) => void) => {
    const files = new Map(unzip(good, 't', 'good'));
    patch(files);
    const meta = JSON.parse(Buffer.from(files.get('metadata.json')!).toString());
    meta.sha256 = Object.fromEntries([...files].filter(([name]) => name !== 'metadata.json').map(([name, data]) => [name, sha256(data)]));
    files.set('metadata.json', Buffer.from(JSON.stringify(meta)));
    return zip([...files].map(([name, data]) => ({ name, data })));
  };
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const parsed = (files: Map<string, Uint8Array>, name: string) => JSON.parse(Buffer.from(files.get(name)!).toString());

  it('reports missing, foreign, truncated and corrupt files', async () => {
    await expect(loadModel(path)).rejects.toThrow(`loadModel: ${path} does not exist`);
    const foreign = join(dir, 'foreign.kiln');
    await expect(load(Buffer.from('{"not": "a zip"}'), 'foreign.kiln')).rejects.toThrow(`loadModel: ${foreign} is not a kiln file (no zip end-of-central-directory record`);
    await expect(load(good.subarray(0, good.length >> 1), 'half.kiln')).rejects.toThrow(/no zip end-of-central-directory record/);
    const flipped = Buffer.from(good);
    flipped[good.length >> 1] ^= 0x55;
    await expect(load(flipped, 'flipped.kiln')).rejects.toThrow(/fails its CRC-32 check|is not a valid kiln file/);
    await expect(load(zip([{ name: 'readme.txt', data: Buffer.from('hi') }]), 'other.zip')).rejects.toThrow(/has no metadata.json/);
  });

  it('checks the format name and version', async () => {
    const wrongName = rezip((f) => f.set('metadata.json', json({ ...parsed(f, 'metadata.json'), format: 'keras' })));
    await expect(load(wrongName, 'keras.kiln')).rejects.toThrow(/names format "keras", expected "kiln"/);
    const newer = rezip((f) => f.set('metadata.json', json({ ...parsed(f, 'metadata.json'), formatVersion: 7, kilnVersion: '9.0.0' })));
    await expect(load(newer, 'newer.kiln')).rejects.toThrow(/has format version 7 \(written by kiln 9.0.0\), but this kiln reads versions up to 2/);
  });

  it('checks every manifest entry against weights.bin and the model', async () => {
    const edit = (change: (w: Record<string, unknown>) => void) => rezip((f) => {
      const m = parsed(f, 'weights.json');
      change(m.weights[0]);
      f.set('weights.json', json(m));
    });
    await expect(load(edit((w) => (w.dtype = 'float16')), 'dtype.kiln')).rejects.toThrow(/tensor 'dense(_\d+)?\/kernel' has unknown dtype "float16"/);
    await expect(load(edit((w) => (w.byteLength = 12)), 'len.kiln')).rejects.toThrow(/has byteLength 12, but float32 \[4,8\] takes 128 bytes/);
    await expect(load(edit((w) => (w.byteOffset = 1 << 20)), 'off.kiln')).rejects.toThrow(/lies outside the data/);
    await expect(load(edit((w) => { w.shape = [8, 4]; }), 'shape.kiln')).rejects.toThrow(/weight 'dense(_\d+)?\/kernel' is float32 \[8,4\] in the file but float32 \[4,8\] in the model/);
    await expect(load(rezip((f) => f.set('weights.bin', new Uint8Array(16))), 'short.kiln')).rejects.toThrow(/lies outside the data/);
  });
});
