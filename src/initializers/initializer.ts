/**
 * Weight initializers, with Keras 3's names, defaults and formulas (keras.initializers).
 *
 * An initializer is an object with `call(shape, dtype)`; layers take one, a string id
 * ('glorot_uniform'), a saved `{ className, config }` or a plain function, and turn it into a
 * function with `getInitializer`.
 */
import type { DType } from '../../backends/contract.js';
import { fail } from '../errors.js';
import type { Serialized } from '../registry.js';
import type { Tensor } from '../tensor.js';

/** What layers call: a fresh tensor of `shape` and `dtype`. */
export type InitializerFn = (shape: readonly number[], dtype: DType) => Tensor;

/** What a layer accepts as an initializer. */
export type InitializerId = string | Initializer | { className: string; config?: object } | InitializerFn;

/** The save format of an initializer. */
export type SerializedInitializer = Serialized;

/**
 * The base of every initializer: `call` makes the values, `getConfig` returns the constructor
 * options as plain JSON (so `new Cls(init.getConfig())` rebuilds it).
 */
export abstract class Initializer {
  abstract call(shape: readonly number[], dtype?: DType): Tensor;

  getConfig(): Record<string, unknown> {
    return {};
  }

  /** Keras's class name, as saved in configs. */
  get className(): string {
    return (this.constructor as { className?: string }).className ?? this.constructor.name;
  }
}

export abstract class RandomInitializer extends Initializer {
  readonly seed: number | undefined;

  constructor(seed: number | null | undefined) {
    super();
    if (seed !== undefined && seed !== null && !Number.isInteger(seed)) {
      fail(this.className, `seed must be an integer, got ${seed}`);
    }
    this.seed = seed ?? undefined;
  }

  override getConfig(): Record<string, unknown> {
    return { seed: this.seed ?? null };
  }
}

export interface SeedOptions {
  seed?: number | null;
}

