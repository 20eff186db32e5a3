import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { fail } from '../src/errors.js';
import { Callback, type Logs } from '../models/callback.js';

export interface CSVLoggerOptions {
  /** Between fields (default ','). */
  separator?: string;
  /** Add to an existing file (to continue a run) instead of overwriting it. */
  append?: boolean;
}

/**
 * Streams each epoch's logs to a CSV file (Keras's CSVLogger): an `epoch` column, then the log
 * keys of the first epoch in sorted order; a key missing from a later epoch is written `NA`.
 * @example
 * await model.fit(x, y, { epochs: 10, callbacks: [new kiln.callbacks.CSVLogger('run/log.csv')] });
 */
export class CSVLogger extends Callback {
  readonly filename: string;
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | null = null;
  private writeHeader = true;

  constructor(filename: string, { separator = ',', append = false }: CSVLoggerOptions = {}) {
    super();
    if (typeof filename !== 'string' || filename === '') fail('CSVLogger', `expected a file name, got ${String(filename)}`);
    this.filename = filename;
    this.separator = separator;
    this.append = append;
  }

  override async onTrainBegin(): Promise<void> {
    this.keys = null;
    if (this.append) this.writeHeader = (await readIfExists(this.filename)).split('\n', 1)[0] === '';
    else {
      this.writeHeader = true;
      await writeFile(this.filename, '');
    }
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    let text = '';
    if (this.keys === null) {
      this.keys = Object.keys(logs).sort();
      if (this.writeHeader) text += this.row(['epoch', ...this.keys]);
    }
    text += this.row([String(epoch), ...this.keys.map((k) => (k in logs ? String(logs[k]) : 'NA'))]);
    // one append per epoch: a run that crashes keeps every finished row and holds no open file
    await appendFile(this.filename, text);
  }

  private row(fields: string[]): string {
    return fields.map((f) => this.quote(f)).join(this.separator) + '\n';
  }

  // Python's csv module quotes a field that holds the separator, a quote or a line break
  private quote(field: string): string {
    return field.includes(this.separator) || /["\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
  }
}

async function readIfExists(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
}
