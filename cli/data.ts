/** Arrays for the CLI: from .npy files, .csv columns, or kiln's MNIST. */
import { statSync, type Stats } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import { dirname, extname, isAbsolute, relative } from 'node:path';
import { KilnError, fail } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { readNpy } from '../io/npy.js';
import { mnist, type Mnist } from '../io/datasets/mnist.js';
import { reshape, slice } from '../src/ops/movement.js';
import { csvColumns, readCsv, type CsvTable } from './csv.js';
import { Dataset } from '../data/dataset.js';
import type { DataSource, FileSpec, PerTensor } from './train-config.js';

/** A path relative to the working folder when inside it (shorter in messages), else absolute. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** `path` when it is an existing file with one of `extensions`; otherwise an error naming `field`. */
export function existingFile(path: string, field: string, extensions: readonly string[]): string {
  noNul(path, field);
  if (!extensions.includes(extname(path).toLowerCase())) fail(field, `expected a ${extensions.join(' or ')} file, got ${shownPath(path)}`);
  const stat = fileStat(path, field);
  if (!stat) fail(field, `file not found: ${shownPath(path)}`);
  if (!stat.isFile()) fail(field, `${shownPath(path)} is not a file`);
  return path;
}

/**
 * Makes `path`'s folder and proves a file can be created in it, before any training, so a path
 * that cannot be written fails in a second with `field` named. Folders are made one level at a
 * time: a recursive mkdir under a file system that refuses folders (/proc) retries forever.
 */
export async function writableOutput(path: string, field: string): Promise<void> {
  noNul(path, field);
  const cannot = (err: NodeJS.ErrnoException): never => fail(field, `cannot write ${shownPath(path)}: ${err.code ?? err.message}`);
  const missing: string[] = [];
  let dir = dirname(path);
  for (; !found(dir); dir = dirname(dir)) missing.unshift(dir);
  if (!statSync(dir).isDirectory()) fail(field, `cannot write ${shownPath(path)}: ${shownPath(dir)} is not a folder`);
  for (const d of missing) await mkdir(d).catch(cannot);
  const probe = `${path}.${process.pid}.probe`;
  const handle = await open(probe, 'wx').catch(cannot);
  await handle.close();
  await unlink(probe);
}

/** The file's status, or undefined if there is none; a path too long, or through a file or a folder not ours, names `field`. */
function fileStat(path: string, field: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    return fail(field, `cannot read ${shownPath(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Node's file calls throw a TypeError, not an error kiln can name the field in, for a path holding NUL. */
function noNul(path: string, field: string): void {
  if (path.includes('\0')) fail(field, `a path cannot contain a NUL character, got ${JSON.stringify(path)}`);
}

/** Whether `path` exists; a file standing where a folder should be makes its children missing, not an error. */
function found(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw err;
  }
}

// a config often reads x and y from one CSV file, and train and test from one MNIST load
const tables = new Map<string, Promise<CsvTable>>();
const mnists = new Map<boolean, Promise<Mnist>>();

function table(path: string): Promise<CsvTable> {
  if (!tables.has(path)) tables.set(path, readCsv(path, shownPath(path)));
  return tables.get(path)!;
}

/** One array from a .npy file or from columns of a .csv file. */
export async function loadFile(spec: FileSpec): Promise<Tensor> {
  if (extname(spec.path).toLowerCase() === '.npy') {
    return spec.columns === undefined ? readNpy(spec.path) : fail(shownPath(spec.path), 'columns can only be picked from a .csv file');
  }
  return csvColumns(await table(spec.path), spec.columns);
}

/** x and y of a config's data source; errors name `field` (e.g. data.train). */
export async function loadSource(source: DataSource, field: string): Promise<{ x: PerTensor<Tensor>; y: PerTensor<Tensor> }> {
  try {
    if (source.kind === 'mnist') return await mnistSource(source);
    if (source.kind === 'csv') {
      const t = await table(source.path);
      const targets = typeof source.target === 'string' ? [source.target] : source.target;
      const columns = source.columns ?? t.header.filter((h) => !targets.includes(h));
      if (columns.length === 0) fail(shownPath(source.path), 'has no columns left for x besides the target');
      return { x: csvColumns(t, columns), y: csvColumns(t, source.target) };
    }
    return { x: await perTensor(source.x), y: await perTensor(source.y) };
  } catch (err) {
    if (err instanceof KilnError) fail(field, err.message);
    throw err;
  }
}

/**
 * What fit and evaluate take for a source: `[x, y]` arrays, or for a streamed CSV source a
 * Dataset of `[x, y]` batches read from the file as training goes (in file order: a stream is not
 * shuffled).
 */
export async function fitData(source: DataSource, field: string, batchSize: number): Promise<[PerTensor<Tensor>, PerTensor<Tensor>] | [Dataset<[Tensor, Tensor]>]> {
  if (source.kind !== 'csv' || !source.stream) {
    const { x, y } = await loadSource(source, field);
    return [x, y];
  }
  try {
    return [Dataset.fromCsv(source.path, { label: source.target, batchSize, ...(source.columns ? { columns: source.columns } : {}) }).prefetch(2)];
  } catch (err) {
    if (err instanceof KilnError) fail(field, err.message);
    throw err;
  }
}

async function perTensor(v: PerTensor<FileSpec>): Promise<PerTensor<Tensor>> {
  if (Array.isArray(v)) return Promise.all(v.map(loadFile));
  if (typeof v.path === 'string') return loadFile(v as FileSpec);
  return Object.fromEntries(await Promise.all(Object.entries(v as Record<string, FileSpec>).map(async ([k, s]) => [k, await loadFile(s)] as const)));
}

async function mnistSource(source: Extract<DataSource, { kind: 'mnist' }>): Promise<{ x: Tensor; y: Tensor }> {
  if (!mnists.has(source.normalize)) mnists.set(source.normalize, mnist({ normalize: source.normalize }));
  let [x, y] = (await mnists.get(source.normalize)!)[source.split];
  const n = source.limit ?? x.shape[0];
  if (n > x.shape[0]) fail('limit', `${n} is more than the ${x.shape[0]} samples of MNIST's ${source.split} split`);
  if (n < x.shape[0]) [x, y] = [slice(x, [0, 0, 0], [n, 28, 28]), slice(y, [0], [n])];
  return { x: source.flatten ? reshape(x, [n, 784]) : x, y };
}
