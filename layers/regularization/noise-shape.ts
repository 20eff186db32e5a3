import { fail, fmtShape } from '../../src/errors.js';
import type { Dim } from '../../src/shape.js';
import type { Tensor } from '../../src/tensor.js';

/**
 * The shape of a keep/drop mask for `x`: `noiseShape` with each null taken from x's size, checked
 * to broadcast over x (a 1 shares one draw along that axis); x's own shape when there is none.
 */
export function noiseShapeFor(where: string, noiseShape: readonly Dim[] | null, x: Tensor): number[] {
  if (!noiseShape) return [...x.shape];
  const fits = noiseShape.length === x.rank && noiseShape.every((d, i) => d === null || d === 1 || d === x.shape[i]);
  if (!fits) fail(where, `noiseShape ${fmtShape(noiseShape)} does not broadcast to the input shape ${fmtShape(x.shape)}`);
  return noiseShape.map((d, i) => d ?? x.shape[i]);
}
