// The demo's data, network and training settings, apart from the page so that its test can train
// the same model on the same digits in Node, on the reference backend, and compare the losses.
//
// One strided convolution rather than Conv2D → MaxPooling2D: the webgpu backend composes
// convolution and pooling from its primitive kernels so far, and on SwiftShader (a CPU standing in
// for a GPU) a step of Conv2D 8 → MaxPooling2D 2 → Dense costs about four times as much for about
// the same accuracy after a few epochs (measured; examples/README.md).
import * as kiln from 'kiln';

/** An IDX file of unsigned bytes (the MNIST format): its dimensions and its bytes. */
async function fetchIdx(base: string, name: string, count: number): Promise<{ dims: number[]; bytes: Uint8Array }> {
  const url = new URL(`mnist/${name}?count=${count}`, base);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  const buf = new Uint8Array(await res.arrayBuffer());
  const view = new DataView(buf.buffer);
  const rank = buf[3];
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, bytes: buf.subarray(4 + 4 * rank) };
}

/**
 * The first `count` digits of a split as the demo's server gives them (serve.ts), from the page at
 * `base`: images [n, 28, 28, 1] as floats in [0, 1], labels as int32.
 */
export async function loadSplit(base: string, split: 'train' | 'test', count: number): Promise<[kiln.Tensor, kiln.Tensor]> {
  const [images, labels] = await Promise.all([fetchIdx(base, `${split}-images`, count), fetchIdx(base, `${split}-labels`, count)]);
  const x = Float32Array.from(images.bytes, (b) => b / 255);
  return [kiln.tensor(x, [images.dims[0], 28, 28, 1]), kiln.tensor(Int32Array.from(labels.bytes), [labels.dims[0]], 'int32')];
}

export const SEED = 1;
export const LEARNING_RATE = 1e-2;

export function buildModel(): kiln.Sequential {
  const { layers } = kiln;
  return new kiln.Sequential([
    kiln.Input({ shape: [28, 28, 1] }),
    new layers.Conv2D(8, 3, { strides: 2, activation: 'relu' }),
    new layers.Flatten(),
    new layers.Dense(10, { activation: 'softmax' }),
  ], { name: 'mnist_small_cnn' });
}

/** The model, seeded and compiled as the page trains it. */
export function compiledModel(): kiln.Sequential {
  kiln.setSeed(SEED);
  const model = buildModel();
  model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: LEARNING_RATE }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}
