/** What a fuzz target is: inputs made once per child, then one mutated case at a time. */
import type { Rng } from './mutate.js';

/**
 * How a case that returned ended; one that threw a KilnError is a clean error. Beside these, the
 * parent sees two from outside (crash: the child died or threw something other than a KilnError;
 * hang: the watchdog fired). 'silent' means kiln accepted the input and did something other than
 * the original would: a wrong answer with no error.
 */
export type Outcome = { kind: 'accepted' } | { kind: 'silent'; detail: string };

export interface Case {
  /** The mutation, in words, printed with a failing case. */
  what: string;
  /** Runs the case; a KilnError it throws is a clean error, anything else a crash. */
  run(): Promise<Outcome>;
}

export interface Target<Base = unknown> {
  /** Builds the valid inputs every case mutates (deterministic: the same seed makes the same files). */
  setup(dir: string): Promise<Base>;
  /** One case: drawn from `rng` alone, with its own files under `dir`. */
  make(base: Base, rng: Rng, dir: string): Case;
}

export const ACCEPTED: Outcome = { kind: 'accepted' };
