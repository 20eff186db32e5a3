/**
 * kiln's browser bundle (browser.ts, scripts/build-browser.mjs): it builds for `platform:
 * 'browser'` with no Node builtin in it and only the `webgpu` package left external; a Node
 * builtin that reaches it fails the build, naming the module; and the bundle itself, loaded as an
 * ES module, trains a model, lists the native backend as unavailable with the reason, and says
 * what a page cannot do (save, export, log to a file) instead of failing to load a module.
 * (test/webgpu/demo.test.ts runs it in chromium.)
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildBrowser, bundle, ROOT } from '../scripts/build-browser.mjs';

type BrowserKiln = typeof import('../browser.js');

describe('the browser bundle', () => {
  it('builds from browser.ts with no Node module in it, only the webgpu package external', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kiln-bundle-')), 'kiln.js');
    const { metafile } = await bundle(join(ROOT, 'browser.ts'), out);
    const inputs = Object.keys(metafile.inputs).map((f) => relative(ROOT, join(process.cwd(), f)));
    const externals = Object.values(metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external));
    expect(externals).toEqual([{ path: 'webgpu', kind: 'dynamic-import', external: true }]);
    // the modules that would bring Node's builtins, each replaced by its .browser.ts sibling
    expect(inputs).not.toContain('backends/native/addon.ts');
    for (const node of ['backends/native/index.ts', 'models/log-file.ts', 'src/version.ts', 'saving/save.ts', 'saving/load.ts', 'onnx/write.ts']) {
      expect(inputs, node).not.toContain(node);
      expect(inputs, node).toContain(node.replace(/\.ts$/, '.browser.ts'));
    }
    expect(inputs).toContain('backends/webgpu/index.ts');
    expect(inputs.filter((f) => /^(io|cli|data\/(csv|sources|dataset))/.test(f))).toEqual([]);
  });

  it('fails, naming the import and the module, when a Node builtin reaches it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-bundle-'));
    const entry = join(dir, 'entry.ts');
    // the facade's target itself, not its browser sibling: saving/save.ts writes through node:fs
    writeFileSync(entry, `export { saveModel } from ${JSON.stringify(join(ROOT, 'saving', 'save.ts'))};\n`);
    const build = bundle(entry, join(dir, 'out.js'));
    await expect(build).rejects.toThrow(/^browser build of .*entry\.ts failed:\n/);
    await expect(build).rejects.toThrow(/saving\/atomic\.ts:\d+: Could not resolve "node:fs\/promises"[^\n]*\n {2}a Node builtin \(node:fs\/promises\) reached the browser bundle: keep that module out of browser\.ts's imports, or give it a \.browser\.ts sibling/);
  });

  it('loads as an ES module: trains, lists native as unavailable, and says what a page cannot do', async () => {
    const { outfile, bytes } = await buildBrowser();
    expect(bytes).toBe(readFileSync(outfile).length);
    const kiln = (await import(pathToFileURL(outfile).href)) as BrowserKiln;
    expect(kiln.version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(kiln.listBackends().find((b) => b.name === 'native')).toEqual({
      name: 'native', available: false,
      reason: 'the native backend is a Node addon (C++ through N-API), which a browser cannot load; use webgpu or reference',
    });
    expect(kiln.listBackends().map((b) => b.name)).toEqual(['reference', 'native', 'webgpu']);
    await kiln.setBackend('reference');
    expect(kiln.getBackend()).toBe('reference');

    // y = 2x - 1 by SGD on the mean squared error, from w = b = 0: one full-batch step moves w by
    // -lr * dL/dw = 0.1 * 2 * mean(x * y) = 0.1 * 2 * (0 + 1 + 6 + 3) / 4 = 0.5, by hand
    const model = new kiln.Sequential([kiln.Input({ shape: [1] }), new kiln.layers.Dense(1, { kernelInitializer: 'zeros' })]);
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
    const x = kiln.tensor([[0], [1], [2], [-1]]);
    const y = kiln.tensor([[-1], [1], [3], [-3]]);
    await model.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
    const [w] = await model.getWeights()[0].data();
    expect(w).toBeCloseTo(0.5, 6);

    await expect(model.save('m.kiln')).rejects.toThrow("Model.save: kiln's browser bundle has no file system to write a .kiln file to; save models from Node");
    await expect(model.saveWeights('m.weights.kiln')).rejects.toThrow('Model.saveWeights: kiln\'s browser bundle has no file system');
    await expect(model.loadWeights('m.weights.kiln')).rejects.toThrow("Model.loadWeights: kiln's browser bundle has no file system to read a .kiln file from; load weights in Node");
    await expect(model.export('m.onnx')).rejects.toThrow("Model.export: kiln's browser bundle cannot write or verify an ONNX file; export models from Node");
    const logger = new kiln.callbacks.JsonLogger({ path: 'log.jsonl' });
    await expect(model.fit(x, y, { epochs: 1, verbose: 0, callbacks: [logger] })).rejects.toThrow('JsonLogger: a path needs a file system');

    // the page's console stands in for stdout: JsonLogger's default stream writes whole lines there
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => void lines.push(line);
    try {
      await model.fit(x, y, { epochs: 1, verbose: 'json' });
    } finally {
      console.log = log;
    }
    expect(lines.map((l) => JSON.parse(l).event)).toEqual(['train_begin', 'epoch', 'train_end']);
    expect(Object.keys(kiln.callbacks)).not.toContain('ModelCheckpoint');
    expect(Object.keys(kiln.utils).sort()).toEqual(['padSequences', 'toCategorical']);
    kiln.dispose([x, y]);
  });
});
