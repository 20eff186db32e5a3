import { ENGINE } from '../src/engine.js';
import { GATHER } from '../src/ops/gather.js';
import { tensor } from '../src/creation.js';
import type { Tensor } from '../src/tensor.js';
import type { Open } from './ahead.js';
import { disposeElement, mapLeaves, rowOf, type Element } from './element.js';
import type { ShuffleBuffer } from './reorder.js';

/**
 * A pass over the rows of a source's tensors (fromTensorSlices, fromNpy, fromIdx), followed only
 * by stages that choose and order rows (take, skip, shuffle, repeat), is an order of row indices.
 * Kept as such, `batch` gathers each batch with one kernel per tensor and no element ever exists
 * on its own: such a pipeline costs per batch, not per row (tf.data fuses slicing and batching
 * likewise). Every other stage, and a pass without a batch, runs on the rows as elements.
 */
export interface RowPlan {
  /** The tensors the rows come from, their row count, and whether the pass frees them at its end. */
  load(): Promise<Rows>;
  /** A new pass's row indices, in order, given the row count. */
  order(n: number): Iterable<number>;
}

export interface Rows {
  element: Element;
  n: number;
  owned: boolean;
}

/** Every row, in order. */
export function rowPlan(load: () => Promise<Rows>): RowPlan {
  return { load, order: (n) => indices(n) };
}

function* indices(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** The plan's rows one element each, as a pass without a batch sees them. */
export function openRows(plan: RowPlan): Open<Element> {
  return async function* rows() {
    const { element, n, owned } = await plan.load();
    try {
      for (const i of plan.order(n)) yield mapLeaves(element, (t) => rowOf(t, i));
    } finally {
      if (owned) disposeElement(element);
    }
  };
}

/** Batches of `size` rows, each gathered from the source's tensors in one kernel per tensor. */
export function openBatches(plan: RowPlan, size: number, dropRemainder: boolean): Open<Element> {
  return async function* batch() {
    const { element, n, owned } = await plan.load();
    try {
      const it = plan.order(n)[Symbol.iterator]();
      for (;;) {
        const picked: number[] = [];
        while (picked.length < size) {
          const r = it.next();
          if (r.done) break;
          picked.push(r.value);
        }
        if (picked.length === 0 || (picked.length < size && dropRemainder)) return;
        // the rows are ours, so in range: one upload of them serves every tensor, with no check
        yield ENGINE.tidy(() => {
          const idx = tensor(Int32Array.from(picked), [picked.length], 'int32');
          return mapLeaves(element, (t) => ENGINE.run(GATHER, [t as Tensor, idx], { axis: 0 }));
        });
        if (picked.length < size) return;
      }
    } finally {
      if (owned) disposeElement(element);
    }
  };
}

export function takePlan(plan: RowPlan, count: number): RowPlan {
  return {
    load: plan.load,
    *order(n) {
      if (count === 0) return;
      let i = 0;
      for (const r of plan.order(n)) {
        yield r;
        if (++i === count) return;
      }
    },
  };
}

export function skipPlan(plan: RowPlan, count: number): RowPlan {
  return {
    load: plan.load,
    *order(n) {
      let i = 0;
      for (const r of plan.order(n)) if (count >= 0 && i++ >= count) yield r;
    },
  };
}

export function repeatPlan(plan: RowPlan, count: number): RowPlan {
  return {
    load: plan.load,
    *order(n) {
      for (let pass = 0; count < 0 || pass < count; pass++) {
        let yielded = 0;
        for (const r of plan.order(n)) {
          yielded++;
          yield r;
        }
        // as repeatStage: an empty pass would repeat forever
        if (yielded === 0) return;
      }
    },
  };
}

/** shuffle on the indices: the very orders shuffleStage gives the elements, from one buffer algorithm. */
export function shufflePlan(plan: RowPlan, buffer: ShuffleBuffer): RowPlan {
  return {
    load: plan.load,
    *order(n) {
      const pass = buffer.pass<number>();
      const it = plan.order(n)[Symbol.iterator]();
      for (;;) {
        while (pass.wants()) {
          const r = it.next();
          if (r.done) pass.end();
          else pass.add(r.value);
        }
        if (pass.empty()) return;
        yield pass.pick();
      }
    },
  };
}
