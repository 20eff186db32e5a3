import { IMAGE_EXTENSIONS, decodeImage } from '../io/image-codecs.js';
import { channelsOf, convertChannels, type ColorMode } from '../io/image-color.js';
import { interpolationOf, resizeLikeTf, type Interpolation } from '../io/image-resize.js';
import { imageSizeOf, readImageFile } from '../io/images.js';
import { ENGINE } from '../src/engine.js';
import { fail } from '../src/errors.js';
import { resolveOptions, type DataFormat } from '../src/ops/conv-options.js';
import { checkSeed, nextSeed, permutation } from '../src/random.js';
import type { Tensor } from '../src/tensor.js';
import { Dataset } from './dataset.js';
import { checkDirectory, indexDirectory } from './image-index.js';

export type LabelMode = 'int' | 'categorical' | 'binary';

export interface ImageDatasetOptions {
  /** 'inferred' (default): one class per subfolder; null: no labels; or one integer label per file, in the files' sorted order. */
  labels?: 'inferred' | null | readonly number[];
  /** 'int' (default): int32 [batch]; 'categorical': float32 one-hot [batch, classes]; 'binary': float32 [batch, 1]; null: no labels. */
  labelMode?: LabelMode | null;
  /** With labels 'inferred': the class folders to read, in this order (default: all, sorted). */
  classNames?: readonly string[] | null;
  /** 'rgb' (default, 3 channels), 'grayscale' (1) or 'rgba' (4). */
  colorMode?: ColorMode;
  /** Images per batch (default 32); null gives single images. */
  batchSize?: number | null;
  /** [height, width] every image is resized to (default [256, 256]); one integer serves both. */
  imageSize?: number | readonly [number, number];
  /** Shuffle the files once, and the elements again on each pass (default true); false keeps the sorted order. */
  shuffle?: boolean;
  seed?: number;
  /** The fraction of the files kept for validation, in (0, 1); needs `subset`. */
  validationSplit?: number | null;
  /** Which part a validationSplit returns: 'training', 'validation', or 'both' (a pair). */
  subset?: 'training' | 'validation' | 'both' | null;
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** Walk into subfolders that are symbolic links (default false). */
  followLinks?: boolean;
  /** Crop each image to the target's aspect ratio (the largest centred window) before resizing. */
  cropToAspectRatio?: boolean;
  /** Fit each image inside the target keeping its aspect ratio, with zeros around. */
  padToAspectRatio?: boolean;
  /** 'channelsLast' (default): [h, w, c]; 'channelsFirst': [c, h, w]. */
  dataFormat?: DataFormat;
  /** Print how many files and classes were found (default true). */
  verbose?: boolean;
}

/** A dataset of images, with the class names (null without labels) and the files, in the dataset's file order. */
export type ImageDataset<T> = Dataset<T> & { readonly classNames: string[] | null; readonly filePaths: string[] };

type ElementFor<O> = O extends { labels: null } | { labelMode: null } ? Tensor : [Tensor, Tensor];
/** The datasets a call returns: a [training, validation] pair for subset 'both'. */
export type ImageDatasetResult<O> = O extends { subset: 'both' } ? [ImageDataset<ElementFor<O>>, ImageDataset<ElementFor<O>>] : ImageDataset<ElementFor<O>>;

const OP = 'imageDatasetFromDirectory';
const ALLOWED = `(${IMAGE_EXTENSIONS.map((e) => `'${e}'`).join(', ')})`;
/** Files read and decoded at once: reading the next files overlaps decoding this one. */
const PARALLEL_READS = 4;

/** How each file becomes an element: decoded, converted, resized, laid out. */
interface Loading {
  channels: 1 | 3 | 4;
  size: [number, number];
  interpolation: Interpolation;
  cropToAspectRatio: boolean;
  padToAspectRatio: boolean;
  channelsFirst: boolean;
}

async function loadImage(path: string, l: Loading): Promise<Tensor> {
  const img = convertChannels(decodeImage(OP, await readImageFile(OP, path), path), l.channels);
  const [h, w] = l.size;
  const c = l.channels;
  const pixels = resizeLikeTf(img, h, w, l);
  if (!l.channelsFirst) return ENGINE.upload(pixels, [h, w, c], 'float32', OP);
  const planes = new Float32Array(pixels.length);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) planes[ch * h * w + p] = pixels[p * c + ch];
  return ENGINE.upload(planes, [c, h, w], 'float32', OP);
}

function labelTensor(label: number, mode: LabelMode, numClasses: number): Tensor {
  if (mode === 'int') return ENGINE.upload(Int32Array.of(label), [], 'int32', OP);
  const values = mode === 'binary' ? Float32Array.of(label) : new Float32Array(numClasses);
  if (mode === 'categorical') values[label] = 1;
  return ENGINE.upload(values, [values.length], 'float32', OP);
}

/**
 * One part of the files: their indices, shuffled through a buffer on each pass when asked, each
 * file read and decoded only when its element is made (a directory larger than memory streams).
 */
function partDataset(paths: string[], labels: Int32Array | null, mode: LabelMode | null, classNames: string[] | null, loading: Loading, batchSize: number | null, shuffleSeed: number | null): ImageDataset<Tensor | [Tensor, Tensor]> {
  const n = paths.length;
  let ds = Dataset.fromTensorSlices(ENGINE.upload(Int32Array.from({ length: n }, (_, i) => i), [n], 'int32', OP));
  if (shuffleSeed !== null) ds = ds.shuffle(batchSize === null ? 1024 : batchSize * 8, { seed: shuffleSeed });
  let out: Dataset<Tensor | [Tensor, Tensor]> = ds.map(async (index) => {
    const i = (await index.data())[0];
    const x = await loadImage(paths[i], loading);
    return labels === null || mode === null ? x : ([x, labelTensor(labels[i], mode, classNames?.length ?? 0)] as [Tensor, Tensor]);
  }, { numParallelCalls: PARALLEL_READS }) as Dataset<Tensor | [Tensor, Tensor]>;
  if (batchSize !== null) out = out.batch(batchSize);
  return Object.assign(out.prefetch(1), { classNames, filePaths: paths });
}

function checkFlag(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(OP, `${name} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function checkLabels(labels: unknown): 'inferred' | null | readonly number[] {
  if (labels === 'inferred' || labels === null) return labels;
  if (!Array.isArray(labels)) {
    fail(OP, `labels must be 'inferred', null (no labels) or an array of one integer label per image file, got ${JSON.stringify(labels)}`);
  }
  const bad = labels.findIndex((v) => !Number.isSafeInteger(v) || v < 0);
  if (bad >= 0) fail(OP, `labels must be integers >= 0, got ${JSON.stringify(labels[bad])} at index ${bad}`);
  return labels;
}

/** Keras's checks of validationSplit and subset (dataset_utils.check_validation_split_arg), with its messages. */
function checkSplit(validationSplit: unknown, subset: unknown, shuffle: boolean, seed: unknown): void {
  if (validationSplit !== null && validationSplit !== undefined && !(typeof validationSplit === 'number' && validationSplit > 0 && validationSplit < 1)) {
    fail(OP, `validationSplit must be between 0 and 1 (both excluded), got ${JSON.stringify(validationSplit)}`);
  }
  const hasSplit = validationSplit !== null && validationSplit !== undefined;
  const hasSubset = subset !== null && subset !== undefined;
  if (hasSubset && !['training', 'validation', 'both'].includes(subset as string)) {
    fail(OP, `subset must be 'training', 'validation' or 'both', got ${JSON.stringify(subset)}`);
  }
  if (hasSplit !== hasSubset) fail(OP, `validationSplit and subset go together: got validationSplit ${JSON.stringify(validationSplit)} and subset ${JSON.stringify(subset)}`);
  if (hasSplit && shuffle && seed === undefined) {
    fail(OP, 'with a validationSplit and shuffle, pass a seed, so that the training and validation subsets are cut from the same order and do not overlap');
  }
}

/**
 * A dataset of the PNG and JPEG images in a directory (keras.utils.image_dataset_from_directory).
 * With labels 'inferred', each subfolder is a class (sorted by name, or the order of
 * `classNames`) and its images, subfolders included, are that class's. Each element is
 * `[images, labels]`, or the images alone without labels: float32 [batch, height, width,
 * channels], values 0 to 255, resized as tf.image.resize does (half-pixel centres, no
 * antialiasing). Files are read and decoded as the dataset is iterated, so a file that cannot
 * be decoded fails the pass (and fit) when its element is reached, naming the file. Only .png,
 * .jpg and .jpeg files are listed (Keras also lists .bmp and .gif: kiln has no decoder for them).
 * The result carries `classNames` and `filePaths`; the orders of a seed are kiln's, not Keras's.
 * @example
 * const [train, val] = await kiln.utils.imageDatasetFromDirectory('photos', {
 *   imageSize: [180, 180], batchSize: 32, validationSplit: 0.2, subset: 'both', seed: 1337,
 * });
 * train.classNames;   // ['cats', 'dogs']
 * await model.fit(train, { epochs: 10, validationData: val });
 */
export async function imageDatasetFromDirectory<const O extends ImageDatasetOptions = Record<string, never>>(directory: string, options?: O): Promise<ImageDatasetResult<O>>;
export async function imageDatasetFromDirectory(directory: string, options: ImageDatasetOptions = {}): Promise<unknown> {
  const { labelMode = 'int', classNames = null, colorMode = 'rgb', batchSize = 32, imageSize = [256, 256], shuffle = true, validationSplit = null, subset = null } = options;
  const { interpolation = 'bilinear', followLinks = false, cropToAspectRatio = false, padToAspectRatio = false, verbose = true } = options;
  const given = checkLabels(options.labels === undefined ? 'inferred' : options.labels);
  if (given !== 'inferred' && classNames !== null) fail(OP, `classNames can only be given with labels 'inferred' (otherwise the class names are the sorted labels), got labels ${JSON.stringify(given)}`);
  if (classNames !== null && !(Array.isArray(classNames) && classNames.every((c) => typeof c === 'string'))) fail(OP, `classNames must be an array of folder names, got ${JSON.stringify(classNames)}`);
  if (labelMode !== null && !['int', 'categorical', 'binary'].includes(labelMode)) fail(OP, `labelMode must be 'int', 'categorical', 'binary' or null, got ${JSON.stringify(labelMode)}`);
  // without labels, as in Keras, the whole tree is read, class folders or not
  const mode = given === null ? null : labelMode;
  const labels = mode === null ? null : given;
  if (labels === null && classNames !== null) fail(OP, 'classNames cannot be given without labels (labels or labelMode null)');
  const channels = channelsOf(OP, colorMode);
  const size = imageSizeOf(OP, 'imageSize', imageSize);
  const method = interpolationOf(OP, interpolation);
  if (batchSize !== null && !(Number.isSafeInteger(batchSize) && batchSize > 0)) fail(OP, `batchSize must be a positive integer or null (single images), got ${JSON.stringify(batchSize)}`);
  for (const [name, v] of [['shuffle', shuffle], ['followLinks', followLinks], ['cropToAspectRatio', cropToAspectRatio], ['padToAspectRatio', padToAspectRatio], ['verbose', verbose]] as const) checkFlag(name, v);
  if (cropToAspectRatio && padToAspectRatio) fail(OP, 'only one of cropToAspectRatio and padToAspectRatio can be true');
  checkSplit(validationSplit, subset, shuffle, options.seed);
  const seed = options.seed === undefined ? nextSeed() : checkSeed(OP, options.seed);
  const channelsFirst = resolveOptions(OP, { dataFormat: options.dataFormat }, 2).channelsFirst;

  const index = await indexDirectory(OP, await checkDirectory(OP, directory), { labels, classNames, followLinks, extensions: IMAGE_EXTENSIONS });
  const k = index.classNames?.length ?? 0;
  if (verbose) console.log(mode === null ? `Found ${index.paths.length} files.` : `Found ${index.paths.length} files belonging to ${k} classes.`);
  if (labels === 'inferred' && k === 0) fail(OP, `No images found in directory ${directory}: with labels 'inferred' each class is a subfolder, and it has none (labels: null reads the images without labels)`);
  if (mode === 'binary' && k !== 2) fail(OP, `labelMode 'binary' needs exactly 2 classes, got ${k}: ${JSON.stringify(index.classNames)}`);
  if (mode === 'binary' && index.labels?.some((l) => l > 1)) fail(OP, `labelMode 'binary' needs labels 0 and 1, got ${JSON.stringify(index.classNames)}`);
  if (mode === 'categorical' && index.labels?.some((l) => l >= k)) fail(OP, `labelMode 'categorical' needs labels 0 to ${k - 1} (one per distinct label), got ${JSON.stringify(index.classNames)}`);

  const order = shuffle ? permutation(index.paths.length, seed) : null;
  const paths = order ? Array.from(order, (i) => index.paths[i]) : index.paths;
  const ids = index.labels && order ? Int32Array.from(order, (i) => index.labels![i]) : index.labels;
  const loading: Loading = { channels, size, interpolation: method, cropToAspectRatio, padToAspectRatio, channelsFirst };
  const part = (name: string, from: number, to: number, shuffled: boolean) => {
    if (to <= from) fail(OP, `No ${name}images found in directory ${directory}. Allowed formats: ${ALLOWED}`);
    return partDataset(paths.slice(from, to), ids && ids.slice(from, to), mode, index.classNames, loading, batchSize, shuffled ? seed : null);
  };
  const n = paths.length;
  if (validationSplit === null || validationSplit === undefined) return part('', 0, n, shuffle);
  const nVal = Math.floor(validationSplit * n);
  const train = () => {
    if (verbose) console.log(`Using ${n - nVal} files for training.`);
    return part('training ', 0, n - nVal, shuffle);
  };
  const val = (shuffled: boolean) => {
    if (verbose) console.log(`Using ${nVal} files for validation.`);
    return part('validation ', n - nVal, n, shuffled);
  };
  return subset === 'training' ? train() : subset === 'validation' ? val(shuffle) : [train(), val(false)];
}
