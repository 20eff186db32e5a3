/**
 * The same backend code in a browser: backends/webgpu served as ES modules (each file
 * transpiled by TypeScript, nothing bundled) to Debian's chromium, headless with WebGPU on
 * SwiftShader, driven by playwright-core (no browser is downloaded). In the page the backend
 * takes navigator.gpu and never imports the 'webgpu' package; its kernels give the values
 * computed here. Skipped, saying why, where /usr/bin/chromium is absent or has no adapter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`test/webgpu/browser.test.ts: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

/** Serves the page and backends/ as JavaScript modules, transpiled from their TypeScript on request. */
function serve(): Promise<Server> {
  const page = `<!doctype html><script type="module">
import webgpu from '/backends/webgpu/index.js';
globalThis.kilnWebgpu = webgpu;
</script>`;
  const server = createServer((req, res) => {
    const path = normalize(req.url ?? '/');
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      return;
    }
    const file = join(ROOT, path.replace(/\.js$/, '.ts'));
    if (!path.startsWith('/backends/') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// What the page runs: the backend from navigator.gpu, a few kernels through its buffer API.
interface PageResult {
  probe: { available: boolean; reason?: string };
  device: string;
  exp: number[];
  matmul: number[];
  sum: number[];
  uniform: number[];
  error?: string;
}

async function runInPage(page: Page): Promise<PageResult> {
  return page.evaluate(async () => {
    type Info = { id: number; shape: number[]; dtype: string };
    const webgpu = (globalThis as unknown as { kilnWebgpu: { probe(): PageResult['probe']; create(): Promise<Record<string, (...a: unknown[]) => unknown> & { device: string }> } }).kilnWebgpu;
    const probe = webgpu.probe();
    if (!probe.available) return { probe } as PageResult;
    try {
      const b = await webgpu.create();
      const tensor = (values: number[], shape: number[]): Info => {
        const id = b.alloc('float32', values.length) as number;
        b.write(id, new Float32Array(values));
        return { id, shape, dtype: 'float32' };
      };
      const empty = (shape: number[]): Info => ({ id: b.alloc('float32', shape.reduce((s, d) => s * d, 1)) as number, shape, dtype: 'float32' });
      const read = async (t: Info) => Array.from((await b.read(t.id)) as Float32Array);
      const x = tensor([0, 1, -1, 10], [4]);
      const e = empty([4]);
      b.unary('exp', x, e);
      const a = tensor(Array.from({ length: 70 * 3 }, (_, i) => (i % 7) - 3), [70, 3]);
      const w = tensor(Array.from({ length: 3 * 65 }, (_, i) => (i % 5) - 2), [3, 65]);
      const p = empty([70, 65]);
      b.matmul(a, w, false, false, p);
      const s = empty([65]);
      b.reduce('sum', p, [0], s);
      const u = empty([8]);
      b.random('uniform', [0, 0], u);
      return { probe, device: b.device, exp: await read(e), matmul: await read(p), sum: await read(s), uniform: await read(u) };
    } catch (err) {
      return { probe, error: String(err) } as PageResult;
    }
  });
}

describe.skipIf(!hasChromium)('the webgpu backend in chromium', () => {
  let server: Server;
  let browser: Browser;
  let result: PageResult;
  beforeAll(async () => {
    server = await serve();
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: false,
      args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'],
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const { port } = server.address() as { port: number };
    // localhost: WebGPU exists only in a secure context
    await page.goto(`http://localhost:${port}/`);
    await page.waitForFunction(() => 'kilnWebgpu' in globalThis, undefined, { timeout: 30_000 }).catch(() => {
      throw new Error(`the page did not load the backend: ${errors.join('; ') || 'no error reported'}`);
    });
    result = await runInPage(page);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('probes navigator.gpu and runs kernels that give the values computed here', (ctx) => {
    if (!result.probe.available && process.env.KILN_REQUIRE_WEBGPU !== '1') {
      console.log(`test/webgpu/browser.test.ts: skipped: chromium offers no WebGPU here: ${result.probe.reason}`);
      ctx.skip();
    }
    expect(result.error).toBeUndefined();
    expect(result.probe).toEqual({ available: true });
    expect(result.device).not.toBe('');
    expect(result.exp.map((v, i) => Math.abs(v - Math.exp([0, 1, -1, 10][i])) / Math.exp([0, 1, -1, 10][i]))).toSatisfy((errs: number[]) => errs.every((r) => r < 1e-6));
    const matmul: number[] = [];
    for (let i = 0; i < 70; i++) {
      for (let j = 0; j < 65; j++) {
        let acc = 0;
        for (let k = 0; k < 3; k++) acc += (((i * 3 + k) % 7) - 3) * (((k * 65 + j) % 5) - 2);
        matmul.push(acc);
      }
    }
    expect(result.matmul).toEqual(matmul);
    expect(result.sum).toEqual(Array.from({ length: 65 }, (_, j) => matmul.filter((_, o) => o % 65 === j).reduce((s, v) => s + v, 0)));
    // Random123's known answer for Philox 4x32-10 at counter 0, key 0: 6627e8d5 e169c58d bc57ac4c 9b00dbd8
    expect(result.uniform.slice(0, 4).map((v) => v * 2 ** 24)).toEqual([0x6627e8, 0xe169c5, 0xbc57ac, 0x9b00db]);
  });
});
