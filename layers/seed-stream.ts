import { fail } from '../src/errors.js';

/**
 * The seeds a random layer (Dropout, GaussianNoise, …) draws with, one per call. With a seed of
 * its own the layer replays the same sequence of masks in every run; without one each call
 * draws from kiln's global stream, so `kiln.setSeed` alone makes a whole training run
 * reproducible, whenever the layer was made.
 */
export class SeedStream {
  private calls = 0;

  constructor(op: string, readonly seed: number | null | undefined) {
    if (seed !== undefined && seed !== null && !Number.isInteger(seed)) fail(op, `seed must be an integer, got ${seed}`);
  }

  /** The seed for the next call; undefined means the global stream. */
  next(): number | undefined {
    if (this.seed === undefined || this.seed === null) return undefined;
    // kiln.random spreads each seed over the generator's state, so consecutive seeds give
    // unrelated draws; the golden-ratio step keeps them apart from other layers' seeds too
    return (this.seed + Math.imul(++this.calls, 0x9e3779b9)) >>> 0;
  }
}
