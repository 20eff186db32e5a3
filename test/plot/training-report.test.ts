/**
 * kiln.utils.trainingReport, callbacks.TrainingReport and the plot/report commands: the page's
 * embedded numbers parsed back and compared with the History that fit returned, the logs kiln
 * writes read back, hostile keys and titles kept inert, bad input named.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as kiln from '../../index.js';
import { runPlot } from '../../cli/commands/plot.js';
import { runReport } from '../../cli/commands/report.js';
import { findAll, parseXml } from './parse.js';

const { Dense } = kiln.layers;
const dir = mkdtempSync(join(tmpdir(), 'kiln-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Embedded { title: string; epochs: number[]; series: Record<string, (number | null)[]>; charts: { title: string; keys: string[] }[] }

/** The JSON between the data element's tags: the first `</script` after its start ends it, as an HTML parser would. */
function embedded(html: string): Embedded {
  const open = '<script type="application/json" id="kiln-report-data">';
  const start = html.indexOf(open);
  expect(start).toBeGreaterThan(0);
  const from = start + open.length;
  return JSON.parse(html.slice(from, html.toLowerCase().indexOf('</script', from)));
}

async function trained(callbacks: kiln.callbacks.Callback[] = [], epochs = 3) {
  kiln.setSeed(7);
  const model = new kiln.Sequential([new Dense(4, { activation: 'relu', inputShape: [3], name: 'hidden' }), new Dense(1, { name: 'out' })], { name: 'tiny' });
  model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.05 }), loss: 'mse', metrics: ['mae'] });
  const x = kiln.tensor(Array.from({ length: 16 }, (_, i) => [i / 16, Math.sin(i), 1 - i / 8]));
  const y = kiln.tensor(Array.from({ length: 16 }, (_, i) => [i / 10]));
  const history = await model.fit(x, y, { epochs, batchSize: 4, verbose: 0, validationSplit: 0.25, callbacks });
  x.dispose();
  y.dispose();
  return { model, history };
}

describe('trainingReport', () => {
  it("embeds the History's numbers, one chart per metric with its val_ twin, the summary and the model's graph", async () => {
    const { model, history } = await trained();
    const path = join(dir, 'history.html');
    await kiln.utils.trainingReport(history, path);
    const html = readFileSync(path, 'utf8');
    const data = embedded(html);
    expect(data.epochs).toEqual([0, 1, 2]);
    expect(data.series).toEqual(history.history);
    expect(Object.keys(data.series).sort()).toEqual(['loss', 'mae', 'val_loss', 'val_mae']);
    expect(data.charts).toEqual([{ title: 'loss', keys: ['loss', 'val_loss'] }, { title: 'mae', keys: ['mae', 'val_mae'] }]);
    expect(data.title).toBe('Training report: tiny');
    expect(html).toContain('<pre class="summary">Model: &quot;tiny&quot;');
    const svg = parseXml(html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + 6));
    expect(findAll(svg, 'g', 'node')).toHaveLength(2);
    expect(findAll(svg, 'g', 'edge')).toHaveLength(1);
    model.dispose();
  });

  it('needs no network: uPlot is inlined byte for byte with its license, and nothing is loaded from elsewhere', async () => {
    const { model, history } = await trained([], 1);
    const path = join(dir, 'offline.html');
    await kiln.utils.trainingReport(history, path);
    const html = readFileSync(path, 'utf8');
    const root = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
    expect(html).toContain(`<script>${readFileSync(join(root, 'dist/uPlot.iife.min.js'), 'utf8')}</script>`);
    expect(html).toContain(`<style>${readFileSync(join(root, 'dist/uPlot.min.css'), 'utf8')}</style>`);
    expect(html).toContain('Copyright (c) 2022 Leon Sorokin');
    expect(html).toContain('Permission is hereby granted, free of charge');
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link[\s>]|@import|url\(\s*['"]?https?:/i);
    model.dispose();
  });

  it('reads the CSV CSVLogger writes during fit, and JSON lines and a History saved as JSON', async () => {
    const csv = join(dir, 'log.csv');
    const { model, history } = await trained([new kiln.callbacks.CSVLogger(csv)]);
    await kiln.utils.trainingReport(csv, join(dir, 'csv.html'));
    const fromCsv = embedded(readFileSync(join(dir, 'csv.html'), 'utf8'));
    expect(fromCsv.epochs).toEqual(history.epoch);
    expect(fromCsv.series).toEqual(history.history);

    const lines = join(dir, 'log.jsonl');
    writeFileSync(lines, '{"epoch":0,"loss":2.5,"val_loss":3}\n\n{"epoch":1,"loss":1.5}\n');
    await kiln.utils.trainingReport(lines, join(dir, 'lines.html'));
    const fromLines = embedded(readFileSync(join(dir, 'lines.html'), 'utf8'));
    expect(fromLines).toMatchObject({ epochs: [0, 1], series: { loss: [2.5, 1.5], val_loss: [3, null] } });

    const json = join(dir, 'history.json');
    writeFileSync(json, JSON.stringify(history.history));
    await kiln.utils.trainingReport(json, join(dir, 'json.html'), { model, title: 'from json' });
    const fromJson = embedded(readFileSync(join(dir, 'json.html'), 'utf8'));
    expect(fromJson).toMatchObject({ title: 'from json', epochs: [0, 1, 2], series: history.history });
    model.dispose();
  });

  it("reads a TensorBoard log folder: epoch_ scalars of train/ and validation/ (float32, as the files hold them)", async () => {
    const logDir = join(dir, 'tb');
    const { model, history } = await trained([new kiln.callbacks.TensorBoard({ logDir, updateFreq: 1, histogramFreq: 1 })]);
    await kiln.utils.trainingReport(logDir, join(dir, 'tb.html'));
    const data = embedded(readFileSync(join(dir, 'tb.html'), 'utf8'));
    expect(data.epochs).toEqual([0, 1, 2]);
    const f32 = (v: number[]) => v.map(Math.fround);
    expect(data.series).toEqual({
      loss: f32(history.history.loss), mae: f32(history.history.mae), learning_rate: f32([0.05, 0.05, 0.05]),
      val_loss: f32(history.history.val_loss), val_mae: f32(history.history.val_mae),
    });
    const train = join(logDir, 'train');
    const file = join(train, readdirSync(train)[0]);
    const bytes = readFileSync(file);
    bytes[bytes.length - 6] ^= 0xff;
    writeFileSync(file, bytes);
    await expect(kiln.utils.trainingReport(logDir, join(dir, 'tb2.html'))).rejects.toThrow(/trainingReport: .*events\.out\.tfevents.*: the record at byte \d+ fails its checksum/);
    writeFileSync(file, bytes.subarray(0, bytes.length - 3));
    await expect(kiln.utils.trainingReport(logDir, join(dir, 'tb2.html'))).rejects.toThrow(/the record at byte \d+ is cut off/);
    model.dispose();
  });

  it('keeps NaN, infinite and NA values as gaps (null)', async () => {
    const csv = join(dir, 'gaps.csv');
    writeFileSync(csv, 'epoch,loss,val_loss\n0,NaN,1\n1,Infinity,NA\n2,0.5,nan\n');
    await kiln.utils.trainingReport(csv, join(dir, 'gaps.html'));
    expect(embedded(readFileSync(join(dir, 'gaps.html'), 'utf8')).series).toEqual({ loss: [null, null, 0.5], val_loss: [1, null, null] });
    await kiln.utils.trainingReport({ history: { loss: [NaN, 2] } }, join(dir, 'nan.html'));
    expect(embedded(readFileSync(join(dir, 'nan.html'), 'utf8')).series).toEqual({ loss: [null, 2] });
  });

  it('keeps hostile metric names and titles inert', async () => {
    const key = '</script><script>window.pwned=1</script><!--';
    const path = join(dir, 'hostile.html');
    await kiln.utils.trainingReport({ epoch: [0, 1], history: { [key]: [1, 2], [`val_${key}`]: [3, 4] } }, path, { title: '<img src=x onerror=alert(1)>' });
    const html = readFileSync(path, 'utf8');
    const data = embedded(html);
    expect(data.series).toEqual({ [key]: [1, 2], [`val_${key}`]: [3, 4] });
    expect(data.charts).toEqual([{ title: key, keys: [key, `val_${key}`] }]);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script>window.pwned');
    expect(html).toContain('<title>&lt;img src=x onerror=alert(1)&gt;</title>');
  });

  it('callbacks.TrainingReport writes the page at the end of fit, with the learning rate and seconds per epoch', async () => {
    const path = join(dir, 'callback.html');
    const { model, history } = await trained([new kiln.callbacks.TrainingReport(path)]);
    const data = embedded(readFileSync(path, 'utf8'));
    expect(data.epochs).toEqual([0, 1, 2]);
    for (const [k, v] of Object.entries(history.history)) expect(data.series[k]).toEqual(v);
    expect(data.series.learning_rate).toEqual([0.05, 0.05, 0.05]);
    expect(data.series.epoch_time).toHaveLength(3);
    for (const t of data.series.epoch_time) expect(t).toBeGreaterThan(0);
    expect(data.charts.map((c) => c.title)).toEqual(['loss', 'mae', 'learning rate', 'time per epoch (s)']);
    model.dispose();
  });

  it('fails clearly on a missing or ill-formed log and on an output folder that does not exist', async () => {
    const out = join(dir, 'bad.html');
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    await expect(kiln.utils.trainingReport(join(dir, 'none.csv'), out)).rejects.toThrow(/trainingReport: the log file .*none\.csv does not exist/);
    await expect(kiln.utils.trainingReport(write('ragged.csv', 'epoch,loss\n0,1\n1,2,3\n'), out)).rejects.toThrow(/ragged\.csv:3: 3 fields, the header has 2/);
    await expect(kiln.utils.trainingReport(write('word.csv', 'epoch,loss\n0,abc\n'), out)).rejects.toThrow(/word\.csv:2, column 'loss': expected a number, got "abc"/);
    await expect(kiln.utils.trainingReport(write('empty.csv', ''), out)).rejects.toThrow(/empty\.csv: the file is empty/);
    await expect(kiln.utils.trainingReport(write('broken.jsonl', '{"loss":1}\n{"loss":\n'), out)).rejects.toThrow(/broken\.jsonl:2: not valid JSON/);
    await expect(kiln.utils.trainingReport(write('text.jsonl', '{"loss":"high"}\n'), out)).rejects.toThrow(/text\.jsonl: record 1: 'loss': expected a number, got "high"/);
    await expect(kiln.utils.trainingReport(write('broken.json', '{"loss": [1,'), out)).rejects.toThrow(/broken\.json: not valid JSON/);
    await expect(kiln.utils.trainingReport(write('short.json', '{"loss":[1,2],"val_loss":[1]}'), out)).rejects.toThrow(/short\.json: history\.val_loss has 1 values, history\.loss has 2/);
    await expect(kiln.utils.trainingReport(write('log.txt', 'loss 1'), out)).rejects.toThrow(/log\.txt: unknown log format '\.txt'/);
    await expect(kiln.utils.trainingReport(dir, out)).rejects.toThrow(/holds no TensorBoard event files in train\/ or validation\//);
    await expect(kiln.utils.trainingReport({ history: { loss: [1] } }, join(dir, 'missing', 'r.html'))).rejects.toThrow(/trainingReport: cannot write .*r\.html: the folder .*missing does not exist/);
    await expect(kiln.utils.trainingReport(null as never, out)).rejects.toThrow(/trainingReport: the history: expected a History/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('kiln plot and kiln report', () => {
  it('plots a saved model and reports a CSV log with the saved model beside it', async () => {
    const csv = join(dir, 'cli.csv');
    const { model } = await trained([new kiln.callbacks.CSVLogger(csv)], 2);
    const saved = join(dir, 'cli.kiln');
    await model.save(saved);
    expect(await runPlot({ model: saved, 'show-shapes': true, 'show-dtype': false, 'show-layer-names': true, rankdir: 'LR', 'expand-nested': false, dpi: 96 })).toBe(join(dir, 'cli.svg'));
    const svg = parseXml(readFileSync(join(dir, 'cli.svg'), 'utf8'));
    expect(findAll(svg, 'g', 'node').map((g) => findAll(g, 'title')[0].children[0])).toEqual(['hidden', 'out']);
    expect(await runReport({ log: csv, model: saved })).toBe(join(dir, 'cli.html'));
    const html = readFileSync(join(dir, 'cli.html'), 'utf8');
    expect(embedded(html).epochs).toEqual([0, 1]);
    expect(html).toContain('hidden (Dense)');
    await expect(runReport({ log: join(dir, 'nope.csv') })).rejects.toThrow(/log: file not found/);
    model.dispose();
  });

  it('are commands of kiln: files written, errors on one line', () => {
    const root = join(import.meta.dirname, '..', '..');
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', tsx, join(root, 'cli/main.ts'), ...args], { cwd: dir, encoding: 'utf8' });
    writeFileSync(join(dir, 'spawn.csv'), 'epoch,loss\n0,1\n1,0.5\n');
    const ok = cli('report', 'spawn.csv', '-o', 'spawn.html', '--title', 'spawned');
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toBe('wrote spawn.html');
    expect(embedded(readFileSync(join(dir, 'spawn.html'), 'utf8'))).toMatchObject({ title: 'spawned', epochs: [0, 1], series: { loss: [1, 0.5] } });
    const bad = cli('plot', 'missing.kiln', '--rankdir', 'LR');
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('kiln: model: file not found: missing.kiln');
  });
});
