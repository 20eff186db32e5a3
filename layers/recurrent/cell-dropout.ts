import { fail } from '../../src/errors.js';
import * as ops from '../../src/ops/index.js';
import { uniform } from '../../src/random.js';
import type { DType } from '../../backends/contract.js';
import type { Tensor } from '../../src/tensor.js';
import { SeedStream } from '../seed-stream.js';
import { RNNCell } from './cell.js';
import type { CellOptions } from './cell-options.js';

/** What a mask is drawn like: a step's input, or its shape and dtype before any step exists. */
type ShapeOf = { readonly shape: readonly (number | null)[]; readonly dtype: DType };

/**
 * A cell's dropout masks, as Keras's DropoutRNNCell keeps them: drawn at the first step of a
 * sequence and reused at every step, so a dropped input feature or state unit stays dropped for
 * the whole sequence; the RNN clears them when the sequence ends. Each mask is 0 or 1 / (1 - rate).
 */
export class CellDropout {
  private inputMasks: Tensor[] | null = null;
  private recurrentMasks: Tensor[] | null = null;
  private readonly seeds: SeedStream;

  constructor(who: string, readonly rate: number, readonly recurrentRate: number, seed: number | null | undefined) {
    for (const [name, r] of [['dropout', rate], ['recurrentDropout', recurrentRate]] as const) {
      if (typeof r !== 'number' || !(r >= 0 && r <= 1)) fail(who, `${name} must be a number in [0, 1], got ${String(r)}`);
    }
    this.seeds = new SeedStream(who, seed);
  }

  get seed(): number | null {
    return this.seeds.seed ?? null;
  }

  /** `count` masks shaped as `x` (one per gate, or one shared), or null when nothing drops. */
  input(x: ShapeOf, count: number, training: boolean | undefined): Tensor[] | null {
    if (!training || !(this.rate > 0 && this.rate < 1)) return null;
    this.inputMasks ??= this.draw(x, this.rate, count);
    return this.inputMasks;
  }

  /** As `input`, for the previous state: recurrent dropout. */
  recurrent(h: Tensor, count: number, training: boolean | undefined): Tensor[] | null {
    if (!training || !(this.recurrentRate > 0 && this.recurrentRate < 1)) return null;
    this.recurrentMasks ??= this.draw(h, this.recurrentRate, count);
    return this.recurrentMasks;
  }

  /** Ends a sequence: the next one draws new masks. */
  reset(): void {
    this.inputMasks = null;
    this.recurrentMasks = null;
  }

  private draw(like: ShapeOf, rate: number, count: number): Tensor[] {
    const keep = 1 - rate;
    return Array.from({ length: count }, () => {
      const u = uniform([...like.shape] as number[], { dtype: like.dtype, seed: this.seeds.next() });
      return ops.where(ops.less(u, keep), 1 / keep, 0);
    });
  }
}

/**
 * `x · kernel` with the dropout masks on x: one mask for all gates, or one mask per gate (then
 * each gate's block of the kernel takes its own masked copy of x, as Keras's implementation 1).
 */
export function project(x: Tensor, kernel: Tensor, masks: Tensor[] | null): Tensor {
  if (masks === null) return ops.matmul(x, kernel);
  if (masks.length === 1) return ops.matmul(ops.multiply(x, masks[0]), kernel);
  const blocks = ops.split(kernel, masks.length, 1);
  return ops.concatenate(blocks.map((k, g) => ops.matmul(ops.multiply(x, masks[g]), k)), 1);
}

/** A cell that drops inputs and states (Keras's DropoutRNNCell): the fixed cells' base. */
export abstract class DropoutRNNCell extends RNNCell {
  readonly dropoutMasks: CellDropout;

  constructor(options: CellOptions) {
    super(options);
    this.dropoutMasks = new CellDropout(this.toString(), options.dropout ?? 0, options.recurrentDropout ?? 0, options.seed);
  }

  override resetDropoutMasks(): void {
    this.dropoutMasks.reset();
  }
}
