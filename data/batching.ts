import { ENGINE } from '../src/engine.js';
import { fail, fmtShape } from '../src/errors.js';
import { stack } from '../src/ops/movement.js';
import type { Tensor } from '../src/tensor.js';
import type { Open } from './ahead.js';
import { disposeElement, leaves, mapLeaves, rowOf, rowsOf, type Element } from './element.js';

/** What batch compares between elements: each tensor's path, shape and dtype. */
function signature(e: Element): string {
  return leaves(e).map(([p, t]) => `${p || 'x'} ${t.dtype} ${fmtShape(t.shape)}`).join(', ');
}

/** Groups of `size` consecutive elements, each stacked into one element with a new axis 0. */
export function batchStage(open: Open<Element>, size: number, dropRemainder: boolean): Open<Element> {
  return async function* batch() {
    const it = open();
    const group: Element[] = [];
    let first = '';
    try {
      for (let i = 0; ; i++) {
        const r = await it.next();
        if (r.done) break;
        const sig = signature(r.value);
        if (group.length === 0) first = sig;
        else if (sig !== first) {
          disposeElement(r.value);
          fail('Dataset.batch', `element ${i} is {${sig}}, but element ${i - group.length} of its batch is {${first}}: the elements of a batch must have the same structure, shapes and dtypes`);
        }
        group.push(r.value);
        if (group.length === size) yield stackGroup(group.splice(0));
      }
      if (group.length > 0 && !dropRemainder) yield stackGroup(group.splice(0));
    } finally {
      for (const e of group) disposeElement(e);
      await it.return?.();
    }
  };
}

function stackGroup(group: Element[]): Element {
  const byPath = group.map((e) => new Map(leaves(e)));
  const out = ENGINE.tidy(() => mapLeaves(group[0], (_, path) => stack(byPath.map((m) => m.get(path) as Tensor), 0)));
  for (const e of group) disposeElement(e);
  return out;
}

/** Each element split along axis 0 into its rows, one element per row. */
export function unbatchStage(open: Open<Element>): Open<Element> {
  return async function* unbatch() {
    const it = open();
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        let rows: Element[];
        try {
          const n = rowsOf('Dataset.unbatch', r.value);
          rows = Array.from({ length: n }, (_, i) => mapLeaves(r.value, (t) => rowOf(t, i)));
        } finally {
          disposeElement(r.value);
        }
        try {
          while (rows.length > 0) yield rows.shift() as Element;
        } finally {
          // left early: the rows not handed out are still ours
          for (const e of rows) disposeElement(e);
        }
      }
    } finally {
      await it.return?.();
    }
  };
}
