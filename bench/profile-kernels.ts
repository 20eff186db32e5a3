/**
 * Splits a kiln run's time into backend kernels and everything else (op dispatch, shape checks,
 * the gradient tape, optimizer bookkeeping, fit's loop): each kernel call of the current backend
 * is timed, and what remains of the wall time is JavaScript around the kernels.
 *   KILN_NUM_THREADS=2 npx tsx bench/profile-kernels.ts [backend]      (default: native)
 * A diagnostic for bench/RESULTS.md, not part of `npm run bench`.
 */
import * as kiln from 'kiln';
import { findBackend } from '../src/backends.js';
import { loadMnist } from './data.js';
import { buildModel } from './engines/kiln.js';
import { now } from './stats.js';

/** The contract's kernels (backends/contract.ts Kernels) and its buffer calls: what a backend does. */
const CONTRACT = ['unary', 'binary', 'where', 'cast', 'reduce', 'argReduce', 'cumsum', 'matmul', 'transpose', 'slice', 'pad', 'concat', 'broadcastTo', 'gather', 'scatterAdd', 'alloc', 'write', 'free'];
const spent = new Map<string, { calls: number; seconds: number }>();

/**
 * Shadows the contract's methods on this one backend object with timed calls (the class is
 * untouched), and its fused kernels likewise.
 */
function instrument(backend: Record<string, unknown>): void {
  timeMethods(backend, CONTRACT, '');
  const fused = backend.fused as Record<string, unknown> | undefined;
  if (fused) timeMethods(fused, Object.keys(fused), 'fused:');
}

function timeMethods(target: Record<string, unknown>, names: readonly string[], prefix: string): void {
  for (const name of names) {
    const fn = target[name];
    if (typeof fn !== 'function') continue;
    Object.defineProperty(target, name, {
      value: (...args: unknown[]) => {
        const key = prefix + (typeof args[0] === 'string' ? `${name}:${args[0]}` : name);
        const t = now();
        const r = (fn as (...a: unknown[]) => unknown).apply(target, args);
        const s = spent.get(key) ?? { calls: 0, seconds: 0 };
        spent.set(key, { calls: s.calls + 1, seconds: s.seconds + now() - t });
        return r;
      },
    });
  }
}

function report(title: string, wall: number, steps: number): void {
  const kernels = [...spent.values()].reduce((a, s) => a + s.seconds, 0);
  const calls = [...spent.values()].reduce((a, s) => a + s.calls, 0);
  console.log(`\n## ${title}: ${wall.toFixed(3)} s wall, ${(wall / steps * 1e3).toFixed(3)} ms per step`);
  console.log(`kernels ${(kernels / wall * 100).toFixed(1)}% (${kernels.toFixed(3)} s), outside kernels ${((wall - kernels) / wall * 100).toFixed(1)}%; ` +
    `${(calls / steps).toFixed(1)} backend calls per step, ${((wall - kernels) / calls * 1e6).toFixed(1)} µs of JavaScript per call`);
  for (const [k, s] of [...spent].sort((a, b) => b[1].seconds - a[1].seconds).slice(0, 10)) {
    console.log(`${(s.seconds / wall * 100).toFixed(1).padStart(5)}%  ${k.padEnd(22)} ${(s.calls / steps).toFixed(1).padStart(5)} calls/step, ${(s.seconds / s.calls * 1e6).toFixed(1)} µs each`);
  }
  spent.clear();
}

class Stop extends kiln.callbacks.Callback {
  start = 0;
  override onTrainBatchBegin(batch: number): void {
    // the first 10 steps are warm-up (JIT, packing buffers): time from step 10 on
    if (batch === 10) {
      spent.clear();
      this.start = now();
    }
  }
}

const name = process.argv[2] ?? 'native';
await kiln.setBackend(name);
instrument((await findBackend(name)) as unknown as Record<string, unknown>);
const { train } = loadMnist();

const steps = 110;
const model = buildModel('mlp');
model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 1e-3 }), loss: 'sparse_categorical_crossentropy' });
const x = kiln.tensor(train.x.subarray(0, steps * 128 * 784), [steps * 128, 784]);
const y = kiln.tensor(train.y.subarray(0, steps * 128), [steps * 128], 'int32');
const stop = new Stop();
await model.fit(x, y, { epochs: 1, batchSize: 128, verbose: 0, callbacks: [stop] });
report(`W2 training on ${name}, batch 128, steps 10–${steps}`, now() - stop.start, steps - 10);

for (const batch of [1, 256]) {
  const input = kiln.random.uniform([batch, 784]);
  const calls = batch === 1 ? 2000 : 200;
  for (let i = 0; i < 50; i++) (model.predictOnBatch(input) as kiln.Tensor).dispose();
  spent.clear();
  const t = now();
  for (let i = 0; i < calls; i++) {
    const out = model.predictOnBatch(input) as kiln.Tensor;
    await out.data();
    out.dispose();
  }
  report(`W4 MLP inference on ${name}, batch ${batch}`, now() - t, calls);
  input.dispose();
}
