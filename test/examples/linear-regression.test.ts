import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { run } from '../../examples/linear-regression.js';

/** The same 100 SGD steps in float64, from the same data and start: what kiln must reproduce. */
function float64Trajectory(x: ArrayLike<number>, y: ArrayLike<number>, W0: number, b0: number, epochs: number, lr: number) {
  const n = x.length;
  let W = W0;
  let b = b0;
  const Ws = [W];
  const bs = [b];
  for (let e = 0; e < epochs; e++) {
    let dW = 0;
    let db = 0;
    for (let i = 0; i < n; i++) {
      const r = W * x[i] + b - y[i];
      dW += (2 / n) * r * x[i];
      db += (2 / n) * r;
    }
    W -= lr * dW;
    b -= lr * db;
    Ws.push(W);
    bs.push(b);
  }
  return { Ws, bs };
}

describe('examples/linear-regression (the seed GradientTape example)', () => {
  it('moves W and b monotonically toward 2 and 3 and lands where 100 float64 SGD steps land', async () => {
    const before = kiln.memory().numTensors;
    const { start, history, data } = await run({ seed: 7, log: false });
    expect(kiln.memory().numTensors).toBe(before);

    const exact = float64Trajectory(data.x, data.y, start.W, start.b, 100, 0.01);
    for (let k = 0; k <= 100; k++) {
      expect(Math.abs(history.W[k] - exact.Ws[k])).toBeLessThan(1e-5);
      expect(Math.abs(history.b[k] - exact.bs[k])).toBeLessThan(1e-5);
    }
    for (let k = 1; k <= 100; k++) {
      expect(Math.abs(history.W[k] - 2)).toBeLessThanOrEqual(Math.abs(history.W[k - 1] - 2) + 1e-6);
      expect(Math.abs(history.b[k] - 3)).toBeLessThanOrEqual(Math.abs(history.b[k - 1] - 3) + 1e-6);
    }
    // 100 steps of lr 0.01 close (1 - 0.02)^100 ≈ 13% of the gap: the float64 run is the bound
    expect(Math.abs(history.W[100] - 2)).toBeLessThanOrEqual(Math.abs(exact.Ws[100] - 2) + 1e-5);
    expect(Math.abs(history.b[100] - 3)).toBeLessThanOrEqual(Math.abs(exact.bs[100] - 3) + 1e-5);
    expect(history.loss.at(-1)!).toBeLessThan(history.loss[0]);
  });
});
