import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { fail } from '../src/errors.js';

/** One record of a CSV file: its fields and the (1-based) line it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;

/**
 * RFC 4180 records of a text, fed a chunk at a time (a record may span chunks): fields split by
 * `delimiter`, records by LF, CRLF or CR; a field in double quotes may hold the delimiter, line
 * breaks and doubled quotes. Blank lines are skipped.
 */
export class CsvRecordParser {
  private fields: string[] = [];
  private field = '';
  private quoted = false;
  /** Just read a quote inside a quoted field: the next char says whether it was a doubled quote or the end. */
  private quoteEnd = false;
  private fieldStarted = false;
  private afterCR = false;
  private line = 1;
  private recordLine = 1;
  private readonly delim: number;

  constructor(private readonly file: string, private readonly delimiter: string) {
    this.delim = delimiter.charCodeAt(0);
  }

  /** The records completed by `chunk`, in order. */
  feed(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    let i = 0;
    if (this.afterCR) {
      this.afterCR = false;
      if (chunk.charCodeAt(0) === LF) i = 1;
    }
    while (i < chunk.length) {
      // most lines hold no quote: split them whole, natively, and walk the rest char by char
      if (this.fields.length === 0 && !this.fieldStarted && this.field === '') {
        const nl = chunk.indexOf('\n', i);
        if (nl !== -1) {
          const line = chunk.slice(i, nl > i && chunk.charCodeAt(nl - 1) === CR ? nl - 1 : nl);
          if (!line.includes('"') && !line.includes('\r')) {
            if (line !== '') out.push({ fields: line.split(this.delimiter), line: this.line });
            this.line++;
            this.recordLine = this.line;
            i = nl + 1;
            continue;
          }
        }
      }
      i = this.walk(chunk, i, out);
    }
    return out;
  }

  /** Reads `chunk` from `from` char by char to the end of a record (pushed to `out`) or of the chunk; returns where it stopped. */
  private walk(chunk: string, from: number, out: CsvRecord[]): number {
    let start = from;
    for (let i = from; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (this.quoted) {
        if (c === QUOTE) {
          this.field += chunk.slice(start, i);
          this.quoted = false;
          this.quoteEnd = true;
          start = i + 1;
        } else if (c === LF || c === CR) {
          if (c === CR && chunk.charCodeAt(i + 1) === LF) i++;
          this.line++;
        }
        continue;
      }
      if (this.quoteEnd) {
        this.quoteEnd = false;
        if (c === QUOTE) {
          // a doubled quote: one quote of the field, which stays quoted
          this.quoted = true;
          start = i;
          continue;
        }
        if (c !== this.delim && c !== LF && c !== CR) {
          fail('Dataset.fromCsv', `${this.file} line ${this.line}: a quoted field must end at its closing quote (a quote inside it is written twice), got '${chunk[i]}' after it`);
        }
      }
      if (c === this.delim) {
        this.fields.push(this.field + chunk.slice(start, i));
        this.field = '';
        this.fieldStarted = true;
        start = i + 1;
      } else if (c === LF || c === CR) {
        const last = this.field + chunk.slice(start, i);
        if (this.fieldStarted || this.fields.length > 0 || last !== '') out.push({ fields: [...this.fields, last], line: this.recordLine });
        this.fields = [];
        this.field = '';
        this.fieldStarted = false;
        this.line++;
        this.recordLine = this.line;
        if (c === CR) {
          if (i + 1 === chunk.length) this.afterCR = true;
          else if (chunk.charCodeAt(i + 1) === LF) i++;
        }
        return i + 1;
      } else if (c === QUOTE) {
        if (i !== start || this.field !== '') fail('Dataset.fromCsv', `${this.file} line ${this.line}: a quote may only open a field (quote the whole field, and write a quote inside it twice)`);
        this.quoted = true;
        this.fieldStarted = true;
        start = i + 1;
      }
    }
    this.field += chunk.slice(start);
    return chunk.length;
  }

  /** The last record, when the text does not end with a line break. */
  end(): CsvRecord[] {
    if (this.quoted) fail('Dataset.fromCsv', `${this.file} line ${this.recordLine}: a quoted field is not closed before the end of the file`);
    const last = this.field;
    const done = this.fieldStarted || this.fields.length > 0 || last !== '' ? [{ fields: [...this.fields, last], line: this.recordLine }] : [];
    this.fields = [];
    this.field = '';
    this.fieldStarted = false;
    return done;
  }
}

/**
 * The records of a file, a chunk's worth at a time, read as a stream (the file is never held
 * whole). A UTF-8 byte order mark is dropped.
 */
export async function* csvRecords(path: string, delimiter: string, chunkBytes = 1 << 20): AsyncGenerator<CsvRecord[]> {
  const stream = createReadStream(path, { highWaterMark: chunkBytes });
  const decoder = new StringDecoder('utf8');
  const parser = new CsvRecordParser(path, delimiter);
  let first = true;
  try {
    for await (const chunk of stream) {
      let text = decoder.write(chunk as Buffer);
      if (first && text !== '') {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      yield parser.feed(text);
    }
    yield [...parser.feed(decoder.end()), ...parser.end()];
  } finally {
    stream.destroy();
  }
}
