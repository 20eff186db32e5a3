import type { UpdateRule } from '../../backends/contract.js';
import { isFloat } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { add, divide, maximum, multiply, subtract } from '../ops/binary.js';
import { sqrt, square } from '../ops/unary.js';
import { defineFused } from './define.js';

interface UpdateAttrs {
  rule: UpdateRule;
  hyper: readonly number[];
}

/** One step of a rule from primitives: [w, g, ...slots] in, [w', ...slots'] out (see UpdateRule). */
type Step = (hyper: readonly number[], w: Tensor, g: Tensor, slots: readonly Tensor[]) => Tensor[];

const STEPS: Record<UpdateRule, Step> = {
  sgd([lr, momentum, nesterov], w, g, [m]) {
    if (momentum === 0) return [subtract(w, multiply(g, lr))];
    const m2 = subtract(multiply(m, momentum), multiply(g, lr));
    return [nesterov ? add(w, subtract(multiply(m2, momentum), multiply(g, lr))) : add(w, m2), m2];
  },

  adam([alpha, beta1, beta2, epsilon], w, g, [m, v, vHat]) {
    const m2 = add(m, multiply(subtract(g, m), 1 - beta1));
    const v2 = add(v, multiply(subtract(square(g), v), 1 - beta2));
    const vHat2 = vHat && maximum(vHat, v2);
    const denominator = add(sqrt(vHat2 ?? v2), epsilon);
    const w2 = subtract(w, divide(multiply(m2, alpha), denominator));
    return vHat2 ? [w2, m2, v2, vHat2] : [w2, m2, v2];
  },

  rmsprop([lr, rho, momentum, epsilon, centered], w, g, slots) {
    const velocity = add(multiply(rho, slots[0]), multiply(1 - rho, square(g)));
    const average = centered ? add(multiply(rho, slots[slots.length - 1]), multiply(1 - rho, g)) : null;
    const denominator = average ? add(subtract(velocity, square(average)), epsilon) : add(velocity, epsilon);
    const increment = divide(multiply(lr, g), sqrt(denominator));
    const mom = momentum === 0 ? null : add(multiply(momentum, slots[1]), increment);
    const w2 = subtract(w, mom ?? increment);
    return [w2, velocity, ...(mom ? [mom] : []), ...(average ? [average] : [])];
  },

  adagrad([lr, epsilon], w, g, [accumulator]) {
    const acc2 = add(accumulator, square(g));
    return [subtract(w, divide(multiply(lr, g), sqrt(add(acc2, epsilon)))), acc2];
  },
};

const APPLY_UPDATE = defineFused({
  kernel: 'applyUpdate',
  outputs: 'many',
  infer: ([w, , ...slots]) => [w, ...slots].map((t) => ({ shape: t.shape, dtype: t.dtype })),
  compose: ([w, g, ...slots], { rule, hyper }: UpdateAttrs) => STEPS[rule](hyper, w, g, slots),
  applies: ([w, g]) => isFloat(w.dtype) && w.size > 0 && g.dtype === w.dtype,
  run: (applyUpdate, [w, g, ...slots], outs, { rule, hyper }) => applyUpdate(rule, hyper, w, g, slots, outs),
});

/**
 * The next values of weight `w` and its optimizer slots after one step of `rule` (see
 * UpdateRule in backends/contract.ts for `hyper` and the slots' order): [w', ...slots'], by one
 * fused kernel where the backend has it, else composed.
 */
export function applyUpdate(rule: UpdateRule, hyper: readonly number[], w: Tensor, g: Tensor, slots: readonly Tensor[]): Tensor[] {
  return APPLY_UPDATE.apply([w, g, ...slots], { rule, hyper });
}
