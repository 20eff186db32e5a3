/**
 * One training step of an LSTM, GRU and SimpleRNN layer's computation (the input projection as
 * one product, the loop over time, a weighted sum as the loss, the gradients of every weight),
 * timed with the fused recurrent kernels on and off: B = 64, T = 100, U = 128, 64 input features.
 *   KILN_NUM_THREADS=2 npx tsx bench/profile-recurrent.ts [backend]      (default: native)
 * A diagnostic for backends/native/README.md, not part of `npm run bench`.
 */
import * as kiln from 'kiln';
import type { Tensor } from 'kiln';
import { gruSequence, lstmSequence, simpleRnnSequence } from '../src/fused/recurrent.js';
import { now } from './stats.js';

const { ops } = kiln;
const [B, T, U, I] = [64, 100, 128, 64];
const REPEATS = 5;

const uniform = (shape: number[], seed: number, scale = 0.1) => kiln.random.uniform(shape, { minval: -scale, maxval: scale, seed });

/** The cell's weights, and its loop over time given xProj. */
const CELLS: Record<string, { gates: number; weights: () => Tensor[]; run: (xProj: Tensor, h0: Tensor, w: Tensor[]) => Tensor }> = {
  lstm: { gates: 4, weights: () => [uniform([U, 4 * U], 3)], run: (x, h0, [k]) => lstmSequence(x, h0, h0, k).outputs },
  gru: { gates: 3, weights: () => [uniform([U, 3 * U], 4), uniform([3 * U], 5)], run: (x, h0, [k, b]) => gruSequence(x, h0, k, b, { resetAfter: true }).outputs },
  simpleRnn: { gates: 1, weights: () => [uniform([U, U], 6)], run: (x, h0, [k]) => simpleRnnSequence(x, h0, k).outputs },
};

/** Seconds for one forward and backward pass, the median of REPEATS after two warm-up passes. */
function timeStep(name: string, fused: boolean): number {
  kiln.setFusedKernels(fused);
  const cell = CELLS[name];
  const x = uniform([B, T, I], 1, 1);
  const kernel = uniform([I, cell.gates * U], 2);
  const weights = cell.weights();
  const h0 = kiln.zeros([B, U]);
  const w = uniform([B, T, U], 7, 1);
  const step = () => kiln.tidy(() => {
    const tape = new kiln.GradientTape();
    const loss = tape.record(() => ops.sum(ops.multiply(cell.run(ops.matmul(x, kernel), h0, weights), w)));
    const grads = tape.gradient(loss, [kernel, ...weights]);
    for (const g of grads) g!.dataSync();
  });
  const times: number[] = [];
  for (let i = 0; i < REPEATS + 2; i++) {
    const t = now();
    step();
    if (i >= 2) times.push(now() - t);
  }
  kiln.dispose([x, kernel, ...weights, h0, w]);
  return times.sort((a, b) => a - b)[REPEATS >> 1];
}

const backend = process.argv[2] ?? 'native';
await kiln.setBackend(backend);
console.log(`${backend}, B=${B} T=${T} U=${U} input ${I}, forward + backward, median of ${REPEATS}`);
for (const name of Object.keys(CELLS)) {
  const [fused, composed] = [timeStep(name, true), timeStep(name, false)];
  const ms = (s: number) => `${(s * 1e3).toFixed(1)} ms (${((s / T) * 1e3).toFixed(3)} ms per time step)`;
  console.log(`${name.padEnd(10)} fused ${ms(fused)}, composed ${ms(composed)}: ${(composed / fused).toFixed(1)}×`);
}
