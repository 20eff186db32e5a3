import type { FusedActivation, TensorInfo } from '../../contract.js';
import { activateBack } from './activation.js';
import { elementwise } from './elementwise.js';
import { matmul } from './matmul.js';
import { reduce } from './reduce.js';
import type { GpuContext } from './wgsl.js';

/** out = act(x · w + bias): the tiled matmul with the bias and activation applied as each tile is stored. */
export function dense(
  ctx: GpuContext, x: TensorInfo, w: TensorInfo, bias: TensorInfo | null, activation: FusedActivation, out: TensorInfo,
): void {
  matmul(ctx, x, w, false, false, out, { bias, activation });
}

/**
 * Dense's backward: dz = dy · act'(y) in one elementwise launch (none for linear), then
 * dx = dz · wᵀ and dw = xᵀ · dz by the tiled matmul reading its operands transposed in place,
 * and dBias = dz summed over rows: at most four launches, where the composition takes about ten.
 */
export function denseGrad(
  ctx: GpuContext, dy: TensorInfo, y: TensorInfo, x: TensorInfo, w: TensorInfo, activation: FusedActivation,
  dx: TensorInfo | null, dw: TensorInfo | null, dBias: TensorInfo | null,
): void {
  let dz = dy;
  if (activation !== 'linear') {
    dz = ctx.temp(dy.shape, dy.dtype);
    elementwise(ctx, `denseBack:${activation}`, 'back(a, b)', [dy, y], dz, `fn back(dy: f32, y: f32) -> f32 { return ${activateBack(activation)}; }`);
  }
  if (dx) matmul(ctx, dz, w, false, true, dx);
  if (dw) matmul(ctx, x, dz, true, false, dw);
  if (dBias) reduce(ctx, 'sum', dz, [0], dBias);
  if (dz !== dy) ctx.drop(dz);
}
