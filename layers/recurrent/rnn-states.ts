import type { DType } from '../../backends/contract.js';
import { ENGINE } from '../../src/engine.js';
import { zeros } from '../../src/creation.js';
import { fail, fmtShape } from '../../src/errors.js';
import type { Dim } from '../../src/shape.js';
import { SymbolicTensor } from '../../src/symbolic.js';
import { Tensor } from '../../src/tensor.js';
import { Variable } from '../../src/variable.js';
import { cast } from '../../src/ops/select.js';

/**
 * A stateful RNN's states, carried from one call to the next (Keras's `rnn_state` variables).
 * They are not weights: nothing trains them and they are not saved, as in Keras. The batch size
 * is fixed by `batchSize` (or `batchInputShape`), else by the first call.
 */
export class CarriedStates {
  private variables: Variable[] | null = null;

  constructor(private readonly who: string, private readonly sizes: readonly number[], private readonly dtype: DType) {}

  /** The fixed batch size, or null before any is known. */
  get batch(): number | null {
    return this.variables ? this.variables[0].shape[0] : null;
  }

  /** The carried states for a call on `batch` samples, creating zeros on first use. */
  values(batch: number): Tensor[] {
    this.fix(batch);
    // views: a call with no steps returns its initial states, which the next call's assign must not free
    return this.variables!.map((v) => ENGINE.view(v.value));
  }

  /** Fixes the batch size at its first value, refusing any other after. */
  private fix(batch: number): void {
    if (this.variables === null) this.create(batch);
    if (batch !== this.batch) {
      fail(this.who, `is stateful, so its batch size is fixed at ${this.batch} (by batchSize, batchInputShape or its first call); got a batch of ${batch}. Give every batch ${this.batch} samples (fit and predict: a batchSize that divides the data), or build a new layer`);
    }
  }

  create(batch: number): void {
    this.variables = this.sizes.map((n, i) => new Variable(zeros([batch, n], this.dtype), { name: `${this.who}/rnn_state_${i}`, trainable: false }));
  }

  /** Keeps a call's final states for the next call: values, not part of any gradient. */
  carry(states: readonly Tensor[]): void {
    // a call given its initialState has not read the carried states: its batch is checked here
    this.fix(states[0].shape[0]);
    ENGINE.withoutTapes(() => this.variables!.forEach((v, i) => v.assign(states[i])));
  }

  /** Zeros, or the given values (one [batch, size] per state). */
  reset(values?: Tensor | readonly Tensor[]): void {
    if (values === undefined) {
      this.variables?.forEach((v) => v.assign(zeros([...v.shape], v.dtype)));
      return;
    }
    const list = values instanceof Tensor ? [values] : [...values];
    checkStates(`${this.who}.resetStates`, list, this.sizes, this.batch ?? list[0]?.shape[0] ?? null);
    if (this.variables === null) this.create(list[0].shape[0]);
    ENGINE.withoutTapes(() => ENGINE.tidy(() => this.variables!.forEach((v, i) => v.assign(cast(list[i], v.dtype)))));
  }

  dispose(): void {
    this.variables?.forEach((v) => v.dispose());
    this.variables = null;
  }
}

/** Checks states given by the caller: one [batch, size] tensor per state. */
export function checkStates(who: string, states: readonly unknown[], sizes: readonly number[], batch: Dim): void {
  const expected = sizes.map((n) => fmtShape([batch, n])).join(', ');
  if (states.length !== sizes.length) fail(who, `expects ${sizes.length} initial state${sizes.length === 1 ? '' : 's'} (${expected}), got ${states.length}`);
  states.forEach((s, i) => {
    if (!(s instanceof Tensor) && !(s instanceof SymbolicTensor)) fail(who, `initial state ${i} must be a tensor of shape ${fmtShape([batch, sizes[i]])}, got ${s === null ? 'null' : typeof s}`);
    // a symbolic state's unknown batch size fits any
    const ok = s.shape.length === 2 && s.shape[1] === sizes[i] && (batch === null || s.shape[0] === null || s.shape[0] === batch);
    if (!ok) fail(who, `initial state ${i} must have shape ${fmtShape([batch, sizes[i]])}, got ${fmtShape(s.shape)} (expected states: ${expected})`);
  });
}
