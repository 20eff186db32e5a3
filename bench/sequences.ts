/**
 * W5 and W6's data: token sequences made by a linear congruential generator that
 * bench/python/torch_seq.py repeats step for step, so every engine trains on the same batches
 * and is scored on the same held-out set, with no file to ship or download.
 *
 * - W5, the LSTM task: sequences of 100 tokens from a vocabulary of 1,000; the label is the
 *   last token modulo 10 (what the LSTM's final state must carry to the Dense layer).
 * - W6, the transformer task: sequences of 64 tokens from 1..63; the target at each position is
 *   the token at the mirrored position (reversal, which only attention can route).
 */
export type SequenceArch = 'lstm' | 'transformer';

export interface SequenceTask {
  arch: SequenceArch;
  vocab: number;
  steps: number;
  batchSize: number;
  /** Classes of the output: per sequence (W5) or per token (W6). */
  classes: number;
}

export const SEQUENCE_TASKS: Record<SequenceArch, SequenceTask> = {
  lstm: { arch: 'lstm', vocab: 1000, steps: 100, batchSize: 64, classes: 10 },
  transformer: { arch: 'transformer', vocab: 64, steps: 64, batchSize: 32, classes: 64 },
};

/** Sequences held out for the accuracy after training. */
export const HELD_OUT = 512;

/** glibc's rand() constants, 31 bits: simple to repeat exactly in Python. */
function* lcg(seed: number): Generator<number> {
  let x = seed >>> 0;
  for (;;) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    yield x;
  }
}

/** `count` sequences of the task from `seed`: tokens [count, steps] and labels ([count] or [count, steps]). */
export function sequenceBatch(task: SequenceTask, count: number, seed: number): { x: Int32Array; y: Int32Array } {
  const next = lcg(seed);
  const x = new Int32Array(count * task.steps);
  // W6's tokens avoid 0, kept free as a padding token would be
  const low = task.arch === 'transformer' ? 1 : 0;
  // the high bits: an LCG's low bits repeat with short periods (bit k every 2^(k+1) draws)
  for (let i = 0; i < x.length; i++) x[i] = low + (((next.next().value as number) >>> 8) % (task.vocab - low));
  const T = task.steps;
  if (task.arch === 'lstm') return { x, y: Int32Array.from({ length: count }, (_, n) => x[n * T + T - 1] % 10) };
  const y = new Int32Array(count * T);
  for (let n = 0; n < count; n++) for (let t = 0; t < T; t++) y[n * T + t] = x[n * T + T - 1 - t];
  return { x, y };
}
