import { GradientTape } from '../autodiff/tape.js';
import type { Tensor } from '../tensor.js';

/**
 * The gradients of a fused op's composition at `inputs`, given its output's gradient `dy`. A
 * fused op's gradient rule returns these when an outer tape records the backward pass (for
 * higher-order gradients) or the backend has no fused backward kernel: the composition is
 * differentiable again, a fused backward kernel is not.
 */
export function composedGrad(
  composed: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], dy: Tensor, needs: readonly boolean[],
): (Tensor | null)[] {
  const tape = new GradientTape();
  const y = tape.record(() => composed(...inputs));
  const wanted = inputs.filter((_, i) => needs[i]);
  const grads = tape.gradient(y, wanted, { outputGradients: dy });
  let k = 0;
  return inputs.map((_, i) => (needs[i] ? grads[k++] : null));
}
