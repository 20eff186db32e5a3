import { asTensor, type TensorLike } from '../src/convert.js';
import { tensor } from '../src/creation.js';
import { fail, fmtShape } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { Variable } from '../src/variable.js';

/**
 * Class indices as one-hot float32 rows (keras.utils.to_categorical): the class axis is a new
 * last axis of `numClasses` (by default the largest index + 1). As in Keras, a last axis of size
 * 1 (labels of shape [n, 1]) is replaced by the class axis, so [n, 1] gives [n, numClasses].
 * Unlike Keras, which truncates, an index that is negative, not an integer, or not below
 * `numClasses` is an error naming its position.
 * @example
 * kiln.utils.toCategorical([0, 2, 1], 3);   // [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
 */
export function toCategorical(y: TensorLike, numClasses?: number): Tensor {
  const op = 'toCategorical';
  if (numClasses !== undefined && (!Number.isSafeInteger(numClasses) || numClasses < 1)) fail(op, `numClasses must be a positive integer, got ${numClasses}`);
  const t = asTensor(y, op);
  const values = t.dataSync();
  const shape = t.shape.length > 1 && t.shape.at(-1) === 1 ? t.shape.slice(0, -1) : [...t.shape];
  // asTensor hands back a tensor or a Variable's value as it is: only an upload of ours is freed
  if (t !== (y instanceof Variable ? y.value : y)) t.dispose();
  let max = -1;
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!Number.isInteger(v) || v < 0) fail(op, `class indices must be integers >= 0, got ${v} at flat position ${i} of shape ${fmtShape(t.shape)}`);
    if (numClasses !== undefined && v >= numClasses) fail(op, `class index ${v} at flat position ${i} is not below numClasses ${numClasses}`);
    max = Math.max(max, v);
  }
  if (numClasses === undefined && values.length === 0) fail(op, 'cannot infer numClasses from no labels: pass numClasses');
  const k = numClasses ?? max + 1;
  const out = new Float32Array(values.length * k);
  for (let i = 0; i < values.length; i++) out[i * k + Number(values[i])] = 1;
  return tensor(out, [...shape, k]);
}
