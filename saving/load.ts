/**
 * Loading `.kiln` files: every part is checked (zip structure and CRCs, format and version,
 * manifests against their data, weights against the rebuilt model) before anything is used.
 */
import { open } from 'node:fs/promises';
import { fail, KilnError } from '../src/errors.js';
import { MeanMetricWrapper, Metric, type MetricFn, type SerializedMetric } from '../metrics/index.js';
import { Loss, getLoss, type LossClass } from '../losses/index.js';
import { Optimizer, getOptimizer } from '../optimizers/index.js';
import type { Model } from '../models/model.js';
import { modelFromConfig, type CustomObjects } from '../models/serialize.js';
import { ENGINE } from '../src/engine.js';
import { withWeightBudget } from '../src/limits.js';
import { assignChecked, checkHashes, checkManifest, checkMetadata, decodeTensors, readJson, type DecodeOptions, type FileKind, type ManifestEntry } from './format.js';
import type { CompileConfig, ConfigFile, OptimizerFile, SavedMetric, WeightsFile } from './save.js';
import { unzip } from './zip.js';

export interface LoadOptions extends DecodeOptions {
  /** Compile the model as it was saved, optimizer state included (default true). */
  compile?: boolean;
  /** Classes and functions configs may name besides kiln's: custom layers, losses, metrics, optimizers. */
  customObjects?: CustomObjects;
}

/**
 * Rebuilds a model saved by saveModel: architecture, weights, and (unless `compile: false`) the
 * compile settings with the optimizer's state, so fit continues where it stopped.
 * @example
 * const model = await loadModel('model.kiln', { customObjects: { Scale } });
 */
export async function loadModel(path: string, options: LoadOptions = {}): Promise<Model> {
  const op = 'loadModel';
  const entries = await readArchive(op, path, ['model']);
  const config = readJson(entries, 'config.json', op, path) as ConfigFile;
  const customObjects = options.customObjects ?? {};
  // the whole file is checked before anything is built: a config can claim any size
  const [manifest, blob] = weightsOf(entries, op, path);
  const optimizerState = config.compileConfig && (options.compile ?? true) ? optimizerOf(entries, op, path) : null;
  const declared = manifest.reduce((sum, e) => sum + e.byteLength, 0);
  let model: Model;
  try {
    model = ENGINE.undoOnFailure(() => withWeightBudget(declared, `the ${declared.toLocaleString('en-US')} bytes of weights the file holds`, () => modelFromConfig(config, customObjects)));
  } catch (err) {
    return fail(op, `${path}: cannot rebuild the model from config.json: ${(err as Error).message}`);
  }
  try {
    assignChecked(model.getWeightVariables(), decodeTensors(manifest, blob, op, `${path} weights.json`, options), 'full', op, path);
    if ((options.compile ?? true) && config.compileConfig) {
      compileFromConfig(model, config.compileConfig, customObjects, op, path);
      if (optimizerState) await restoreOptimizer(model, optimizerState, op, path, 'full', options);
    }
  } catch (err) {
    // the half-loaded model is unreachable to the caller: free its weights before reporting
    model.compiled?.optimizer.dispose();
    model.dispose();
    throw err;
  }
  return model;
}

/**
 * Loads weights saved by saveWeights (or saveModel) into `model`, matched by their order in
 * getWeightVariables(); each must have the model's shape and dtype and the same weight name
 * ('kernel', 'bias', …: layer names may differ between two builds of a model).
 */
export async function loadWeights(model: Model, path: string, options: DecodeOptions = {}): Promise<void> {
  const op = 'loadWeights';
  const entries = await readArchive(op, path, ['weights', 'model']);
  const [manifest, blob] = weightsOf(entries, op, path);
  // a full model file also holds the optimizer's state: a compiled model resumes with it, as Keras's load_weights does
  const optimizerState = model.compiled && entries.has('optimizer.json') ? optimizerOf(entries, op, path) : null;
  assignChecked(model.getWeightVariables(), decodeTensors(manifest, blob, op, `${path} weights.json`, options), 'last', op, path);
  if (optimizerState) await restoreOptimizer(model, optimizerState, op, path, 'last', options);
}

/** The weights' checked manifest and their bytes. */
function weightsOf(entries: Map<string, Uint8Array>, op: string, path: string): [ManifestEntry[], Uint8Array] {
  const weights = readJson(entries, 'weights.json', op, path) as Partial<WeightsFile>;
  const blob = entries.get('weights.bin') ?? missing(op, path, 'weights.bin');
  return [checkManifest(weights?.weights, blob.length, op, `${path} weights.json`), blob];
}

/** The optimizer state's checked manifest and its bytes. */
function optimizerOf(entries: Map<string, Uint8Array>, op: string, path: string): [ManifestEntry[], Uint8Array] {
  const file = readJson(entries, 'optimizer.json', op, path) as Partial<OptimizerFile>;
  const blob = entries.get('optimizer.bin') ?? missing(op, path, 'optimizer.bin');
  return [checkManifest(file?.variables, blob.length, op, `${path} optimizer.json`), blob];
}

async function readArchive(op: string, path: string, kinds: readonly FileKind[]): Promise<Map<string, Uint8Array>> {
  if (typeof path !== 'string' || path === '') fail(op, `expected a file path, got ${JSON.stringify(path)}`);
  const bytes = await readWhole(op, path).catch((err: NodeJS.ErrnoException) =>
    err instanceof KilnError ? Promise.reject(err) : fail(op, err.code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${err.message}`));
  const entries = unzip(bytes, op, path);
  checkHashes(checkMetadata(readJson(entries, 'metadata.json', op, path), kinds, op, path), entries, op, path);
  return entries;
}

/** The largest file a kiln archive can be: zip without ZIP64 counts offsets in 32 bits. */
const MAX_ARCHIVE = 2 ** 32 - 1;
/** Bytes per read call: fs.read refuses lengths of 2 GiB and more (and readFile whole files of 2 GiB). */
const READ_PIECE = 2 ** 30;

/** The whole file, up to 4 GiB, read in pieces. */
async function readWhole(op: string, path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_ARCHIVE) fail(op, `${path} is ${size} bytes; a kiln file is a zip without ZIP64, at most ${MAX_ARCHIVE} bytes`);
    const bytes = Buffer.allocUnsafe(size);
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(size - at, READ_PIECE), at);
      if (bytesRead === 0) fail(op, `${path} ended at byte ${at} of ${size} while it was read (it shrank)`);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

function missing(op: string, path: string, name: string): never {
  return fail(op, `${path} is not a complete kiln file: it has no ${name}`);
}

function compileFromConfig(model: Model, c: CompileConfig, customObjects: CustomObjects, op: string, path: string): void {
  const lossClasses = Object.fromEntries(Object.entries(customObjects).filter(([, v]) => typeof v === 'function' && v.prototype instanceof Loss)) as Record<string, LossClass>;
  try {
    const custom = Object.hasOwn(customObjects, c.optimizer.className) ? customObjects[c.optimizer.className] : undefined;
    const optimizer = custom ? (custom as { fromConfig(config: unknown): Optimizer }).fromConfig(c.optimizer.config) : getOptimizer(c.optimizer);
    model.compile({
      optimizer,
      loss: c.loss.map((l) => (l === null ? null : getLoss(l, lossClasses))),
      lossWeights: c.lossWeights,
      metrics: c.metrics.map((ids) => ids.map((id) => metricFrom(id, customObjects))),
      weightedMetrics: c.weightedMetrics.map((ids) => ids.map((id) => metricFrom(id, customObjects))),
    });
  } catch (err) {
    fail(op, `${path}: cannot compile the model as saved (${(err as Error).message}); pass the missing classes in customObjects, or load with { compile: false }`);
  }
}

/**
 * A saved metric, for compile: a string id as is; a custom class or wrapped function from
 * customObjects by name; anything else is left to getMetric, which knows kiln's.
 */
function metricFrom(id: SavedMetric, customObjects: CustomObjects): unknown {
  if (typeof id === 'string') return id;
  const { className, config } = id as SerializedMetric;
  const own = (key: unknown) => (typeof key === 'string' && Object.hasOwn(customObjects, key) ? customObjects[key] : undefined);
  const cls = own(className);
  if (typeof cls === 'function' && cls.prototype instanceof Metric) return new (cls as new (config: unknown) => Metric)(config);
  const fn = className === 'MeanMetricWrapper' ? own(config.fn) : undefined;
  if (typeof fn === 'function') return new MeanMetricWrapper(fn as MetricFn, { name: config.name, dtype: config.dtype });
  return id;
}

/** Rebuilds the optimizer's state for the model's trainable weights and sets the saved values. */
async function restoreOptimizer(model: Model, [manifest, blob]: [ManifestEntry[], Uint8Array], op: string, path: string, names: 'full' | 'last', options: DecodeOptions): Promise<void> {
  const loaded = decodeTensors(manifest, blob, op, `${path} optimizer.json`, options);
  if (loaded.length === 0) return;
  const optimizer = model.compiled!.optimizer;
  try {
    optimizer.build(model.trainableWeights);
    const own = optimizer.variables;
    if (own.length !== loaded.length) {
      fail(op, `${path}: optimizer.json holds ${loaded.length} state tensors, but ${optimizer.className} has ${own.length} for this model's trainable weights`);
    }
    own.forEach((v, i) => {
      const { entry } = loaded[i];
      const last = (s: string) => (names === 'full' ? s : s.slice(s.lastIndexOf('/') + 1));
      if (last(entry.name) !== last(v.name) || entry.dtype !== v.dtype || entry.shape.join() !== v.shape.join()) {
        fail(op, `${path}: optimizer state ${i} is '${entry.name}' ${entry.dtype} [${entry.shape}] in the file but '${v.name}' ${v.dtype} [${v.shape}] in the model's optimizer`);
      }
    });
    await optimizer.setVariables(loaded.map((l) => l.tensor));
  } finally {
    for (const { tensor } of loaded) tensor.dispose();
  }
}
