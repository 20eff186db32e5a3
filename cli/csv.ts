/**
 * CSV files of numbers: a header row of column names, then one sample per line. Cells may be
 * quoted; a quoted cell cannot span lines (a table of numbers has no use for it). Cells are
 * parsed only in the columns asked for, so a text column (an id, a comment) may sit beside them.
 */
import { readFile } from 'node:fs/promises';
import { tensor } from '../src/creation.js';
import { fail } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';

export interface CsvTable {
  /** As shown in messages. */
  name: string;
  header: string[];
  rows: string[][];
  /** The file line of each row, for messages. */
  lines: number[];
}

export async function readCsv(path: string, name = path): Promise<CsvTable> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) =>
    fail(name, err.code === 'ENOENT' ? 'file not found' : `cannot read it: ${err.message}`));
  const rows: string[][] = [];
  const lines: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    rows.push(cells(line, name, i + 1));
    lines.push(i + 1);
  });
  const header = rows.shift();
  lines.shift();
  if (!header) fail(name, 'the file is empty; expected a header row of column names');
  header.forEach((h, i) => {
    if (h === '') fail(name, `the header's column ${i + 1} has no name`);
    if (header.indexOf(h) !== i) fail(name, `the header names column '${h}' twice`);
  });
  rows.forEach((row, r) => {
    if (row.length !== header.length) fail(name, `line ${lines[r]} has ${row.length} cells, the header has ${header.length}`);
  });
  if (rows.length === 0) fail(name, 'no rows of data after the header');
  return { name, header, rows, lines };
}

function cells(line: string, name: string, lineNo: number): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c !== '"') cell += c;
      else if (line[i + 1] === '"') cell += line[++i];
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  if (quoted) fail(name, `line ${lineNo} has an unterminated quote`);
  out.push(cell.trim());
  return out;
}

/**
 * The named columns as float32: one name (a string) gives shape [n], a list [n, k], and no
 * names every column, [n, k]. A cell that is not a number fails, naming its line and column.
 */
export function csvColumns(table: CsvTable, names?: string | readonly string[]): Tensor {
  const list = names === undefined ? table.header : typeof names === 'string' ? [names] : names;
  const index = list.map((n) => {
    const i = table.header.indexOf(n);
    return i >= 0 ? i : fail(table.name, `no column '${n}'; the columns are ${table.header.join(', ')}`);
  });
  const k = index.length;
  const values = new Float32Array(table.rows.length * k);
  table.rows.forEach((row, r) => index.forEach((c, j) => {
    const cell = row[c];
    const v = Number(cell);
    if (cell === '' || Number.isNaN(v)) {
      fail(table.name, `line ${table.lines[r]}, column '${table.header[c]}': expected a number, got ${cell === '' ? 'an empty cell' : `'${cell}'`}`);
    }
    values[r * k + j] = v;
  }));
  return tensor(values, typeof names === 'string' ? [table.rows.length] : [table.rows.length, k]);
}
