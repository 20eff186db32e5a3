/**
 * The native backend's workload under a memory checker, shared by test/native/valgrind.sh and
 * test/native/asan.sh so the two cannot drift: a short training, then kernels the training does
 * not reach, then every fused kernel called directly (convolution and pooling among them). Plain node runs it on the compiled kiln:
 *
 *   node test/native/sanitize-workload.mjs [root]
 *
 * root holds dist/ (npm run build) and backends/native/ (the repository root by default). kiln's
 * own loader finds the addon from dist/, so asan.sh points root at a tree whose
 * backends/native/build holds an instrumented addon. The last line of output is one JSON object
 * (isa, threads, losses, live memory) for the calling script to print.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'));
const kiln = await import(`${root}/dist/index.js`);
const { matmulTransposed } = await import(`${root}/dist/src/ops/matmul.js`);
const { loadAddon } = await import(`${root}/dist/backends/native/addon.js`);
const { NATIVE_ROWS, NativeBackend } = await import(`${root}/dist/backends/native/backend.js`);

const loaded = loadAddon(NATIVE_ROWS);
if (!loaded.ok) throw new Error(`native backend unavailable: ${loaded.reason}`);
const addon = loaded.addon;
await kiln.setBackend('native');
kiln.setSeed(1);

const x = kiln.random.normal([64, 12]);
const y = kiln.ops.cast(kiln.ops.greater(kiln.ops.sum(x, 1, true), 0), 'float32');
const model = new kiln.Sequential([
  kiln.Input({ shape: [12] }),
  new kiln.layers.Dense(40, { activation: 'relu' }),
  new kiln.layers.Dense(1, { activation: 'sigmoid' }),
]);
model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 0.01 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
const h = await model.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0 });

// Kernels the fit does not reach, on every dtype path worth a look.
kiln.tidy(() => {
  const a = kiln.random.normal([3, 70, 50]);
  const b = kiln.random.normal([50, 33]);
  kiln.ops.matmul(a, b).dataSync();
  kiln.ops.cumsum(kiln.ops.transpose(a, [2, 0, 1]), 1).dataSync();
  kiln.ops.argmax(a, 1).dataSync();
  kiln.ops.prod(kiln.ops.cast(a, 'float64'), [0, 2]).dataSync();
  kiln.ops.take(a, [2, 0, 2], 2).dataSync();
  kiln.ops.pad(kiln.ops.cast(a, 'int32'), [[1, 0], [0, 2], [3, 1]], 'constant', 9).dataSync();
  kiln.ops.concatenate([a, kiln.ops.flip(a, 1)], 1).dataSync();
  kiln.ops.where(kiln.ops.less(a, 0), a, kiln.ops.erf(a)).dataSync();
  kiln.ops.max(kiln.ops.floorDivide(a, 0.3), 0).dataSync();
  // Large enough to run on the worker threads: elementwise over 32k elements, a threaded GEMM.
  const big = kiln.random.normal([300, 200]);
  kiln.ops.sum(kiln.ops.tanh(kiln.ops.add(big, kiln.ops.mean(big, 0))), 1).dataSync();
  kiln.ops.matmul(big, kiln.random.normal([200, 180])).dataSync();
  (kiln.grad((t) => kiln.ops.sum(kiln.ops.take(t, [1, 1, 0], 1)))(a)).dataSync();
  // The GEMM's edges: every transpose (packing reads either layout), k past one KC block (384
  // floats, 192 doubles), partial tiles on both sides, one-row and one-column products (the
  // streaming path), and a batch broadcast against a shared right operand.
  for (const dtype of ['float32', 'float64']) {
    for (const [m, k, n] of [[37, 401, 45], [1, 300, 70], [29, 17, 1]]) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
        const p = kiln.ops.cast(kiln.random.normal(tA ? [k, m] : [m, k]), dtype);
        const q = kiln.ops.cast(kiln.random.normal(tB ? [n, k] : [k, n]), dtype);
        matmulTransposed(p, q, tA, tB).dataSync();
      }
    }
    kiln.ops.matmul(kiln.ops.cast(kiln.random.normal([2, 1, 15, 9]), dtype), kiln.ops.cast(kiln.random.normal([3, 9, 21]), dtype)).dataSync();
  }
});

// Every fused kernel called directly (the fit reaches dense, denseGrad and adam), on both float
// dtypes, with absent tensors, a NaN and an out-of-range sparse label.
const nb = new NativeBackend(addon);
const ids = [];
for (const dtype of ['float32', 'float64']) {
  const t = (shape, f = (i) => Math.sin(i * 1.3)) => {
    const n = shape.reduce((a, c) => a * c, 1);
    const id = nb.alloc(dtype, n);
    nb.write(id, (dtype === 'float32' ? Float32Array : Float64Array).from({ length: n }, (_, i) => f(i)));
    ids.push(id);
    return { id, shape, dtype };
  };
  const labels = (values) => {
    const id = nb.alloc('int32', values.length);
    nb.write(id, Int32Array.from(values));
    ids.push(id);
    return { id, shape: [values.length], dtype: 'int32' };
  };
  for (const [m, k, n] of [[33, 20, 45], [1, 300, 70], [200, 90, 130]]) {
    const x = t([m, k]), w = t([k, n]), y = t([m, n]), dy = t([m, n]);
    for (const act of ['linear', 'relu', 'sigmoid', 'tanh']) {
      nb.fused.dense(x, w, act === 'tanh' ? null : t([n]), act, y);
      nb.fused.denseGrad(dy, y, x, w, act, act === 'relu' ? null : t([m, k]), t([k, n]), act === 'sigmoid' ? null : t([n]));
    }
  }
  const logits = t([40, 7], (i) => (i === 9 ? NaN : Math.sin(i) * 5)), out = t([40, 7]);
  const probs = t([40, 7], (i) => Math.abs(Math.sin(i))), targets = t([40, 7], (i) => (i % 7 === 2 ? 1 : 0));
  const sparse = labels(Array.from({ length: 40 }, (_, i) => (i === 3 ? 9 : i % 7)));
  for (const log of [false, true]) {
    nb.fused.softmax(logits, log, out);
    nb.fused.softmaxGrad(t([40, 7]), out, log, t([40, 7]));
  }
  for (const fromLogits of [false, true]) {
    for (const l of [sparse, targets]) {
      nb.fused.crossEntropy(fromLogits ? logits : probs, l, fromLogits, 1e-7, t([40]));
      nb.fused.crossEntropyGrad(fromLogits ? logits : probs, l, fromLogits, 1e-7, t([40]), t([40, 7]));
    }
  }
  // Convolution and pooling: im2col panels across the padding and output rows, groups, the
  // depthwise loops, col2im (stride 2), a 1×1 kernel, 1D, row blocks on the threads (9,216 rows),
  // absent bias and gradients; pooling's channel blocks and windows cut by the padding.
  const conv = (strides, dilations, padsBefore, groups) => ({ strides, dilations, padsBefore, groups });
  const convs = [
    [[2, 9, 11, 5], [3, 3, 5, 7], conv([1, 1], [1, 1], [1, 1], 1), [2, 9, 11, 7]],
    [[3, 9, 8, 6], [3, 3, 3, 10], conv([2, 2], [1, 1], [1, 1], 2), [3, 5, 4, 10]],
    [[2, 8, 7, 4], [3, 3, 1, 8], conv([1, 1], [2, 2], [2, 2], 4), [2, 8, 7, 8]],
    [[2, 5, 6, 20], [1, 1, 20, 33], conv([1, 1], [1, 1], [0, 0], 1), [2, 5, 6, 33]],
    [[3, 17, 3], [5, 3, 4], conv([2], [1], [4], 1), [3, 9, 4]],
    [[9, 32, 32, 8], [3, 3, 8, 16], conv([1, 1], [1, 1], [1, 1], 1), [9, 32, 32, 16]],
  ];
  for (const [i, [xs, ws, geometry, ys]] of convs.entries()) {
    const x = t(xs), w = t(ws), y = t(ys), F = ws[ws.length - 1];
    const act = ['linear', 'relu', 'sigmoid', 'tanh'][i % 4];
    nb.fused.conv(x, w, i % 2 ? null : t([F]), geometry, act, y);
    nb.fused.convGrad(t(ys), y, x, w, geometry, act, i === 1 ? null : t(xs), t(ws), i === 2 ? null : t([F]));
  }
  const pools = [
    [[2, 9, 8, 5], { window: [3, 3], strides: [2, 2], padsBefore: [1, 1] }, [2, 5, 4, 5]],
    [[1, 5, 5, 300], { window: [3, 3], strides: [1, 1], padsBefore: [1, 1] }, [1, 5, 5, 300]],
    [[2, 13, 4], { window: [4], strides: [1], padsBefore: [2] }, [2, 13, 4]],
    [[8, 20, 20, 64], { window: [2, 2], strides: [2, 2], padsBefore: [0, 0] }, [8, 10, 10, 64]],
  ];
  for (const [xs, window, ys] of pools) {
    // small integers: ties within windows
    const x = t(xs, (i) => Math.round(Math.sin(i) * 3));
    for (const op of ['max', 'avg']) {
      const y = t(ys);
      nb.fused.pool(op, x, window, y);
      nb.fused.poolGrad(op, t(ys), x, y, window, t(xs));
    }
  }
  // Attention: query blocks past 32 rows, grouped heads, a bool mask [1, 1, T, S] and one
  // [B, N, T, S], causal with T > S, absent gradients.
  const mask = (shape) => {
    const n = shape.reduce((a, c) => a * c, 1);
    const id = nb.alloc('bool', n);
    nb.write(id, Uint8Array.from({ length: n }, (_, i) => ((i * 7) % 3 === 0 ? 0 : 1)));
    ids.push(id);
    return { id, shape, dtype: 'bool' };
  };
  const attentions = [[[2, 70, 45, 4, 2, 5], [1, 1, 70, 45], false], [[3, 33, 20, 2, 2, 17], [3, 2, 33, 20], true], [[1, 9, 5, 3, 1, 8], null, true]];
  for (const [[B, T, S, N, K, H], maskShape, causal] of attentions) {
    const q = t([B, T, N, H]), k = t([B, S, K, H]), v = t([B, S, K, H]), y = t([B, T, N, H]);
    const m = maskShape && mask(maskShape);
    nb.fused.attention(q, k, v, m, 0.3, causal, y);
    nb.fused.attentionGrad(t([B, T, N, H]), y, q, k, v, m, 0.3, causal, t([B, T, N, H]), causal ? null : t([B, S, K, H]), t([B, S, K, H]));
  }
  const size = 40000;  // over the threshold for worker threads
  const rules = [
    ['sgd', [0.1, 0, 0], 0], ['sgd', [0.1, 0.9, 1], 1], ['adam', [0.01, 0.9, 0.999, 1e-7], 3],
    ['rmsprop', [0.01, 0.9, 0.5, 1e-7, 1], 3], ['rmsprop', [0.01, 0.9, 0, 1e-7, 0], 1], ['adagrad', [0.1, 1e-7], 1],
  ];
  for (const [rule, hyper, slots] of rules) {
    const positive = (i) => 1 + Math.abs(Math.sin(i));
    nb.fused.applyUpdate(rule, hyper, t([size]), t([size]), Array.from({ length: slots }, () => t([size], positive)),
      Array.from({ length: slots + 1 }, () => t([size])));
  }
}
nb.readSync(ids[ids.length - 1]);
ids.forEach((id) => nb.free(id));
kiln.dispose([x, y]);
model.dispose();
console.log(JSON.stringify({ isa: addon.isa(), threads: addon.numThreads(), loss: h.history.loss.map((v) => +v.toFixed(4)), memory: kiln.memory() }));
