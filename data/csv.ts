import { statSync } from 'node:fs';
import { tensor } from '../src/creation.js';
import { fail } from '../src/errors.js';
import { csvRecords, type CsvRecord } from './csv-records.js';
import type { Element } from './element.js';
import type { Source } from './sources.js';

export interface CsvOptions {
  /** The feature columns in order, by header name or 0-based index; by default every column but the label's. */
  columns?: readonly (string | number)[];
  /** The label column: elements become `[features, label]`, the label a scalar (a list of columns gives a vector). */
  label?: string | number | readonly (string | number)[];
  /** Whether the first record names the columns (default true); without one, columns are picked by index. */
  header?: boolean;
  /** The one character between fields (default ','). */
  delimiter?: string;
  /**
   * Values for empty cells, by column name or index, or one per column of the file (tf.data's
   * record_defaults); an empty cell in a column without a default is an error.
   */
  columnDefaults?: Readonly<Record<string, number>> | readonly (number | undefined)[];
  /** Rows per element, stacked as they are parsed (faster than `.batch()` on single rows); the last may be smaller. */
  batchSize?: number;
}

const OP = 'Dataset.fromCsv';
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, infinity: Infinity };

// exact powers of ten: a double divided by one is correctly rounded (Clinger's fast path)
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A cell as a number: decimal or exponent notation, or nan / inf / infinity in any case (as
 * strtod). Plain decimals of up to 15 digits, nearly every cell, are read digit by digit: an
 * integer below 2^53 over an exact power of ten rounds once, as Number() would.
 */
function parseCell(cell: string): number | undefined {
  const n = cell.length;
  const c0 = cell.charCodeAt(0);
  const neg = c0 === 45;
  let i = neg || c0 === 43 ? 1 : 0;
  let mantissa = 0;
  let digits = 0;
  let fraction = -1;
  for (; i < n; i++) {
    const c = cell.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
    } else if (c === 46 && fraction < 0) fraction = digits;
    else break;
  }
  if (i === n && digits > 0 && digits <= 15) {
    const v = fraction < 0 ? mantissa : mantissa / POW10[digits - fraction];
    return neg ? -v : v;
  }
  if (NUMBER.test(cell)) return Number(cell);
  const word = (neg || c0 === 43 ? cell.slice(1) : cell).toLowerCase();
  return word in SPECIAL ? (neg ? -1 : 1) * SPECIAL[word] : undefined;
}

/** The layout of a pass, fixed by its first record: which fields go where, and the defaults. */
interface Layout {
  width: number;
  names: string[];
  features: number[];
  labels: number[];
  defaults: (number | undefined)[];
  /** The header's own line, already consumed. */
  headerLine: boolean;
}

function checkOptions(path: string, o: CsvOptions): void {
  if (typeof path !== 'string' || path === '') fail(OP, `expected a file path, got ${String(path)}`);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) fail(OP, `file not found: ${path}`);
  if (!stat.isFile()) fail(OP, `${path} is not a file`);
  const d = o.delimiter ?? ',';
  if (typeof d !== 'string' || d.length !== 1 || d === '"' || d === '\n' || d === '\r') fail(OP, `delimiter must be one character other than a quote or a line break, got ${JSON.stringify(d)}`);
  if (o.batchSize !== undefined && (!Number.isSafeInteger(o.batchSize) || o.batchSize < 1)) fail(OP, `batchSize must be a positive integer, got ${o.batchSize}`);
  const ref = (v: unknown) => (typeof v === 'string' && o.header !== false) || (Number.isSafeInteger(v) && (v as number) >= 0);
  const what = o.header === false ? 'a 0-based column index (the file has no header)' : 'a column name or a 0-based index';
  if (o.columns !== undefined && (!Array.isArray(o.columns) || o.columns.length === 0 || !o.columns.every(ref))) fail(OP, `columns must be a non-empty list, each ${what}, got ${JSON.stringify(o.columns)}`);
  const labels = o.label === undefined ? [] : Array.isArray(o.label) ? o.label : [o.label];
  if (labels.length === 0 && Array.isArray(o.label)) fail(OP, 'label must name at least one column');
  if (!labels.every(ref)) fail(OP, `label must be ${what}, or a list of them, got ${JSON.stringify(o.label)}`);
}

function layoutOf(path: string, first: CsvRecord, o: CsvOptions): Layout {
  const header = o.header !== false;
  const width = first.fields.length;
  const names = header ? first.fields : first.fields.map((_, i) => String(i));
  if (header) {
    names.forEach((n, i) => {
      if (n === '') fail(OP, `${path} line ${first.line}: the header's column ${i + 1} has no name`);
      if (names.indexOf(n) !== i) fail(OP, `${path} line ${first.line}: the header names column '${n}' twice`);
    });
  }
  const index = (c: string | number, field: string): number => {
    if (typeof c === 'number') return c < width ? c : fail(OP, `${field} ${c} is past the ${width} columns of ${path}`);
    const i = names.indexOf(c);
    return i >= 0 ? i : fail(OP, `${field}: ${path} has no column '${c}'; its columns are ${names.join(', ')}`);
  };
  const labels = (o.label === undefined ? [] : Array.isArray(o.label) ? o.label : [o.label]).map((c) => index(c as string | number, 'label'));
  const features = o.columns ? o.columns.map((c) => index(c, 'columns')) : names.map((_, i) => i).filter((i) => !labels.includes(i));
  if (features.length === 0) fail(OP, `${path} has no columns left for the features besides the label`);
  const defaults: (number | undefined)[] = new Array(width).fill(undefined);
  const given = o.columnDefaults;
  if (Array.isArray(given)) {
    if (given.length !== width) fail(OP, `columnDefaults holds ${given.length} values, but ${path} has ${width} columns`);
    given.forEach((v, i) => (defaults[i] = v));
  } else if (given) {
    // a record's keys are strings: '2' is column 2 unless a column is named '2'
    for (const [k, v] of Object.entries(given)) defaults[names.includes(k) ? names.indexOf(k) : index(/^\d+$/.test(k) ? Number(k) : k, 'columnDefaults')] = v;
  }
  defaults.forEach((v, i) => {
    if (v !== undefined && typeof v !== 'number') fail(OP, `columnDefaults for column '${names[i]}' must be a number, got ${JSON.stringify(v)}`);
  });
  return { width, names, features, labels, defaults, headerLine: header };
}

/** Streams rows into float32 buffers of `rows` rows and hands them out as tensors. */
class RowBuffer {
  private n = 0;
  private x: Float32Array;
  private y: Float32Array;

  constructor(private readonly path: string, private readonly layout: Layout, private readonly rows: number, private readonly batched: boolean, private readonly labelList: boolean) {
    this.x = new Float32Array(rows * layout.features.length);
    this.y = new Float32Array(rows * layout.labels.length);
  }

  get size(): number {
    return this.n;
  }

  add(r: CsvRecord): void {
    const { width, features, labels } = this.layout;
    if (r.fields.length !== width) fail(OP, `${this.path} line ${r.line} has ${r.fields.length} fields, but ${this.layout.headerLine ? 'the header has' : 'the first row has'} ${width}`);
    for (let j = 0; j < features.length; j++) this.x[this.n * features.length + j] = this.cell(r, features[j]);
    for (let j = 0; j < labels.length; j++) this.y[this.n * labels.length + j] = this.cell(r, labels[j]);
    this.n++;
  }

  private cell(r: CsvRecord, c: number): number {
    const cell = r.fields[c].trim();
    const v = cell === '' ? this.layout.defaults[c] : parseCell(cell);
    if (v !== undefined) return v;
    const where = `${this.path} line ${r.line}, column ${c + 1}${this.layout.headerLine ? ` ('${this.layout.names[c]}')` : ''}`;
    return fail(OP, `${where}: expected a number, got ${cell === '' ? 'an empty cell (give the column a default in columnDefaults)' : JSON.stringify(r.fields[c])}`);
  }

  /** The rows so far as an element, and a fresh buffer. */
  take(): Element {
    const { features, labels } = this.layout;
    const n = this.n;
    const lead = this.batched ? [n] : [];
    const x = tensor(this.x.subarray(0, n * features.length), [...lead, features.length]);
    const y = labels.length === 0 ? null : tensor(this.y.subarray(0, n * labels.length), this.labelList ? [...lead, labels.length] : lead);
    this.n = 0;
    this.x = new Float32Array(this.rows * features.length);
    this.y = new Float32Array(this.rows * labels.length);
    return y ? [x, y] : x;
  }
}

/** Rows of a CSV file read as a stream on each pass; with `batchSize`, stacked batches. */
export function csvSource(path: string, options: CsvOptions): Source {
  checkOptions(path, options);
  const delimiter = options.delimiter ?? ',';
  return {
    cardinality: -2,
    async *open() {
      let layout: Layout | null = null;
      let buffer: RowBuffer | null = null;
      let rows = 0;
      for await (const records of csvRecords(path, delimiter)) {
        for (const r of records) {
          if (!layout) {
            layout = layoutOf(path, r, options);
            buffer = new RowBuffer(path, layout, options.batchSize ?? 1, options.batchSize !== undefined, Array.isArray(options.label));
            if (layout.headerLine) continue;
          }
          buffer!.add(r);
          rows++;
          if (buffer!.size === options.batchSize || options.batchSize === undefined) yield buffer!.take();
        }
      }
      if (!layout) fail(OP, `${path} is empty${options.header !== false ? ': expected a header row of column names' : ''}`);
      if (rows === 0) fail(OP, `${path} has a header but no rows of data`);
      if (buffer!.size > 0) yield buffer!.take();
    },
  };
}
