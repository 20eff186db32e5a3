import { fail } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { ENGINE } from '../src/engine.js';

/**
 * Per-sample weights from a class → weight map, as Keras derives them: the class of a sample is
 * its label (sparse targets) or the argmax of its row (one-hot targets). Labels are read once.
 */
export async function sampleWeightsFromClassWeight(y: Tensor, classWeight: Record<number, number>): Promise<Tensor> {
  const data = await y.data();
  const n = y.shape[0];
  const width = y.rank > 1 ? y.size / n : 1;
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let cls = Math.round(data[i * width]);
    if (width > 1) {
      let best = -Infinity;
      for (let j = 0; j < width; j++) if (data[i * width + j] > best) [best, cls] = [data[i * width + j], j];
    }
    const w = classWeight[cls];
    if (w === undefined) fail('fit', `classWeight has no weight for class ${cls} (sample ${i}); it has classes ${Object.keys(classWeight).join(', ')}`);
    weights[i] = w;
  }
  return ENGINE.upload(weights, [n], 'float32');
}
