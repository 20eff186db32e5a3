/**
 * The training report and a plotModel SVG opened in a real browser (Debian's chromium driven by
 * playwright-core; no browser is ever downloaded): every chart drew its lines, the SVG shows one
 * box per layer and its edges, and nothing logged an error. Screenshots go to the test's temp
 * folder (printed). Skipped, saying why, where /usr/bin/chromium is absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as kiln from '../../index.js';

// the page functions below run in chromium; the test project compiles without lib.dom, so the few
// DOM members they use are declared here (type-only: nothing is emitted)
interface DomNode {
  querySelector(selector: string): DomNode | null;
  getAttribute(name: string): string | null;
  textContent: string | null;
  getBBox(): { width: number; height: number };
  getTotalLength(): number;
}
declare const document: { querySelectorAll(selector: string): Iterable<DomNode> & { length: number }; documentElement: { nodeName: string } };

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`test/visual skipped: ${CHROMIUM} is absent (install Debian's chromium: apt-get install -y chromium)`);

const { Dense, Concatenate } = kiln.layers;
const dir = mkdtempSync(join(tmpdir(), 'kiln-visual-'));

/** The report's series colours (utils/report/html.ts): training, then validation. */
const TRAIN_RGB = [0x1f, 0x77, 0xb4];
const VAL_RGB = [0xff, 0x7f, 0x0e];

describe.skipIf(!available)('report and plot in chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: false, args: ['--headless=new', '--no-sandbox'] });
    console.log(`screenshots in ${dir}`);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens `file` and collects console errors and uncaught exceptions. */
  async function open(file: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) errors.push(`network request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href);
    return { page, errors };
  }

  it('draws every chart of a training report, training and validation lines, with no errors', async () => {
    kiln.setSeed(3);
    const model = new kiln.Sequential([new Dense(6, { activation: 'relu', inputShape: [2], name: 'hidden' }), new Dense(1, { name: 'out' })], { name: 'visual' });
    model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
    const x = kiln.tensor(Array.from({ length: 24 }, (_, i) => [i / 24, (i % 5) / 5]));
    const y = kiln.tensor(Array.from({ length: 24 }, (_, i) => [(i % 7) / 7]));
    const path = join(dir, 'report.html');
    await model.fit(x, y, { epochs: 6, batchSize: 8, verbose: 0, validationSplit: 0.25, callbacks: [new kiln.callbacks.TrainingReport(path)] });
    x.dispose();
    y.dispose();
    model.dispose();

    const { page, errors } = await open(path);
    await page.waitForFunction(() => document.querySelectorAll('.chart canvas').length === document.querySelectorAll('.chart').length);
    const charts = await page.$$eval('.chart', (els, rgb) => els.map((el) => {
      const canvas = el.querySelector('canvas')!;
      const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      // pixels of each series colour (within anti-aliasing distance)
      const count = (c: number[]) => {
        let n = 0;
        for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 200 && Math.abs(px[i] - c[0]) + Math.abs(px[i + 1] - c[1]) + Math.abs(px[i + 2] - c[2]) < 40) n++;
        return n;
      };
      return { keys: el.getAttribute('data-keys')!.split(','), width: canvas.width, train: count(rgb.train), val: count(rgb.val) };
    }), { train: TRAIN_RGB, val: VAL_RGB });
    expect(charts.map((c) => c.keys)).toEqual([['loss', 'val_loss'], ['mae', 'val_mae'], ['learning_rate'], ['epoch_time']]);
    for (const c of charts) {
      expect(c.width, `${c.keys} canvas`).toBeGreaterThan(100);
      // a line across six epochs covers far more than 50 pixels; a chart that drew nothing has none
      expect(c.train, `${c.keys[0]} line`).toBeGreaterThan(50);
      if (c.keys.length === 2) expect(c.val, `${c.keys[1]} line`).toBeGreaterThan(50);
    }
    expect(await page.$$eval('.plot svg g.node', (g) => g.length)).toBe(2);
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a plotModel SVG with one box per layer and its edges, with no errors', async () => {
    const a = kiln.Input({ shape: [4], name: 'a' });
    const b = kiln.Input({ shape: [3], name: 'b <&> "q"' });
    const merged = new Concatenate({ name: 'concat' }).apply([new Dense(8, { name: 'da' }).apply(a), new Dense(8, { name: 'db' }).apply(b)] as never);
    const model = new kiln.Model({ inputs: [a, b], outputs: new Dense(2, { name: 'head' }).apply(merged), name: 'two_inputs' });
    const path = join(dir, 'model.svg');
    await kiln.utils.plotModel(model, { showShapes: true, showDtype: true, showLayerNames: true, toFile: path });
    writeFileSync(join(dir, 'model.dot'), (await kiln.utils.plotModel(model)).dot);

    const { page, errors } = await open(path);
    const drawn = await page.evaluate(() => {
      const boxes = [...document.querySelectorAll('g.node')].map((g) => {
        const r = g.getBBox();
        return { name: g.querySelector('title')!.textContent, width: r.width, height: r.height };
      });
      const edges = [...document.querySelectorAll('g.edge path')].map((p) => p.getTotalLength());
      return { boxes, edges, root: document.documentElement.nodeName };
    });
    expect(drawn.root).toBe('svg');
    expect(drawn.boxes.map((b) => b.name).sort()).toEqual(['a', 'b <&> "q"', 'concat', 'da', 'db', 'head']);
    for (const b of drawn.boxes) expect(b.width * b.height, `${b.name} box`).toBeGreaterThan(100);
    expect(drawn.edges).toHaveLength(5);
    for (const len of drawn.edges) expect(len).toBeGreaterThan(5);
    await page.screenshot({ path: join(dir, 'model.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
