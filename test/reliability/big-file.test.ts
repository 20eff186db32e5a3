/**
 * A model file over 2 GiB saves and loads (docs/format.md promises files up to 4 GiB, the zip
 * limit without ZIP64). Node refuses single reads, writes and hash updates of 2 GiB, so each
 * goes in pieces; this checks the pieces join up. It needs ~7 GB of memory, 2.3 GB of disk and
 * minutes, so it runs only with KILN_BIG_FILES=1 (docs/reliability.md records a run).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const run = process.env.KILN_BIG_FILES === '1';
const dir = mkdtempSync(join(tmpdir(), 'kiln-big-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!run)('files over 2 GiB (KILN_BIG_FILES=1; skipped otherwise: it takes ~7 GB of memory and minutes)', () => {
  it('a model of 2.2 GB of weights saves, and loads with every weight in place', async () => {
    await kiln.setBackend('native');
    // two kernels of 16384 × 17000 floats (1.11 GB each); the second one's values are their index
    // modulo 1000, so a piece read or written at the wrong offset shows
    const model = new kiln.Sequential([kiln.Input({ shape: [16384] }), new kiln.layers.Dense(17000, { useBias: false, kernelInitializer: 'zeros' }), new kiln.layers.Dense(16384, { useBias: false, kernelInitializer: 'zeros' })]);
    const second = new Float32Array(17000 * 16384);
    for (let i = 0; i < second.length; i++) second[i] = i % 1000;
    model.layers[1].setWeights([second]);
    const path = join(dir, 'big.kiln');
    await model.save(path);
    expect(statSync(path).size).toBeGreaterThan(2 ** 31);
    model.dispose();
    const loaded = await kiln.loadModel(path);
    const [kernel] = loaded.layers[1].getWeights();
    const values = (await kernel.data()) as Float32Array;
    // every 4093rd element (a prime stride, so pieces of any power-of-two size are all visited)
    for (let i = 0; i < values.length; i += 4093) if (values[i] !== i % 1000) expect.fail(`element ${i} is ${values[i]}, saved ${i % 1000}`);
    expect(values[values.length - 1]).toBe((values.length - 1) % 1000);
    loaded.dispose();
  }, 1_800_000);
});
