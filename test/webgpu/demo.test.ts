/**
 * The browser demo (examples/browser) in Debian's chromium, headless with WebGPU on SwiftShader,
 * driven by playwright-core (no browser is downloaded): built with kiln's browser bundle options
 * and served by its own server, the page trains one epoch on the webgpu backend (not the
 * fallback); its loss falls, and batch by batch it equals what the reference backend computes in
 * Node from the same digits and seed; both charts drew their series; a digit drawn with the mouse
 * is classified as the Node-trained model classifies the same pixels; nothing logged an error or
 * asked for anything but the page's own server. A screenshot goes to a temp folder (printed).
 * Skipped, saying why, where /usr/bin/chromium is absent or offers no adapter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as kiln from '../../index.js';
import { buildDemo, serveDemo } from '../../examples/browser/serve.js';
import { compiledModel, loadSplit } from '../../examples/browser/model.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`test/webgpu/demo.test.ts: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

// one epoch of 16 steps: under a minute on SwiftShader, and the loss has fallen well by then
const TRAIN = 1024;
const TEST = 512;
const BATCH = 64;

/** The page's state (examples/browser/main.ts's globalThis.kilnDemo). */
interface DemoState {
  status: string;
  backend: string;
  fallbackReason: string;
  batches: { loss: number; accuracy: number }[];
  epochs: { epoch: number; loss: number; accuracy: number; val_loss: number; val_accuracy: number; seconds: number }[];
  prediction: { digit: number; probabilities: number[]; pixels: number[] } | null;
  error: string;
}

// the page functions below run in chromium; the test project compiles without lib.dom, so the few
// DOM members they use are declared here (type-only: nothing is emitted)
interface Canvas { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }
declare const document: { querySelector(selector: string): Canvas | null };
declare const kilnDemo: DemoState;

/** Pixels of each chart's canvas within a small distance of each colour, by chart and colour. */
async function coloured(page: Page, charts: Record<string, string[]>): Promise<Record<string, number[]>> {
  return page.evaluate((wanted) => {
    const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    return Object.fromEntries(Object.entries(wanted).map(([id, colours]) => {
      const canvas = document.querySelector(`#${id} canvas`)!;
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      return [id, colours.map(rgb).map(([r, g, b]) => {
        let n = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 30) n++;
        return n;
      })];
    }));
  }, charts);
}

describe('the demo server', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = await serveDemo(0);
    base = `http://localhost:${(server.address() as { port: number }).port}/`;
  });
  afterAll(() => server?.close());

  it('serves the first N digits as an IDX file, and says what was wrong with a bad request', async () => {
    const labels = new Uint8Array(await (await fetch(`${base}mnist/train-labels?count=5`)).arrayBuffer());
    // IDX: magic 0x00000801 (unsigned bytes, one dimension), count 5, then MNIST's first five labels
    expect(Array.from(labels)).toEqual([0, 0, 8, 1, 0, 0, 0, 5, 5, 0, 4, 1, 9]);
    const images = new Uint8Array(await (await fetch(`${base}mnist/test-images?count=2`)).arrayBuffer());
    expect(Array.from(images.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28]);
    expect(images.length).toBe(16 + 2 * 784);
    const bad = async (path: string) => {
      const res = await fetch(base + path);
      return [res.status, await res.text()];
    };
    expect(await bad('mnist/train-labels?count=0')).toEqual([400, "count must be a positive integer, got '0'"]);
    expect(await bad('mnist/train-labels?count=2.5')).toEqual([400, "count must be a positive integer, got '2.5'"]);
    expect(await bad('mnist/train-labels')).toEqual([400, "count must be a positive integer, got 'null'"]);
    const [status, text] = await bad('mnist/test-labels?count=10001');
    expect([status, text]).toEqual([400, expect.stringMatching(/^count 10001 is more than the 10000 items of .*t10k-labels-idx1-ubyte$/)]);
    expect(await bad('mnist/valid-labels?count=1')).toEqual([404, 'not found: /mnist/valid-labels']);
    expect(await bad('../package.json')).toEqual([404, 'not found: /package.json']);
  });
});

describe.skipIf(!hasChromium)('the browser demo on webgpu in chromium', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let base: string;
  let state: DemoState;
  const errors: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kiln-demo-'));

  beforeAll(async () => {
    const start = performance.now();
    await buildDemo();
    server = await serveDemo(0);
    base = `http://localhost:${(server.address() as { port: number }).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: false,
      args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'],
    });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(base)) errors.push(`request outside the demo's server: ${r.url()}`);
    });
    // localhost: WebGPU exists only in a secure context
    await page.goto(`${base}?epochs=1&train=${TRAIN}&test=${TEST}&batch=${BATCH}`);
    await page.waitForFunction(() => ['ready', 'error'].includes(kilnDemo.status), undefined, { timeout: 60_000 });
    state = await page.evaluate(() => kilnDemo);
    if (state.backend === 'webgpu') {
      const trainStart = performance.now();
      await page.click('#train');
      await page.waitForFunction(() => ['trained', 'error'].includes(kilnDemo.status), undefined, { timeout: 150_000, polling: 250 });
      state = await page.evaluate(() => kilnDemo);
      console.log(`test/webgpu/demo.test.ts: one epoch of ${TRAIN} digits on webgpu in chromium: ${((performance.now() - trainStart) / 1000).toFixed(1)} s (the page's epoch: ${state.epochs[0]?.seconds.toFixed(1)} s); ready after ${((trainStart - start) / 1000).toFixed(1)} s; screenshot in ${dir}`);
    }
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    server?.close();
    await kiln.setBackend('reference');
  });

  /** Skips where chromium has no WebGPU adapter (the page fell back), saying why, unless WebGPU is required. */
  function needsWebgpu(ctx: { skip(): void }): void {
    if (state.backend !== 'webgpu' && process.env.KILN_REQUIRE_WEBGPU !== '1') {
      console.log(`test/webgpu/demo.test.ts: skipped: the page fell back to ${state.backend}: ${state.fallbackReason || state.error}`);
      ctx.skip();
    }
  }

  it('trains one epoch on webgpu, and its loss falls as the reference backend computes it in Node', async (ctx) => {
    needsWebgpu(ctx);
    expect(state.error).toBe('');
    expect(state).toMatchObject({ status: 'trained', backend: 'webgpu', fallbackReason: '' });
    expect(state.batches).toHaveLength(TRAIN / BATCH);
    const first = state.batches[0].loss;
    const last = state.batches[state.batches.length - 1].loss;
    // ln 10 = 2.30 is the loss of a uniform guess over 10 digits
    expect(Math.abs(first - Math.log(10))).toBeLessThan(0.3);
    expect(last).toBeLessThan(0.6 * first);

    await kiln.setBackend('reference');
    const [[x, y], [xTest, yTest]] = await Promise.all([loadSplit(base, 'train', TRAIN), loadSplit(base, 'test', TEST)]);
    const model = compiledModel();
    const ref: { loss: number; accuracy: number }[] = [];
    const history = await model.fit(x, y, {
      epochs: 1, batchSize: BATCH, validationData: [xTest, yTest], verbose: 0,
      callbacks: [new kiln.callbacks.LambdaCallback({ onTrainBatchEnd: (_b, logs) => void ref.push({ loss: logs!.loss, accuracy: logs!.accuracy }) })],
    });
    // float32 sums taken in another order (tiled matmul, tree reductions), carried through 16 Adam
    // steps: measured 1.2e-7 apart at most
    state.batches.forEach((b, i) => {
      expect(Math.abs(b.loss - ref[i].loss), `batch ${i}: webgpu ${b.loss}, reference ${ref[i].loss}`).toBeLessThanOrEqual(1e-4 * ref[i].loss);
      expect(Math.abs(b.accuracy - ref[i].accuracy), `batch ${i}'s accuracy`).toBeLessThanOrEqual(1 / (BATCH * (i + 1)) + 1e-6);
    });
    expect(Math.abs(state.epochs[0].val_loss - history.history.val_loss[0])).toBeLessThanOrEqual(1e-4 * history.history.val_loss[0]);

    // the drawing pad: a vertical stroke down its middle
    const pad = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * (0.15 + 0.07 * i));
    await page.mouse.up();
    await page.waitForFunction(() => kilnDemo.prediction !== null, undefined, { timeout: 30_000 });
    const { prediction } = await page.evaluate(() => kilnDemo);
    const { digit, probabilities, pixels } = prediction!;
    // what the model was shown: a stroke, white on black, fitted into the middle 20 x 20 as MNIST's
    // digits are (a pixel of smoothing at the box's edge aside)
    expect(pixels).toHaveLength(784);
    expect(pixels.filter((v) => v > 0.5).length).toBeGreaterThan(20);
    expect(pixels.filter((v, i) => v > 0.05 && (i % 28 < 3 || i % 28 > 24 || i < 3 * 28 || i >= 25 * 28)).length).toBe(0);
    const want = (await ((await model.predict(kiln.tensor(pixels, [1, 28, 28, 1]))) as kiln.Tensor).data()) as Float32Array;
    probabilities.forEach((p, k) => expect(Math.abs(p - want[k]), `class ${k}: page ${p}, reference ${want[k]}`).toBeLessThanOrEqual(1e-5));
    expect(digit).toBe(want.indexOf(Math.max(...want)));
    expect(digit).toBe(1);
    expect(await page.textContent('#digit')).toBe('1');
    kiln.dispose([x, y, xTest, yTest]);
  }, 120_000);

  it('drew both charts, showed the epoch and logged no error', async (ctx) => {
    needsWebgpu(ctx);
    const counts = await coloured(page, { 'loss-chart': ['#1f77b4', '#ff7f0e'], 'accuracy-chart': ['#2ca02c', '#ff7f0e'] });
    // a 2-pixel line across the plot, and the validation point (8 pixels across) at the epoch's end
    expect(counts['loss-chart'][0]).toBeGreaterThan(300);
    expect(counts['accuracy-chart'][0]).toBeGreaterThan(300);
    expect(counts['loss-chart'][1]).toBeGreaterThan(20);
    expect(counts['accuracy-chart'][1]).toBeGreaterThan(20);
    expect(await page.textContent('#backend')).toBe('webgpu');
    expect(await page.locator('#epochs tbody tr').count()).toBe(1);
    await page.screenshot({ path: join(dir, 'demo.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
