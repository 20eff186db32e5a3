import { ENGINE } from '../engine.js';
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { describe } from '../variable.js';
import { GradientTape, type Source } from './tape.js';

/**
 * `grad(f)` is the function computing the gradient of f's (scalar or summed) output with respect
 * to each argument: one tensor for one argument, an array for several.
 * @example
 * const df = kiln.grad((x) => kiln.ops.square(x));
 * df(kiln.tensor([3]));   // [6]
 */
export function grad(fn: (...args: Tensor[]) => Tensor): (...args: Tensor[]) => Tensor | (Tensor | null)[] | null {
  return (...args: Tensor[]) => {
    args.forEach((a, i) => {
      if (!(a instanceof Tensor)) fail('grad', `argument ${i} must be a Tensor, got ${describe(a)}`);
    });
    const tape = new GradientTape();
    const grads = ENGINE.tidy(() => {
      const y = tape.record(() => fn(...args));
      if (!(y instanceof Tensor)) fail('grad', `the function must return a Tensor, got ${describe(y)}`);
      return tape.gradient(y, args, { unconnectedGradients: 'zero' });
    });
    return args.length === 1 ? grads[0] : grads;
  };
}

/**
 * Runs `fn` once and returns its value and the gradients of that value with respect to `sources`
 * (null for unconnected or integer sources).
 */
export function valueAndGrad(fn: () => Tensor, sources: readonly Source[]): { value: Tensor; grads: (Tensor | null)[] } {
  const tape = new GradientTape();
  return ENGINE.tidy(() => {
    const value = tape.record(fn);
    if (!(value instanceof Tensor)) fail('valueAndGrad', `the function must return a Tensor, got ${describe(value)}`);
    return { value, grads: tape.gradient(value, sources) };
  });
}
