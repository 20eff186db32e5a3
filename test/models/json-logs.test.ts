import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as kiln from '../../index.js';

const { Dense } = kiln.layers;
const dir = mkdtempSync(join(tmpdir(), 'kiln-json-logs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const X = [[1, 2], [0, -1], [3, 1], [-2, 0.5], [1.5, -1], [0, 0], [2, 2]];
const Y = [[1], [2], [-1], [0.5], [3], [1], [0]];

function model(): kiln.Sequential {
  const m = new kiln.Sequential([kiln.Input({ shape: [2] }), new Dense(1)]);
  m.setWeights([[[1], [-2]], [0.5]]);
  m.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.01 }), loss: 'mse', metrics: ['mae'] });
  return m;
}

const parse = (text: string) => text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('JsonLogger', () => {
  it('appends one complete JSON line per epoch and per batch, equal to the History', async () => {
    const path = join(dir, 'log.jsonl');
    const x = kiln.tensor(X);
    const y = kiln.tensor(Y);
    const h = await model().fit(x, y, {
      epochs: 3, batchSize: 3, shuffle: false, verbose: 0, validationData: [x, y],
      callbacks: [new kiln.callbacks.JsonLogger({ path, perBatch: true })],
    });
    const lines = parse(readFileSync(path, 'utf8'));
    // 7 samples in batches of 3: 3 steps per epoch
    expect(lines.map((l) => l.event)).toEqual(['train_begin', ...Array(3).fill(['batch', 'batch', 'batch', 'epoch']).flat(), 'train_end']);
    expect(lines[0]).toEqual({ event: 'train_begin', epochs: 3, steps: 3 });
    expect(lines.at(-1)).toEqual({ event: 'train_end', epochs_run: 3 });
    const epochs = lines.filter((l) => l.event === 'epoch');
    epochs.forEach((l, e) => {
      expect(l.epoch).toBe(e);
      expect(typeof l.seconds).toBe('number');
      expect(Object.keys(l.logs as object).sort()).toEqual(['loss', 'mae', 'val_loss', 'val_mae']);
      for (const [k, v] of Object.entries(l.logs as Record<string, number>)) expect(v).toBe(h.history[k][e]);
    });
    const batches = lines.filter((l) => l.event === 'batch');
    expect(batches.map((l) => [l.epoch, l.batch])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2], [2, 0], [2, 1], [2, 2]]);
    // the last batch's running means are the epoch's training logs
    for (let e = 0; e < 3; e++) expect(batches[e * 3 + 2].logs).toEqual({ loss: h.history.loss[e], mae: h.history.mae[e] });
    // the first batch's loss by hand: rows 0..2 with w = [1, -2], b = 0.5
    const first = [[1, 2], [0, -1], [3, 1]].map(([a, b], i) => a - 2 * b + 0.5 - Y[i][0]);
    expect((batches[0].logs as { loss: number }).loss).toBeCloseTo(first.reduce((s, d) => s + d * d, 0) / 3, 5);
  });

  it('appends to what the file holds, and writes NaN and infinities as strings', async () => {
    const path = join(dir, 'nan.jsonl');
    const logger = new kiln.callbacks.JsonLogger({ path });
    logger.setParams({ epochs: 1, steps: 1, verbose: 0 });
    await logger.onTrainBegin();
    logger.onEpochBegin(0);
    await logger.onEpochEnd(0, { loss: NaN, a: Infinity, b: -Infinity, c: 0.25 });
    await logger.onTrainBegin();
    const lines = parse(readFileSync(path, 'utf8'));
    expect(lines.map((l) => l.event)).toEqual(['train_begin', 'epoch', 'train_begin']);
    expect(lines[1].logs).toEqual({ loss: 'NaN', a: 'Infinity', b: '-Infinity', c: 0.25 });
  });

  it('keeps every line whole when two loggers append to one file at once', async () => {
    const path = join(dir, 'shared.jsonl');
    const a = new kiln.callbacks.JsonLogger({ path });
    const b = new kiln.callbacks.JsonLogger({ path });
    const wide = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`metric_${i}`, i / 3]));
    await Promise.all(Array.from({ length: 50 }, (_, e) => [a.onEpochEnd(e, wide), b.onEpochEnd(e, { loss: e })]).flat());
    const lines = parse(readFileSync(path, 'utf8'));
    expect(lines).toHaveLength(100);
    expect(lines.filter((l) => Object.keys(l.logs as object).length === 200)).toHaveLength(50);
  });

  it('writes to a stream when no path is given, and refuses bad options', async () => {
    const out: string[] = [];
    const logger = new kiln.callbacks.JsonLogger({ stream: { write: (s: string) => out.push(s) } });
    await logger.onEpochEnd(4, { loss: 1 });
    expect(out).toHaveLength(1);
    expect(out[0].endsWith('\n')).toBe(true);
    expect(JSON.parse(out[0])).toMatchObject({ event: 'epoch', epoch: 4, logs: { loss: 1 } });
    expect(() => new kiln.callbacks.JsonLogger({ path: '' })).toThrow(/JsonLogger.*path must be a file name/);
    expect(() => new kiln.callbacks.JsonLogger({ stream: {} as never })).toThrow(/JsonLogger.*write/);
  });
});

describe("fit(..., { verbose: 'json' })", () => {
  it('prints one JSON line per epoch on stdout, no batch lines, equal to the History', async () => {
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    let h: kiln.callbacks.History;
    try {
      h = await model().fit(kiln.tensor(X), kiln.tensor(Y), { epochs: 2, batchSize: 2, shuffle: false, verbose: 'json' });
    } finally {
      spy.mockRestore();
    }
    const lines = parse(out.join(''));
    expect(lines.map((l) => l.event)).toEqual(['train_begin', 'epoch', 'epoch', 'train_end']);
    for (const e of [0, 1]) expect(lines[e + 1].logs).toEqual({ loss: h.history.loss[e], mae: h.history.mae[e] });
  });

  it('refuses a verbose that is not 0, 1, 2 or json', async () => {
    await expect(model().fit(kiln.tensor(X), kiln.tensor(Y), { verbose: 'yaml' as never })).rejects.toThrow(/fit.*verbose must be 0, 1, 2 or 'json', got yaml/);
  });
});
