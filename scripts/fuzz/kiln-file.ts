/**
 * `.kiln` files: a small saved model, its bytes mutated (so the zip, CRC or SHA-256 checks must
 * catch it) or its entries edited and re-hashed as a forger would (so the checks behind the
 * hashes must). A file that loads must predict exactly as the original does.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as kiln from '../../index.js';
import { sha256 } from '../../saving/format.js';
import { unzip, zip } from '../../saving/zip.js';
import { jsonPaths, mutateBytes, mutateJson, stringify, type Rng } from './mutate.js';
import { ACCEPTED, type Target } from './target.js';

interface Base {
  bytes: Uint8Array;
  entries: Map<string, Uint8Array>;
  x: kiln.Tensor;
  predictions: Float32Array;
}

/** The JSON entries a forger edits; metadata.json is rewritten with their new hashes. */
const JSON_ENTRIES = ['config.json', 'weights.json', 'optimizer.json'];

async function predict(model: kiln.Model, x: kiln.Tensor): Promise<Float32Array> {
  const y = (await model.predict(x)) as kiln.Tensor;
  const values = new Float32Array(await y.data());
  y.dispose();
  return values;
}

/** The archive with its JSON entries edited, entries dropped or duplicated, and fresh SHA-256s unless `stale`. */
function forge(rng: Rng, base: Base): { bytes: Uint8Array; what: string } {
  const entries = [...base.entries].map(([name, data]) => ({ name, data }));
  const edits: string[] = [];
  const choice = rng.int(10);
  if (choice === 0) {
    const k = rng.int(entries.length);
    edits.push(`drop ${entries[k].name}`);
    entries.splice(k, 1);
  } else if (choice === 1) {
    const k = rng.int(entries.length);
    edits.push(`duplicate ${entries[k].name}`);
    entries.push(entries[k]);
  } else {
    // each entry is parsed once and written once: a deeply nested edit exists only as text (stringify)
    const parsed = new Map<(typeof entries)[number], unknown>();
    for (let n = 1 + rng.int(2); n > 0; n--) {
      const entry = rng.pick(entries.filter((e) => JSON_ENTRIES.includes(e.name)));
      if (!parsed.has(entry)) parsed.set(entry, JSON.parse(Buffer.from(entry.data).toString('utf8')));
      const json = parsed.get(entry);
      // most edits aim at the fields the issue names: layer units and shapes, manifest ranges
      const aimed = jsonPaths(json).filter((p) => ['units', 'shape', 'batchShape', 'offset', 'byteLength', 'dtype', 'kernelSize', 'filters'].includes(String(p[p.length - 1])) || typeof p[p.length - 1] === 'number');
      const what = mutateJson(rng, json, aimed.length && rng.chance(0.7) ? aimed : undefined);
      edits.push(`${entry.name}: ${what}`);
    }
    for (const [entry, json] of parsed) entry.data = Buffer.from(stringify(json));
  }
  const stale = rng.chance(0.15);
  if (!stale) {
    const meta = entries.find((e) => e.name === 'metadata.json');
    if (meta) {
      const m = JSON.parse(Buffer.from(meta.data).toString('utf8'));
      m.sha256 = Object.fromEntries(entries.filter((e) => e.name !== 'metadata.json').map((e) => [e.name, sha256(e.data)]));
      meta.data = Buffer.from(JSON.stringify(m));
    }
  }
  // zip refuses duplicate names, so a duplicated entry is written as two archives' worth of headers
  const seen = new Set<string>();
  const unique = entries.filter((e) => !seen.has(e.name) && seen.add(e.name));
  const bytes = unique.length === entries.length ? zip(entries) : withDuplicate(unique, entries[entries.length - 1].name);
  return { bytes, what: `${edits.join('; ')}${stale ? ' (hashes left stale)' : ''}` };
}

/** An archive where `name` appears twice: zipped under a placeholder of the same length, then renamed in place. */
function withDuplicate(entries: { name: string; data: Uint8Array }[], name: string): Buffer {
  const twin = `${name.slice(0, -1)}~`;
  const data = entries.find((e) => e.name === name)!.data;
  const out = zip([...entries, { name: twin, data }]);
  const from = Buffer.from(twin);
  for (let p = out.indexOf(from); p >= 0; p = out.indexOf(from, p + 1)) Buffer.from(name).copy(out, p);
  return out;
}

export const kilnFile: Target<Base> = {
  async setup(dir) {
    kiln.setSeed(7);
    const m = new kiln.Sequential([kiln.Input({ shape: [4] }), new kiln.layers.Dense(3, { activation: 'relu' }), new kiln.layers.Dense(2)]);
    m.compile({ optimizer: 'adam', loss: 'mse' });
    await m.fit(kiln.random.normal([8, 4]), kiln.random.normal([8, 2]), { epochs: 1, verbose: 0 });
    const path = join(dir, 'base.kiln');
    await m.save(path);
    const bytes = readFileSync(path);
    const x = kiln.random.normal([5, 4]);
    const base = { bytes, entries: unzip(bytes, 'fuzz', path), x, predictions: await predict(m, x) };
    m.dispose();
    return base;
  },
  make(base, rng, dir) {
    const { bytes, what } = rng.chance(0.35) ? mutateBytes(rng, base.bytes) : forge(rng, base);
    return {
      what,
      async run() {
        const path = join(dir, 'case.kiln');
        writeFileSync(path, bytes);
        const model = await kiln.loadModel(path);
        const got = await predict(model, base.x);
        model.compiled?.optimizer.dispose();
        model.dispose();
        const same = got.length === base.predictions.length && got.every((v, i) => Object.is(v, base.predictions[i]));
        return same ? ACCEPTED : { kind: 'silent', detail: `predictions ${[...got.slice(0, 4)]} instead of ${[...base.predictions.slice(0, 4)]}` };
      },
    };
  },
};
