/**
 * What a JavaScript engine adapter gives the workloads. Each adapter runs in its own child
 * process (bench/child.ts), so one engine's thread pool never competes with another's.
 */
import type { Mnist } from '../data.js';
import type { SequenceTask } from '../sequences.js';

/** Thrown when an engine cannot run a workload here: the table shows the reason, never a number. */
export class Missing extends Error {}

/** What one call computed, with everything it was computed from, for the checks in bench/check.ts. */
export interface Computed {
  /** The call's output, row-major. */
  output: Float32Array;
  /** W1: the factors A and B (n×n each); W4: the input batch. */
  inputs: Float32Array[];
  /** W4: the model's weights in Keras's getWeights order (per Dense: kernel [in, out], bias [out]). */
  weights?: Float32Array[];
}

/** One timed operation and what to free after it. */
export interface Runner {
  call(): unknown;
  dispose(): unknown;
  /** One more call, through the same code as `call`, with its output and inputs: checked before timing. */
  computed(): Promise<Computed>;
}

export type Arch = 'mlp' | 'cnn';

export interface TrainSpec {
  data: Mnist;
  arch: Arch;
  /** The first `samples` training images are the epoch (all 60,000, or a fixed number of steps' worth). */
  samples: number;
  batchSize: number;
  learningRate: number;
  /** Whether to measure test accuracy after training. */
  evaluate: boolean;
}

export interface TrainOutcome {
  /** performance.now()/1000 as each step began, then once after the last step ended. */
  stamps: number[];
  /** Test accuracy in [0, 1] after the epoch (null when not measured). */
  accuracy: number | null;
}

/** W5/W6: `steps` Adam steps on the task's generated batches, then accuracy on the held-out set. */
export interface SequenceSpec {
  task: SequenceTask;
  steps: number;
}

export interface JsEngine {
  /** Table name, e.g. 'kiln native', 'tfjs wasm'. */
  name: string;
  /** Threads the engine computes with, as it reports them. */
  threads: number;
  /** Version and settings, for results.json. */
  info: string;
  matmul(n: number): Promise<Runner>;
  train(spec: TrainSpec): Promise<TrainOutcome>;
  /** W5/W6 training; engines without recurrent or attention layers throw Missing. */
  trainSequences(spec: SequenceSpec): Promise<TrainOutcome>;
  /** Inference of the W2 MLP or W3 CNN (untrained weights) on a random batch. */
  predictor(arch: Arch, batch: number): Promise<Runner>;
}

/** Input shape of one sample, without the batch axis. */
export const inputShape = (arch: Arch): number[] => (arch === 'mlp' ? [784] : [28, 28, 1]);
