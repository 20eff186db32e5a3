/**
 * Saving models and weights as `.kiln` files: one zip archive of JSON documents and raw
 * little-endian tensors, written atomically. docs/format.md describes the contents.
 */
import { stat } from 'node:fs/promises';
import { version } from '../src/version.js';
import { fail } from '../src/errors.js';
import { Metric, getMetric, serializeMetric, type SerializedMetric } from '../metrics/index.js';
import { serializeLoss, type SerializedLoss } from '../losses/index.js';
import { serializeOptimizer } from '../optimizers/index.js';
import type { Model } from '../models/model.js';
import { modelToConfig, type SerializedModel } from '../models/serialize.js';
import type { Compiled } from '../models/compile.js';
import { writeFileAtomic } from './atomic.js';
import { FORMAT, FORMAT_VERSION, encodeTensors, sha256, type FileKind, type ManifestEntry, type Metadata } from './format.js';
import { zipChunks, type ZipEntry } from './zip.js';

/** A metric as compile received it: a Keras id string stays a string (it resolves by shapes again). */
export type SavedMetric = string | SerializedMetric;

/** What compile() was given, as JSON: enough to compile the loaded model the same way. */
export interface CompileConfig {
  optimizer: { className: string; config: Record<string, unknown> };
  /** One per output; null where an output has no loss. */
  loss: (SerializedLoss | null)[];
  lossWeights: number[];
  /** One list per output. */
  metrics: SavedMetric[][];
  weightedMetrics: SavedMetric[][];
}

/** config.json: the architecture (modelToConfig) and how the model was compiled. */
export type ConfigFile = SerializedModel & { compileConfig: CompileConfig | null };

export interface SaveOptions {
  /** Replace an existing file (default true); false fails instead. */
  overwrite?: boolean;
}

/**
 * Saves the architecture, weights, compile settings and optimizer state in one `.kiln` file;
 * loadModel restores it and training resumes exactly. The file is written atomically: a crash
 * or error leaves the previous file, if any, as it was.
 * @example
 * await saveModel(model, 'model.kiln');
 * const again = await loadModel('model.kiln');
 */
export async function saveModel(model: Model, path: string, options: SaveOptions = {}): Promise<void> {
  const op = 'saveModel';
  await checkOverwrite(op, path, options.overwrite ?? true);
  const config: ConfigFile = { ...modelToConfig(model), compileConfig: model.compiled ? compileConfig(model.compiled, op) : null };
  const weights = await encodeTensors(model.getWeightVariables());
  const optimizer = await encodeTensors(model.compiled?.optimizer.variables ?? []);
  const entries: ZipEntry[] = [
    json('config.json', config),
    json('weights.json', { weights: weights.manifest } satisfies WeightsFile),
    { name: 'weights.bin', data: weights.blob },
    json('optimizer.json', { variables: optimizer.manifest } satisfies OptimizerFile),
    { name: 'optimizer.bin', data: optimizer.blob },
  ];
  await writeFileAtomic(path, zipChunks([json('metadata.json', metadata(model, 'model', entries)), ...entries]), op);
}

/**
 * Saves only the weights (a `.weights.kiln` file: metadata, weights.json, weights.bin), for
 * loadWeights into a model built in code.
 */
export async function saveWeights(model: Model, path: string, options: SaveOptions = {}): Promise<void> {
  const op = 'saveWeights';
  await checkOverwrite(op, path, options.overwrite ?? true);
  const weights = await encodeTensors(model.getWeightVariables());
  const entries: ZipEntry[] = [
    json('weights.json', { weights: weights.manifest } satisfies WeightsFile),
    { name: 'weights.bin', data: weights.blob },
  ];
  await writeFileAtomic(path, zipChunks([json('metadata.json', metadata(model, 'weights', entries)), ...entries]), op);
}

export interface WeightsFile {
  weights: ManifestEntry[];
}

export interface OptimizerFile {
  /** optimizer.variables: the step counter first, then each model variable's slots. */
  variables: ManifestEntry[];
}

async function checkOverwrite(op: string, path: string, overwrite: boolean): Promise<void> {
  if (typeof path !== 'string' || path === '') fail(op, `expected a file path, got ${JSON.stringify(path)}`);
  if (!overwrite && (await stat(path).catch(() => null))) fail(op, `${path} already exists; pass { overwrite: true } to replace it`);
}

function metadata(model: Model, kind: FileKind, entries: readonly ZipEntry[]): Metadata {
  return {
    format: FORMAT, formatVersion: FORMAT_VERSION, kind, kilnVersion: version, savedAt: new Date().toISOString(),
    modelName: model.name, modelClass: model.className,
    sha256: Object.fromEntries(entries.map((e) => [e.name, sha256(e.data)])),
  };
}


function json(name: string, value: unknown): ZipEntry {
  return { name, data: Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8') };
}

function compileConfig(c: Compiled, op: string): CompileConfig {
  try {
    return {
      optimizer: serializeOptimizer(c.optimizer),
      loss: c.losses.map((l) => (l ? serializeLoss(l) : null)),
      lossWeights: [...c.lossWeights],
      metrics: c.metricIds.map((ids) => ids.map(metricId)),
      weightedMetrics: c.weightedMetricIds.map((ids) => ids.map(metricId)),
    };
  } catch (err) {
    return fail(op, `cannot save how the model was compiled: ${(err as Error).message}`);
  }
}

/** Strings stay ids; a Metric, class or function is saved as the Metric it resolves to. */
function metricId(id: unknown): SavedMetric {
  if (typeof id === 'string') return id;
  if (id instanceof Metric) return serializeMetric(id);
  const metric = getMetric(id);
  try {
    return serializeMetric(metric);
  } finally {
    metric.dispose();
  }
}
