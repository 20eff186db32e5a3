/**
 * A CSV file larger than memory trains through Dataset.fromCsv: a ≥ 1 GB file streams
 * through one epoch of fit with the process's peak RSS under 500 MB. It needs 1 GB of disk and
 * more than a minute, so it runs only with KILN_BIG_FILES=1 (docs/reliability.md records a run).
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const run = process.env.KILN_BIG_FILES === '1';
const dir = mkdtempSync(join(tmpdir(), 'kiln-big-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FEATURES = 8;
const WEIGHTS = [0.5, -1, 0.25, 2, -0.75, 1.5, -0.5, 1];
const BATCH = 4096;

/** Writes rows of y = WEIGHTS · x until the file passes `bytes`; returns the number of rows. */
async function writeCsv(path: string, bytes: number): Promise<number> {
  // a pool of distinct rows from an LCG, written in a shifting cycle: fast to make, not one block repeated
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 4 - 2;
  const pool = Array.from({ length: 9973 }, () => {
    const x = Array.from({ length: FEATURES }, next);
    const y = x.reduce((a, v, j) => a + v * WEIGHTS[j], 0);
    return `${x.map((v) => v.toFixed(6)).join(',')},${y.toFixed(6)}\n`;
  });
  const out = createWriteStream(path);
  out.write(`${Array.from({ length: FEATURES }, (_, j) => `x${j}`).join(',')},y\n`);
  let written = 0;
  let rows = 0;
  for (let shift = 0; written < bytes; shift++) {
    const chunk = pool.slice(shift % pool.length).concat(pool.slice(0, shift % pool.length)).join('');
    written += chunk.length;
    rows += pool.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return rows;
}

describe.skipIf(!run)('a CSV file over 1 GB (KILN_BIG_FILES=1; skipped otherwise: it takes 1 GB of disk and minutes)', () => {
  it('streams through one epoch of fit with peak RSS under 500 MB', async () => {
    const backends = await kiln.listBackends();
    if (backends.some((b) => b.name === 'native' && b.available)) await kiln.setBackend('native');
    const path = join(dir, 'big.csv');
    const t0 = performance.now();
    const rows = await writeCsv(path, 1.05e9);
    expect(statSync(path).size).toBeGreaterThan(1e9);
    const written = performance.now();

    const model = new kiln.Sequential([kiln.Input({ shape: [FEATURES] }), new kiln.layers.Dense(1)]);
    model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.01 }), loss: 'mse' });
    let steps = 0;
    let peak = 0;
    const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));
    const timer = setInterval(sample, 50);
    const counter = new (class extends kiln.callbacks.Callback {
      override onTrainBatchBegin(): void {
        steps++;
        if (steps % 64 === 0) sample();
      }
    })();
    let history: kiln.callbacks.History;
    try {
      history = await model.fit(kiln.data.Dataset.fromCsv(path, { label: 'y', batchSize: BATCH }).prefetch(2), undefined, { epochs: 1, verbose: 0, callbacks: [counter] });
    } finally {
      clearInterval(timer);
    }
    sample();
    const trained = performance.now();
    rmSync(path);

    expect(steps).toBe(Math.ceil(rows / BATCH));
    // y is exactly linear in x: one epoch finds the weights
    const [kernel, bias] = model.getWeights();
    ((await kernel.data()) as Float32Array).forEach((w, j) => expect(w).toBeCloseTo(WEIGHTS[j], 1));
    expect(((await bias.data()) as Float32Array)[0]).toBeCloseTo(0, 1);
    expect(Number.isFinite(history.history.loss[0])).toBe(true);
    const peakMB = peak / 2 ** 20;
    console.log(`big CSV (${kiln.getBackend()} backend): ${rows} rows, ${(1.05e9 / 2 ** 30).toFixed(2)} GiB; written in ${((written - t0) / 1000).toFixed(1)} s, `
      + `one epoch of fit in ${((trained - written) / 1000).toFixed(1)} s (${steps} steps of ${BATCH}); peak RSS ${peakMB.toFixed(0)} MB `
      + `(process maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB); loss ${history.history.loss[0].toFixed(5)}`);
    expect(peakMB).toBeLessThan(500);
    model.dispose();
  }, 3_600_000);
});
