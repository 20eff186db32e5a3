/**
 * The JSON file `kiln train` reads (documented in docs/cli.md): a Keras-style model config, the
 * data, compile and fit settings, and where to save. Every field is checked before any data is
 * loaded, so a typo fails in a second rather than after an epoch; paths are resolved against the
 * config file's folder and must exist.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { KilnError, fail } from '../src/errors.js';
import type { CompileArgs } from '../models/compile.js';
import type { FitOptions } from '../models/training.js';
import { boolean, expected, integer, isObject, number, object, oneOrMany, string, strings, type Json } from './check.js';
import { existingFile } from './data.js';
import { MAX_SEED } from '../src/random.js';
import { checkJsonDepth } from '../src/limits.js';

/** One array: a .npy file, or columns of a .csv file (one column named by a string gives shape [n]). */
export interface FileSpec {
  path: string;
  columns?: string | string[];
}

/** An array for each model input (or output): one, a list in order, or keyed by name. */
export type PerTensor<T> = T | T[] | Record<string, T>;

export type DataSource =
  | { kind: 'files'; x: PerTensor<FileSpec>; y: PerTensor<FileSpec> }
  | { kind: 'csv'; path: string; columns?: string[]; target: string | string[]; stream?: boolean }
  | { kind: 'mnist'; split: 'train' | 'test'; flatten: boolean; normalize: boolean; limit?: number };

export type FitSettings = Pick<FitOptions,
  'epochs' | 'batchSize' | 'shuffle' | 'validationSplit' | 'validationFreq' | 'initialEpoch' | 'stepsPerEpoch' | 'classWeight' | 'verbose'>;

export interface TrainConfig {
  model: { className: string; config: unknown };
  data: { train: DataSource; validation?: DataSource; test?: DataSource };
  compile: CompileArgs;
  fit: FitSettings;
  /** Where the trained model is saved (absolute). */
  output: string;
  seed?: number;
}

const TOP_FIELDS = ['description', 'seed', 'model', 'data', 'compile', 'fit', 'output'];

/** Reads and checks a train config; errors start with the file's path and name the field. */
export async function readTrainConfig(path: string): Promise<TrainConfig> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) =>
    fail(path, err.code === 'ENOENT' ? 'no such config file' : `cannot read the config: ${err.message}`));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(path, `not valid JSON: ${(err as Error).message}`);
  }
  checkJsonDepth(path, json, 'the config');
  try {
    return parseTrainConfig(json, path);
  } catch (err) {
    if (err instanceof KilnError) fail(path, err.message);
    throw err;
  }
}

/** Checks a parsed config; relative paths are taken from `file`'s folder. */
export function parseTrainConfig(json: unknown, file: string): TrainConfig {
  const top = object(json, 'top level', TOP_FIELDS, ['model', 'data', 'compile']);
  if (top.description !== undefined) string(top.description, 'description');
  const base = dirname(resolve(file));
  // the model config is Keras's format, checked by modelFromConfig; extra keys Keras writes are fine
  const model = top.model;
  if (!isObject(model)) expected('model', "a Keras-style model config { className: 'Sequential' or 'Functional', config }", model);
  string(model.className, 'model.className');
  if (!isObject(model.config)) expected('model.config', 'an object (the model\'s layers)', model.config);
  const fit = fitSettings(top.fit ?? {});
  const data = dataSection(top.data, base);
  if (data.validation && fit.validationSplit) fail('fit.validationSplit', 'give data.validation or fit.validationSplit, not both');
  if (streamed(data.train) && fit.validationSplit) fail('fit.validationSplit', 'a streamed data.train cannot be split: give data.validation');
  return {
    model: model as TrainConfig['model'],
    data,
    compile: compileArgs(top.compile),
    fit,
    output: top.output === undefined ? join(base, `${basename(file, extname(file))}.kiln`) : resolve(base, string(top.output, 'output')),
    ...(top.seed === undefined ? {} : { seed: integer(top.seed, 'seed', 0, MAX_SEED) }),
  };
}

function dataSection(v: unknown, base: string): TrainConfig['data'] {
  const o = object(v, 'data', ['train', 'validation', 'test'], ['train']);
  return {
    train: source(o.train, 'data.train', base, 'train'),
    ...(o.validation === undefined ? {} : { validation: source(o.validation, 'data.validation', base, 'test') }),
    ...(o.test === undefined ? {} : { test: source(o.test, 'data.test', base, 'test') }),
  };
}

function source(v: unknown, field: string, base: string, split: 'train' | 'test'): DataSource {
  if (!isObject(v)) return expected(field, "{ x, y } (files), { path, target } (one CSV file) or { dataset: 'mnist' }", v);
  if ('dataset' in v) {
    const o = object(v, field, ['dataset', 'split', 'flatten', 'normalize', 'limit']);
    if (o.dataset !== 'mnist') expected(`${field}.dataset`, "'mnist'", o.dataset);
    if (o.split !== undefined && o.split !== 'train' && o.split !== 'test') expected(`${field}.split`, "'train' or 'test'", o.split);
    return {
      kind: 'mnist',
      split: (o.split as 'train' | 'test' | undefined) ?? split,
      flatten: o.flatten === undefined ? false : boolean(o.flatten, `${field}.flatten`),
      normalize: o.normalize === undefined ? false : boolean(o.normalize, `${field}.normalize`),
      ...(o.limit === undefined ? {} : { limit: integer(o.limit, `${field}.limit`, 1) }),
    };
  }
  if ('path' in v) {
    const o = object(v, field, ['path', 'columns', 'target', 'stream'], ['path', 'target']);
    const path = csvFile(o.path, `${field}.path`, base);
    const target = typeof o.target === 'string' ? string(o.target, `${field}.target`) : strings(o.target, `${field}.target`);
    return {
      kind: 'csv', path, target,
      ...(o.columns === undefined ? {} : { columns: strings(o.columns, `${field}.columns`) }),
      ...(o.stream === undefined ? {} : { stream: boolean(o.stream, `${field}.stream`) }),
    };
  }
  const o = object(v, field, ['x', 'y'], ['x', 'y']);
  const files = (w: unknown, f: string) => oneOrMany(w, f, (e, g) => fileSpec(e, g, base), isFileSpec);
  return { kind: 'files', x: files(o.x, `${field}.x`), y: files(o.y, `${field}.y`) };
}

/** Whether a source is a CSV file read as a stream, a batch at a time, rather than loaded whole. */
export function streamed(source: DataSource): boolean {
  return source.kind === 'csv' && source.stream === true;
}

function isFileSpec(v: unknown): boolean {
  return typeof v === 'string' || (isObject(v) && 'path' in v);
}

function fileSpec(v: unknown, field: string, base: string): FileSpec {
  if (typeof v === 'string') return { path: existingFile(resolve(base, string(v, field)), field, ['.npy', '.csv']) };
  const o = object(v, field, ['path', 'columns'], ['path']);
  if (o.columns === undefined) return fileSpec(o.path, `${field}.path`, base);
  const columns = typeof o.columns === 'string' ? string(o.columns, `${field}.columns`) : strings(o.columns, `${field}.columns`);
  return { path: csvFile(o.path, `${field}.path`, base), columns };
}

function csvFile(v: unknown, field: string, base: string): string {
  return existingFile(resolve(base, string(v, field)), field, ['.csv']);
}

/** Far above any real run, far below a loop that never ends (docs/reliability.md). */
export const MAX_EPOCHS = 1_000_000;
export const MAX_STEPS = 1_000_000_000;
/** A batch is one tensor: its rows are bounded by the int32 sizes the native kernels take. */
export const MAX_BATCH = 2 ** 31 - 1;

const FIT_CHECKS: Record<keyof FitSettings, (v: unknown, field: string) => unknown> = {
  epochs: (v, f) => integer(v, f, 1, MAX_EPOCHS),
  batchSize: (v, f) => integer(v, f, 1, MAX_BATCH),
  stepsPerEpoch: (v, f) => integer(v, f, 1, MAX_STEPS),
  validationFreq: (v, f) => integer(v, f, 1, MAX_EPOCHS),
  initialEpoch: (v, f) => integer(v, f, 0, MAX_EPOCHS),
  shuffle: boolean,
  validationSplit: (v, f) => (number(v, f) >= 0 && (v as number) < 1 ? v : expected(f, 'a fraction in [0, 1)', v)),
  verbose: (v, f) => (v === 0 || v === 1 || v === 2 || v === 'json' ? v : expected(f, "0 (silent), 1 (progress), 2 (a line per epoch) or 'json' (a JSON line per epoch)", v)),
  classWeight: (v, f) => {
    if (!isObject(v)) expected(f, 'an object mapping class indices to weights, e.g. {"0": 1, "1": 5}', v);
    for (const [k, w] of Object.entries(v)) {
      if (!/^\d+$/.test(k)) fail(f, `keys must be class indices (0, 1, ...), got '${k}'`);
      number(w, `${f}.${k}`);
    }
    return v;
  },
};

function fitSettings(v: unknown): FitSettings {
  const o = object(v, 'fit', Object.keys(FIT_CHECKS));
  return Object.fromEntries(Object.entries(o).map(([k, w]) => [k, FIT_CHECKS[k as keyof FitSettings](w, `fit.${k}`)])) as FitSettings;
}

/** A Keras identifier: a name ('adam', 'mse') or a serialized object ({ className, config }). */
function identifier(v: unknown, field: string, what: string): unknown {
  if (typeof v === 'string' && v !== '') return v;
  if (isObject(v) && typeof v.className === 'string' && (v.config === undefined || isObject(v.config))) return v;
  return expected(field, `${what}: a name or { className, config }`, v);
}

const isIdentifier = (v: unknown): boolean => typeof v === 'string' || (isObject(v) && 'className' in v);

function compileArgs(v: unknown): CompileArgs {
  const o = object(v, 'compile', ['optimizer', 'loss', 'lossWeights', 'metrics', 'weightedMetrics'], ['loss']);
  if (o.optimizer !== undefined) identifier(o.optimizer, 'compile.optimizer', 'an optimizer');
  // one per output as a list, or keyed by output name: compile() checks them against the model's outputs
  oneOrMany(o.loss, 'compile.loss', (e, f) => identifier(e, f, 'a loss'), isIdentifier);
  if (o.lossWeights !== undefined) oneOrMany(o.lossWeights, 'compile.lossWeights', number, (w) => typeof w === 'number');
  for (const key of ['metrics', 'weightedMetrics'] as const) if (o[key] !== undefined) metricLists(o[key], `compile.${key}`);
  return o as CompileArgs;
}

/** A list of metrics for every output, or one list per output (a list of lists, or keyed by output name). */
function metricLists(v: unknown, field: string): void {
  const list = (w: unknown, f: string) => {
    if (!Array.isArray(w)) expected(f, 'a list of metrics', w);
    w.forEach((m, i) => identifier(m, `${f}[${i}]`, 'a metric'));
  };
  if (Array.isArray(v) && v.some(Array.isArray)) v.forEach((w, i) => list(w, `${field}[${i}]`));
  else if (isObject(v)) Object.entries(v as Json).forEach(([k, w]) => list(w, `${field}.${k}`));
  else list(v, field);
}
