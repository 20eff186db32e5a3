import * as kiln from 'kiln';
import { lstmSequence } from '../src/fused/recurrent.js';
await kiln.setBackend('native');
const [B, T, U] = [64, 100, 128];
const x = kiln.random.uniform([B, T, 4 * U], { minval: -0.1, maxval: 0.1, seed: 1 });
const h0 = kiln.zeros([B, U]);
const k = kiln.random.uniform([U, 4 * U], { minval: -0.1, maxval: 0.1, seed: 2 });
const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
const fw: number[] = [], all: number[] = [], mm: number[] = [];
for (let r = 0; r < 7; r++) {
  let t = performance.now();
  kiln.tidy(() => { const o = lstmSequence(x, h0, h0, k).outputs; o.dataSync(); });
  fw.push(performance.now() - t);
  t = performance.now();
  kiln.tidy(() => { const tape = new kiln.GradientTape(); const l = tape.record(() => kiln.ops.sum(lstmSequence(x, h0, h0, k).outputs)); const g = tape.gradient(l, [x, k]); g[0]!.dataSync(); g[1]!.dataSync(); });
  all.push(performance.now() - t);
  const a = kiln.random.uniform([B, U]);
  t = performance.now();
  kiln.tidy(() => { let last; for (let s = 0; s < T; s++) last = kiln.ops.matmul(a, k); last!.dataSync(); });
  mm.push(performance.now() - t);
}
console.log(`threads ${process.env.KILN_NUM_THREADS}: forward ${med(fw).toFixed(1)} ms, fwd+bwd ${med(all).toFixed(1)} ms, 100 matmuls [64x128]x[128x512] ${med(mm).toFixed(1)} ms`);
