import { readFile, stat } from 'node:fs/promises';
import { fail } from '../../src/errors.js';
import { describe, fromHistory, number, type HistoryLike, type RunLog } from '../../callbacks/report/run-log.js';
import { readTensorBoardLog } from './tensorboard-log.js';

const OP = 'trainingReport';

/**
 * Reads a log file kiln writes: CSVLogger's `.csv` (an `epoch` column, `NA` for a missing value),
 * JSON lines (`.jsonl`/`.ndjson`, one object of logs per epoch, `epoch` optional) or a History's
 * JSON (`.json`: `{ epoch, history }` or the `history` object alone); a folder is read as
 * callbacks.TensorBoard's log folder.
 */
export async function readRunLog(path: string): Promise<RunLog> {
  if (typeof path !== 'string' || path === '') fail(OP, `expected a log file path, got ${describe(path)}`);
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => fail(OP, e.code === 'ENOENT' ? `the log file ${path} does not exist` : `cannot read ${path}: ${e.message}`));
  if (info.isDirectory()) return readTensorBoardLog(path);
  const text = await readFile(path, 'utf8');
  const ext = path.slice(path.lastIndexOf('.')).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return fromCsv(text, path, ext === '.tsv' ? '\t' : ',');
  if (ext === '.jsonl' || ext === '.ndjson') return fromJsonLines(text, path);
  if (ext === '.json') return fromJson(text, path);
  return fail(OP, `${path}: unknown log format '${ext}': expected .csv (CSVLogger), .jsonl/.ndjson (JSON lines) or .json (a History)`);
}

function fromJson(text: string, path: string): RunLog {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return fail(OP, `${path}: not valid JSON (${(e as Error).message})`);
  }
  const obj = value as Record<string, unknown>;
  const isHistory = obj !== null && typeof obj === 'object' && !Array.isArray(obj) && 'history' in obj;
  return fromHistory((isHistory ? obj : { history: obj }) as unknown as HistoryLike, OP, path);
}

function fromJsonLines(text: string, path: string): RunLog {
  const rows: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      fail(OP, `${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) fail(OP, `${path}:${i + 1}: expected an object of logs, got ${describe(row)}`);
    rows.push(row as Record<string, unknown>);
  });
  return fromRows(rows, path, (r) => `${path}: record ${r + 1}`);
}

function fromCsv(text: string, path: string, separator: string): RunLog {
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  if (lines.length === 0) fail(OP, `${path}: the file is empty (expected CSVLogger's header line, then one line per epoch)`);
  const header = splitCsv(lines[0], separator, `${path}:1`);
  const rows = lines.slice(1).map((line, i) => {
    const cells = splitCsv(line, separator, `${path}:${i + 2}`);
    if (cells.length !== header.length) fail(OP, `${path}:${i + 2}: ${cells.length} fields, the header has ${header.length}`);
    return Object.fromEntries(header.map((h, k) => [h, cells[k] === 'NA' || cells[k] === '' ? null : csvNumber(cells[k], `${path}:${i + 2}, column '${h}'`)]));
  });
  return fromRows(rows, path, (r) => `${path}:${r + 2}`);
}

/** One record per epoch → series; a key absent from a record is missing (null) there. */
function fromRows(rows: Record<string, unknown>[], path: string, at: (r: number) => string): RunLog {
  if (rows.length === 0) fail(OP, `${path}: no epochs logged`);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'epoch');
  const epochs = rows.map((r, i) => {
    if (r.epoch === undefined) return i;
    if (!Number.isInteger(r.epoch)) fail(OP, `${at(i)}: epoch must be an integer, got ${describe(r.epoch)}`);
    return r.epoch as number;
  });
  const series = Object.fromEntries(keys.map((k) => [k, rows.map((r, i) => (r[k] === undefined ? null : number(r[k], OP, `${at(i)}: '${k}'`)))]));
  return { epochs, series };
}

function splitCsv(line: string, separator: string, where: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === separator) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  if (quoted) fail(OP, `${where}: a quoted field is not closed`);
  cells.push(cell);
  return cells;
}

/** CSVLogger writes JavaScript's `String(v)`; Python's CSVLogger writes `nan`/`inf`. */
function csvNumber(cell: string, where: string): number | null {
  const special: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity, infinity: Infinity, '-infinity': -Infinity };
  const key = cell.trim().toLowerCase();
  const v = key in special ? special[key] : cell.trim() === '' ? NaN : Number(cell);
  if (Number.isNaN(v) && key !== 'nan') fail(OP, `${where}: expected a number, got ${JSON.stringify(cell)}`);
  return Number.isFinite(v) ? v : null;
}

