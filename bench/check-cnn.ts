/**
 * The W4 CNN's result check (bench/check.ts holds the common parts and the reasoning): the W3
 * network, (Conv2D 3×3 'valid' + ReLU → BatchNormalization → MaxPooling2D 2) twice → Flatten →
 * Dense + ReLU → Dense → softmax, channels-last, through the same float64 forward pass with a rounding variance
 * carried beside every value. Dropout is the identity at inference.
 */
import { CHECK_FAILED, CheckFailed, denseStack, sampleRows, softmaxRow, Tally, U } from './check.js';
import type { Computed } from './engines/engine.js';

/** One image's feature map, [h, w, c] row-major, with each entry's modelled rounding variance. */
interface Map3 {
  value: Float64Array;
  variance: Float64Array;
  h: number;
  w: number;
  c: number;
}

/** BatchNormalization's epsilon (Keras's default, which every engine's model keeps). */
const EPSILON = 1e-3;

/**
 * A 3×3 'valid' convolution with bias and ReLU; kernel [3, 3, cin, cout]. Each output is a dot
 * product of k = 9·cin terms and is modelled as a Dense unit is (bench/check.ts, checkMlp).
 */
function convRelu(x: Map3, kernel: Float32Array, bias: Float32Array): Map3 {
  const c = bias.length;
  const [h, w] = [x.h - 2, x.w - 2];
  const value = new Float64Array(h * w * c);
  const variance = new Float64Array(h * w * c);
  const k = 9 * x.c;
  for (let oy = 0; oy < h; oy++) {
    for (let ox = 0; ox < w; ox++) {
      for (let o = 0; o < c; o++) {
        let s = bias[o];
        let sizes = Math.abs(bias[o]);
        let inherited = 0;
        for (let ky = 0; ky < 3; ky++) {
          for (let kx = 0; kx < 3; kx++) {
            const at = ((oy + ky) * x.w + ox + kx) * x.c;
            const kat = (ky * 3 + kx) * x.c;
            for (let i = 0; i < x.c; i++) {
              const wt = kernel[(kat + i) * c + o];
              const v = x.value[at + i];
              s += v * wt;
              sizes += Math.abs(v * wt);
              inherited += wt * wt * x.variance[at + i];
            }
          }
        }
        const out = (oy * w + ox) * c + o;
        value[out] = Math.max(s, 0);
        variance[out] = inherited + (k + 1) * (U * sizes) ** 2;
      }
    }
  }
  return { value, variance, h, w, c };
}

/**
 * BatchNormalization at inference, (x − mean)·gamma/√(var + ε) + beta per channel. An engine
 * may fold it into x·scale + shift; either way about 8 roundings, each at most u of the largest
 * term, join the inherited error scaled by gamma/√(var + ε).
 */
function batchNorm(x: Map3, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array): Map3 {
  const out = { ...x, value: new Float64Array(x.value.length), variance: new Float64Array(x.value.length) };
  for (let i = 0; i < x.value.length; i++) {
    const ch = i % x.c;
    const scale = gamma[ch] / Math.sqrt(variance[ch] + EPSILON);
    out.value[i] = (x.value[i] - mean[ch]) * scale + beta[ch];
    const sizes = Math.abs(x.value[i] * scale) + Math.abs(mean[ch] * scale) + Math.abs(beta[ch]);
    out.variance[i] = scale * scale * x.variance[i] + 8 * (U * sizes) ** 2;
  }
  return out;
}

/** 2×2 max pooling, stride 2, 'valid'. The max of perturbed values is off by at most the most perturbed one. */
function maxPool(x: Map3): Map3 {
  const [h, w] = [Math.floor(x.h / 2), Math.floor(x.w / 2)];
  const value = new Float64Array(h * w * x.c).fill(-Infinity);
  const variance = new Float64Array(h * w * x.c);
  for (let oy = 0; oy < h; oy++) {
    for (let ox = 0; ox < w; ox++) {
      for (let ch = 0; ch < x.c; ch++) {
        const out = (oy * w + ox) * x.c + ch;
        for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          const at = ((2 * oy + dy) * x.w + 2 * ox + dx) * x.c + ch;
          value[out] = Math.max(value[out], x.value[at]);
          variance[out] = Math.max(variance[out], x.variance[at]);
        }
      }
    }
  }
  return { value, variance, h, w, c: x.c };
}

/**
 * W4 (CNN): `computed.inputs[0]` is a [batch, 28, 28, 1] batch, `computed.weights` the model's
 * weights in Keras's order, layer by layer: kernel and bias of each convolution, gamma, beta,
 * moving mean and moving variance of each BatchNormalization, kernel and bias of each Dense.
 * Checks up to `rows` rows of the [batch, classes] output, as checkMlp does.
 */
export function checkCnn(computed: Computed, rows = 8, image: [number, number, number] = [28, 28, 1]): string {
  const [x] = computed.inputs;
  const w = computed.weights ?? [];
  if (w.length !== 16) throw new CheckFailed(`${CHECK_FAILED}: expected 16 weights (2 × (conv kernel, bias, 4 of BatchNormalization), 2 × (Dense kernel, bias)), got ${w.length}`);
  const hidden = w[13].length;
  const classes = w[15].length;
  const size = image[0] * image[1] * image[2];
  const batch = x.length / size;
  if (!Number.isInteger(batch) || computed.output.length !== batch * classes) {
    throw new CheckFailed(`${CHECK_FAILED}: input of ${x.length} values for images of ${size}, output of ${computed.output.length} for ${classes} classes`);
  }
  const tally = new Tally();
  for (const r of sampleRows(batch, rows)) {
    let map: Map3 = { value: Float64Array.from(x.subarray(r * size, (r + 1) * size)), variance: new Float64Array(size), h: image[0], w: image[1], c: image[2] };
    for (const at of [0, 6]) {
      map = maxPool(batchNorm(convRelu(map, w[at], w[at + 1]), w[at + 2], w[at + 3], w[at + 4], w[at + 5]));
    }
    const features = map.value.length;
    if (w[12].length !== features * hidden || w[14].length !== hidden * classes) {
      throw new CheckFailed(`${CHECK_FAILED}: Dense kernels of ${w[12].length} and ${w[14].length} values for ${features} features, ${hidden} units and ${classes} classes`);
    }
    const dense = [{ kernel: w[12], bias: w[13], inputs: features, units: hidden }, { kernel: w[14], bias: w[15], inputs: hidden, units: classes }];
    const [logits, variance] = denseStack(dense, map.value, map.variance);
    softmaxRow(tally, r, logits, variance, computed.output.subarray(r * classes, (r + 1) * classes));
  }
  return tally.verdict();
}
