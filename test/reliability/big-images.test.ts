/**
 * An image directory whose decoded pixels would not fit the memory bound trains through
 * imageDatasetFromDirectory: 3,000 JPEGs of 320 × 320, resized to 256 × 256 (2.2 GiB of float32
 * pixels a pass), stream through one epoch of fit with the process's peak RSS under 500 MB. It
 * takes minutes, so it runs only with KILN_BIG_FILES=1 (docs/reliability.md records a run).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const run = process.env.KILN_BIG_FILES === '1';
const dir = mkdtempSync(join(tmpdir(), 'kiln-big-images-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILES = Number(process.env.KILN_BIG_IMAGES ?? 3000);
const SIDE = 320;
const SIZE = 256;
const BATCH = 32;

/** A JPEG of a gradient with noise, tinted red (class 1) or blue (class 0): photo-like work for the decoder. */
function photo(seed: number, red: boolean): Uint8Array {
  let s = seed;
  const noise = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 26);
  const rgba = Buffer.alloc(SIDE * SIDE * 4, 255);
  for (let p = 0; p < SIDE * SIDE; p++) {
    const g = ((p % SIDE) + Math.floor(p / SIDE)) >> 3;
    rgba[p * 4] = (red ? 120 : 20) + (g >> 1) + noise();
    rgba[p * 4 + 1] = g + noise();
    rgba[p * 4 + 2] = (red ? 20 : 120) + (g >> 1) + noise();
  }
  return jpeg.encode({ width: SIDE, height: SIDE, data: rgba }, 90).data;
}

describe.skipIf(!run)('an image directory larger than memory (KILN_BIG_FILES=1; skipped otherwise: it takes minutes)', () => {
  it('streams through one epoch of fit with peak RSS under 500 MB', async () => {
    // KILN_BIG_IMAGES sets another number of files (a quick look at the same path)
    const backends = await kiln.listBackends();
    if (backends.some((b) => b.name === 'native' && b.available)) await kiln.setBackend('native');
    const t0 = performance.now();
    const files = [photo(1, false), photo(2, true), photo(3, false), photo(4, true)];
    for (const c of ['blue', 'red']) mkdirSync(join(dir, c));
    for (let i = 0; i < FILES; i++) writeFileSync(join(dir, i % 2 ? 'red' : 'blue', `${i}.jpg`), files[i % 4]);
    const written = performance.now();

    const ds = await kiln.data.imageDatasetFromDirectory(dir, { imageSize: [SIZE, SIZE], batchSize: BATCH, seed: 1, verbose: false });
    const { Rescaling, GlobalAveragePooling2D, Dense } = kiln.layers;
    const model = new kiln.Sequential([kiln.Input({ shape: [SIZE, SIZE, 3] }), new Rescaling(1 / 255), new GlobalAveragePooling2D(), new Dense(2, { activation: 'softmax' })]);
    model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.05 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    let steps = 0;
    let peak = 0;
    const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));
    const timer = setInterval(sample, 50);
    const counter = new (class extends kiln.callbacks.Callback {
      override onTrainBatchBegin(): void {
        steps++;
        sample();
      }
    })();
    let history: kiln.callbacks.History;
    try {
      history = await model.fit(ds, { epochs: 1, verbose: 0, callbacks: [counter] });
    } finally {
      clearInterval(timer);
    }
    sample();
    const trained = performance.now();

    expect(steps).toBe(Math.ceil(FILES / BATCH));
    // the tint tells the classes apart: after one epoch the four distinct pictures are classed right
    const four = join(dir, 'four');
    files.forEach((bytes, i) => {
      mkdirSync(join(four, i % 2 ? 'red' : 'blue'), { recursive: true });
      writeFileSync(join(four, i % 2 ? 'red' : 'blue', `${i}.jpg`), bytes);
    });
    const { accuracy } = await model.evaluate(await kiln.data.imageDatasetFromDirectory(four, { imageSize: [SIZE, SIZE], shuffle: false, verbose: false }), { verbose: 0 });
    expect(accuracy).toBe(1);
    const peakMB = peak / 2 ** 20;
    const pixels = (FILES * SIZE * SIZE * 3 * 4) / 2 ** 30;
    console.log(`big image directory (${kiln.getBackend()} backend): ${FILES} JPEGs of ${SIDE}², ${pixels.toFixed(2)} GiB of float32 pixels a pass; written in ${((written - t0) / 1000).toFixed(1)} s, `
      + `one epoch of fit in ${((trained - written) / 1000).toFixed(1)} s (${(FILES / ((trained - written) / 1000)).toFixed(0)} images/s); peak RSS ${peakMB.toFixed(0)} MB `
      + `(process maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB); loss ${history.history.loss[0].toFixed(4)}`);
    expect(peakMB).toBeLessThan(500);
    model.dispose();
  }, 3_600_000);
});
