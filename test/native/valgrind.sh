#!/usr/bin/env bash
# Runs a short training on the native backend under valgrind's memcheck and fails if any error
# (invalid read or write, use of uninitialised memory, a leak) has a frame in the addon.
# Not part of `npm test` (it takes minutes):   bash test/native/valgrind.sh
#
# Node runs with --jitless, so valgrind sees no self-modifying code; V8's own reports are
# ignored, only those whose stack passes through kiln_native.node count. KILN_POOL_MAX_MB=0
# turns the buffer pool off, so every buffer has its exact size and an overrun is seen.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 2; }
[ -f backends/native/build/Release/kiln_native.node ] || { echo "native addon not built: node scripts/build-native.mjs"; exit 2; }
npm run --silent build   # plain node runs dist/ (faster under valgrind than tsx)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/train.mjs" <<JS
import { createRequire } from 'node:module';
import * as kiln from '$ROOT/dist/src/index.js';
import { NativeBackend } from '$ROOT/dist/backends/native/backend.js';
// valgrind emulates up to AVX2, so the addon picks its AVX2 (or portable) code paths here.
const addon = createRequire(import.meta.url)('$ROOT/backends/native/build/Release/kiln_native.node');
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
JS

echo "valgrind: training on the native backend (this takes a few minutes) ..."
status=0
KILN_NUM_THREADS=2 KILN_POOL_MAX_MB=0 valgrind --tool=memcheck --leak-check=full --num-callers=40 --error-limit=no \
  --log-file="$WORK/valgrind.log" node --jitless "$WORK/train.mjs" || status=$?
[ "$status" -eq 0 ] || { echo "the training script failed under valgrind (exit $status)"; tail -30 "$WORK/valgrind.log"; exit 1; }

# Error blocks are separated by blank lines in the log; keep those that name the addon.
addon_errors=$(awk -v RS= '/kiln_native\.node|kiln::/' "$WORK/valgrind.log")
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$WORK/valgrind.log" | sed 's/^==[0-9]*== */valgrind (whole process): /'
if [ -n "$addon_errors" ]; then
  echo "valgrind: errors in the native addon:"
  echo "$addon_errors"
  exit 1
fi
echo "valgrind: no errors or leaks with a frame in the native addon"
