import type { TypedArray, UpdateRule } from '../../contract.js';

// Each rule writes the new slots first and reads them back from their outputs to step the
// weight, so that w' is computed from the slots as stored (rounded to float32 there), as in the
// composed optimizer, which assigns a slot and then uses it. Each output element is written from
// its own input element read just before, so an output may also be the input it replaces.

type Step = (hyper: readonly number[], w: TypedArray, g: TypedArray, slots: readonly TypedArray[], outs: readonly TypedArray[]) => void;

/** [lr, momentum, nesterov]; slots [] or [m]. */
const sgd: Step = ([lr, momentum, nesterov], w, g, [m], [wOut, mOut]) => {
  if (momentum === 0) {
    for (let i = 0; i < w.length; i++) wOut[i] = w[i] - lr * g[i];
    return;
  }
  for (let i = 0; i < w.length; i++) {
    mOut[i] = momentum * m[i] - lr * g[i];
    wOut[i] = nesterov ? w[i] + momentum * mOut[i] - lr * g[i] : w[i] + mOut[i];
  }
};

/** [alpha, beta1, beta2, epsilon]; slots [m, v] or, for AMSGrad, [m, v, vHat]. */
const adam: Step = ([alpha, beta1, beta2, epsilon], w, g, [m, v, vHat], [wOut, mOut, vOut, vHatOut]) => {
  for (let i = 0; i < w.length; i++) {
    mOut[i] = m[i] + (g[i] - m[i]) * (1 - beta1);
    vOut[i] = v[i] + (g[i] * g[i] - v[i]) * (1 - beta2);
    // Math.max lets NaN win, as the maximum kernel does
    if (vHat) vHatOut[i] = Math.max(vHat[i], vOut[i]);
    wOut[i] = w[i] - (alpha * mOut[i]) / (Math.sqrt(vHat ? vHatOut[i] : vOut[i]) + epsilon);
  }
};

/** [lr, rho, momentum, epsilon, centered]; slots [velocity, momentum if > 0, average if centered]. */
const rmsprop: Step = ([lr, rho, momentum, epsilon, centered], w, g, slots, [wOut, ...slotsOut]) => {
  // where the momentum and the average sit among the slots; 0 (the velocity's place) when absent
  const mom = momentum > 0 ? 1 : 0;
  const avg = centered ? slots.length - 1 : 0;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    slotsOut[0][i] = rho * slots[0][i] + (1 - rho) * gi * gi;
    let meanSquare = slotsOut[0][i];
    if (avg) {
      slotsOut[avg][i] = rho * slots[avg][i] + (1 - rho) * gi;
      meanSquare -= slotsOut[avg][i] * slotsOut[avg][i];
    }
    const increment = (lr * gi) / Math.sqrt(meanSquare + epsilon);
    if (mom) {
      slotsOut[mom][i] = momentum * slots[mom][i] + increment;
      wOut[i] = w[i] - slotsOut[mom][i];
    } else {
      wOut[i] = w[i] - increment;
    }
  }
};

/** [lr, epsilon]; slots [accumulator]. */
const adagrad: Step = ([lr, epsilon], w, g, [acc], [wOut, accOut]) => {
  for (let i = 0; i < w.length; i++) {
    accOut[i] = acc[i] + g[i] * g[i];
    wOut[i] = w[i] - (lr * g[i]) / Math.sqrt(accOut[i] + epsilon);
  }
};

const STEPS: Record<UpdateRule, Step> = { sgd, adam, rmsprop, adagrad };

/** One optimizer step on one weight: outs = [w', ...slots'] (see UpdateRule in the contract). */
export function applyUpdate(
  rule: UpdateRule, hyper: readonly number[], w: TypedArray, g: TypedArray,
  slots: readonly TypedArray[], outs: readonly TypedArray[],
): void {
  STEPS[rule](hyper, w, g, slots, outs);
}
