import type { UpdateRule } from '../../backends/contract.js';
import { ENGINE, type MultiPrimitive } from '../engine.js';
import type { Tensor } from '../tensor.js';
import { fusedKernel } from './switch.js';

interface UpdateAttrs {
  rule: UpdateRule;
  hyper: readonly number[];
}

/** One optimizer step on one weight: [w, g, ...slots] in, [w', ...slots'] out. */
const APPLY_UPDATE: MultiPrimitive<UpdateAttrs> = {
  name: 'applyUpdate',
  infer([w, , ...slots]) {
    return [w, ...slots].map((t) => ({ shape: t.shape, dtype: t.dtype }));
  },
  run(backend, [w, g, ...slots], outs, { rule, hyper }) {
    backend.fused!.applyUpdate!(rule, hyper, w, g, slots, outs);
  },
};

/**
 * The next values of weight `w` and its optimizer slots after one step of `rule` (see
 * UpdateRule in backends/contract.ts for `hyper` and the slots' order), in one kernel; null
 * where the backend has no such kernel (the optimizer composes its step instead).
 */
export function fusedUpdate(rule: UpdateRule, hyper: readonly number[], w: Tensor, g: Tensor, slots: readonly Tensor[]): Tensor[] | null {
  if (w.size === 0 || g.dtype !== w.dtype || !fusedKernel('applyUpdate', [w, g, ...slots])) return null;
  return ENGINE.runMany(APPLY_UPDATE, [w, g, ...slots], { rule, hyper });
}
