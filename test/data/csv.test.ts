import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { CsvRecordParser } from '../../data/csv-records.js';
import { collect } from './helpers.js';

const { Dataset } = kiln.data;
const dir = mkdtempSync(join(tmpdir(), 'kiln-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function csv(text: string): string {
  const path = join(dir, `f${files++}.csv`);
  writeFileSync(path, text);
  return path;
}

/** The records of `text` fed in chunks of `size` characters. */
function records(text: string, size: number, delimiter = ','): [number, string[]][] {
  const p = new CsvRecordParser('t.csv', delimiter);
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(...p.feed(text.slice(i, i + size)));
  out.push(...p.end());
  return out.map((r) => [r.line, r.fields]);
}

describe('CsvRecordParser (RFC 4180)', () => {
  const text = 'a,b,c\r\n1,"x,y",3\n\n"multi\nline","say ""hi""",\r\n"",,last';
  const expected: [number, string[]][] = [
    [1, ['a', 'b', 'c']],
    [2, ['1', 'x,y', '3']],
    [4, ['multi\nline', 'say "hi"', '']],
    [6, ['', '', 'last']],
  ];
  it.each([1, 2, 3, 5, 7, 1000])('splits quoted fields, line breaks and doubled quotes the same in chunks of %i', (size) => {
    expect(records(text, size)).toEqual(expected);
  });

  it('takes another delimiter, a lone CR as a line break, and a trailing line break', () => {
    expect(records('1;2\r3;"4;5"\n', 4, ';')).toEqual([[1, ['1', '2']], [2, ['3', '4;5']]]);
  });

  it('refuses a quote inside an unquoted field, text after a closing quote and an unclosed quote, naming the line', () => {
    expect(() => records('a,b\n1,2"3\n', 100)).toThrow(/t.csv line 2: a quote may only open a field/);
    expect(() => records('a\n"x"y\n', 3)).toThrow(/t.csv line 2: a quoted field must end at its closing quote.*got 'y'/);
    expect(() => records('a\n1\n"open\n\n', 2)).toThrow(/t.csv line 3: a quoted field is not closed before the end of the file/);
  });
});

describe('Dataset.fromCsv', () => {
  const table = 'x1,id,x2,y\n1,a,2,0\n3,"b, c",-4.5,1\n5,d,6e1,2\n';

  it('gives feature vectors, or [features, label], skipping columns not picked', async () => {
    const path = csv(table);
    expect(await collect(Dataset.fromCsv(path, { columns: ['x1', 'x2'] }))).toEqual([[1, 2], [3, -4.5], [5, 60]]);
    expect(await collect(Dataset.fromCsv(path, { columns: ['x2', 0], label: 'y' }))).toEqual([[[2, 1], 0], [[-4.5, 3], 1], [[60, 5], 2]]);
    expect(await collect(Dataset.fromCsv(path, { columns: ['x1'], label: ['y', 'x2'] }))).toEqual([[[1], [0, 2]], [[3], [1, -4.5]], [[5], [2, 60]]]);
    const first = (await collect(Dataset.fromCsv(path, { columns: ['x1'], label: 'y' }), 1)) as unknown[];
    expect(first).toHaveLength(1);
  });

  it('batches as it parses, the last batch smaller; each pass reads the file again', async () => {
    const ds = Dataset.fromCsv(csv(table), { columns: ['x1', 'x2'], label: 'y', batchSize: 2 });
    const want = [[[[1, 2], [3, -4.5]], [0, 1]], [[[5, 60]], [2]]];
    expect(await collect(ds)).toEqual(want);
    expect(await collect(ds)).toEqual(want);
    for await (const [x, y] of ds) {
      expect([x.dtype, y.dtype]).toEqual(['float32', 'float32']);
      kiln.dispose([x, y]);
    }
  });

  it('reads files without a header by column index, with another delimiter, a BOM, defaults and special values', async () => {
    const path = csv('\ufeff1;;nan\n2;7;-Inf\n');
    const ds = Dataset.fromCsv(path, { header: false, delimiter: ';', columns: [0, 2], label: 1, columnDefaults: { 1: -1 } });
    expect(await collect(ds)).toEqual([[[1, NaN], -1], [[2, -Infinity], 7]]);
    const named = Dataset.fromCsv(csv('\ufeffa,b\n1,\n'), { columnDefaults: { b: 0.5 } });
    expect(await collect(named)).toEqual([[1, 0.5]]);
    const listed = Dataset.fromCsv(csv('a,b\n,\n'), { columnDefaults: [3, 4] });
    expect(await collect(listed)).toEqual([[3, 4]]);
  });

  it('reads numbers as Number() does, in every notation', async () => {
    const cells = ['-0.5', '+.25', '1.', '007', '1e3', '-2.5E-2', '1234567890.123456', '0.1', '3.4028235e38', '123456789012345', '  42 ', '-inf', 'Infinity'];
    const got = (await collect(Dataset.fromCsv(csv(`${cells.map((_, i) => `c${i}`).join(',')}\n${cells.join(',')}\n`)))) as number[][];
    expect(got[0]).toEqual(cells.map((c) => Math.fround(c.trim().toLowerCase() === '-inf' ? -Infinity : Number(c))));
  });

  it('names the file, the line and the column of a bad cell or a ragged row', async () => {
    const path = csv('a,b\n1,2\n"3\n",4\n5,x7\n');
    await expect(collect(Dataset.fromCsv(path))).rejects.toThrow(new RegExp(`Dataset.fromCsv: .*f\\d+.csv line 5, column 2 \\('b'\\): expected a number, got "x7"`));
    await expect(collect(Dataset.fromCsv(csv('a,b\n1,2\n3\n')))).rejects.toThrow(/line 3 has 1 fields, but the header has 2/);
    await expect(collect(Dataset.fromCsv(csv('1,2\n3,4,5\n'), { header: false }))).rejects.toThrow(/line 2 has 3 fields, but the first row has 2/);
    await expect(collect(Dataset.fromCsv(csv('a,b\n1,\n')))).rejects.toThrow(/line 2, column 2 \('b'\): expected a number, got an empty cell/);
    for (const bad of ['0x10', '1e', '.', '-', '1.2.3', '1_000', 'abc']) {
      await expect(collect(Dataset.fromCsv(csv(`a\n${bad}\n`)))).rejects.toThrow(`expected a number, got "${bad}"`);
    }
  });

  it('fails on an empty file, a header without rows, and unknown or bad options', async () => {
    await expect(collect(Dataset.fromCsv(csv('')))).rejects.toThrow(/Dataset.fromCsv: .*csv is empty: expected a header row/);
    await expect(collect(Dataset.fromCsv(csv('a,b\n')))).rejects.toThrow(/has a header but no rows of data/);
    await expect(collect(Dataset.fromCsv(csv('a,b\n1,2\n'), { label: 'c' }))).rejects.toThrow(/label: .* has no column 'c'; its columns are a, b/);
    await expect(collect(Dataset.fromCsv(csv('a,a\n1,2\n')))).rejects.toThrow(/the header names column 'a' twice/);
    await expect(collect(Dataset.fromCsv(csv('a,b\n1,2\n'), { columnDefaults: { z: 1 } }))).rejects.toThrow(/columnDefaults: .* has no column 'z'/);
    await expect(collect(Dataset.fromCsv(csv('a,b\n1,2\n'), { columnDefaults: [1] }))).rejects.toThrow(/columnDefaults holds 1 values, but .* has 2 columns/);
    await expect(collect(Dataset.fromCsv(csv('a,b\n1,2\n'), { columns: [5] }))).rejects.toThrow(/columns 5 is past the 2 columns/);
    await expect(collect(Dataset.fromCsv(csv('a\n1\n'), { label: 'a' }))).rejects.toThrow(/no columns left for the features/);
    expect(() => Dataset.fromCsv(join(dir, 'none.csv'))).toThrow(/Dataset.fromCsv: file not found/);
    expect(() => Dataset.fromCsv(dir)).toThrow(/is not a file/);
    const path = csv('a\n1\n');
    expect(() => Dataset.fromCsv(path, { delimiter: '""' })).toThrow(/delimiter must be one character/);
    expect(() => Dataset.fromCsv(path, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => Dataset.fromCsv(path, { header: false, columns: ['a'] })).toThrow(/columns must be a non-empty list, each a 0-based column index \(the file has no header\)/);
  });

  it('trains a model to the same losses as the same rows given as tensors', async () => {
    // 300 rows of y = 2 x0 - x1 + 0.5 + a wobble, written with 6 decimals
    const rows = Array.from({ length: 300 }, (_, i) => {
      const x0 = Math.sin(i) * 2;
      const x1 = Math.cos(i * 0.7);
      return [x0, x1, 2 * x0 - x1 + 0.5 + 0.1 * Math.sin(i * 3)].map((v) => v.toFixed(6));
    });
    const path = csv(`x0,x1,y\n${rows.map((r) => r.join(',')).join('\n')}\n`);
    const model = () => {
      const m = new kiln.Sequential([kiln.Input({ shape: [2] }), new kiln.layers.Dense(1)]);
      m.setWeights([[[0.3], [-0.2]], [0]]);
      m.compile({ optimizer: new kiln.optimizers.SGD({ learningRate: 0.05 }), loss: 'mse' });
      return m;
    };
    const before = kiln.memory().numTensors;
    const trained = model();
    const fromFile = await trained.fit(Dataset.fromCsv(path, { label: 'y', batchSize: 32 }).prefetch(2), undefined, { epochs: 3, verbose: 0 });
    trained.dispose();
    // every batch read from the file was freed
    expect(kiln.memory().numTensors).toBe(before);
    const x = kiln.tensor(rows.map((r) => [Number(r[0]), Number(r[1])]));
    const y = kiln.tensor(rows.map((r) => Number(r[2])));
    const fromTensors = await model().fit(x, y, { epochs: 3, batchSize: 32, shuffle: false, verbose: 0 });
    expect(fromFile.history.loss).toEqual(fromTensors.history.loss);
    expect(fromFile.history.loss[2]).toBeLessThan(fromFile.history.loss[0]);
  });

  it('stops fit with the line of a bad cell found mid-epoch', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `${i % 7},${i % 3}`);
    lines[150] = '1,oops';
    const m = new kiln.Sequential([kiln.Input({ shape: [1] }), new kiln.layers.Dense(1)]);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const ds = Dataset.fromCsv(csv(`a,y\n${lines.join('\n')}\n`), { label: 'y', batchSize: 16 });
    // row 150 of the data is line 152 of the file (after the header)
    await expect(m.fit(ds, undefined, { epochs: 1, verbose: 0 })).rejects.toThrow(/line 152, column 2 \('y'\): expected a number, got "oops"/);
  });
});
