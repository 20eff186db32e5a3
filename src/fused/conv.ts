import type { ConvGeometry, FusedActivation } from '../../backends/contract.js';
import { ENGINE, type Spec } from '../engine.js';
import { fail, fmtShape } from '../errors.js';
import { isFloat } from '../dtype.js';
import type { Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add } from '../ops/binary.js';
import { matmul } from '../ops/matmul.js';
import { PAD, SLICE, product, reshape, stack, transpose } from '../ops/movement.js';
import { activate } from './activate.js';
import { defineFused } from './define.js';

/** A convolution's geometry with the padding after each spatial axis too, which fixes the output's size. */
export interface ConvPlan extends ConvGeometry {
  readonly padsAfter: readonly number[];
}

interface ConvAttrs {
  plan: ConvPlan;
  activation: FusedActivation;
}

/** Every index of `shape`, row-major. */
function positions(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of shape) out = out.flatMap((prefix) => Array.from({ length: n }, (_, i) => [...prefix, i]));
  return out;
}

/** Output size along one axis: the windows of (K - 1)·dilation + 1 that fit in the padded input, one per stride. */
export function convOutputSize(size: number, kernel: number, stride: number, dilation: number, before: number, after: number): number {
  return Math.floor((size + before + after - (kernel - 1) * dilation - 1) / stride) + 1;
}

/**
 * out's shape and dtype from x [N, ...S, C], w [...K, C / groups, F], bias [F] or absent and the
 * plan, checked: what the kernel computes, and what the composition gives.
 */
const MAX_INT32 = 2 ** 31 - 1;

function convSpec([x, w, bias]: readonly Spec[], { plan }: ConvAttrs): Spec {
  const d = x.shape.length - 2;
  const shapes = () => `x ${fmtShape(x.shape)}, w ${fmtShape(w.shape)}${bias ? `, bias ${fmtShape(bias.shape)}` : ''}`;
  if (d < 1 || d > 3 || w.shape.length !== d + 2) fail('conv', `expected x [N, ...S, C] and w [...K, C / groups, F] with 1 to 3 spatial axes, got ${shapes()}`);
  if ([plan.strides, plan.dilations, plan.padsBefore, plan.padsAfter].some((list) => list.length !== d)) {
    fail('conv', `expected strides, dilations and pads for ${d} spatial axes, got ${JSON.stringify(plan)}`);
  }
  // the native addon takes these as int32: a dilation of 2^53 with 'same' padding has a valid shape but would wrap to 0
  if ([plan.strides, plan.dilations, plan.padsBefore, plan.padsAfter].some((list) => list.some((v) => !Number.isInteger(v) || v < 0 || v > MAX_INT32))) {
    fail('conv', `strides, dilations and pads must be integers in [0, ${MAX_INT32}], got ${JSON.stringify(plan)}`);
  }
  if (w.dtype !== x.dtype || (bias && bias.dtype !== x.dtype)) fail('conv', `inputs must share a dtype, got ${[x, w, bias].filter(Boolean).map((s) => s!.dtype).join(', ')}`);
  const [C, cg, F] = [x.shape[d + 1], w.shape[d] as number, w.shape[d + 1] as number];
  const { groups } = plan;
  if ((C !== null && C !== groups * cg) || F % groups !== 0) fail('conv', `with ${groups} groups, expected C = ${groups} · w's input channels and F a multiple of ${groups}, got ${shapes()}`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== F)) fail('conv', `expected a bias of shape [${F}], got ${shapes()}`);
  const O = x.shape.slice(1, d + 1).map((s, i): Dim => {
    if (s === null) return null;
    const o = convOutputSize(s, w.shape[i] as number, plan.strides[i], plan.dilations[i], plan.padsBefore[i], plan.padsAfter[i]);
    // an empty input may give an empty output; a window that fits nowhere in a real one is an error
    if (o < 0 || (o === 0 && s > 0)) fail('conv', `the kernel does not fit in the padded input on spatial axis ${i}: ${shapes()}, plan ${JSON.stringify(plan)}`);
    return o;
  });
  return { shape: [x.shape[0], ...O, F], dtype: x.dtype };
}

/**
 * The convolution from primitives: pad, one strided slice of the input per kernel position,
 * stacked into patches [rows, K, C], and one matmul per channel group (a batched matmul over
 * the groups), then the bias and the activation. Differentiable and runs on every backend.
 */
function composedConv([x, w, bias]: readonly Tensor[], attrs: ConvAttrs): Tensor {
  const { plan, activation } = attrs;
  const d = x.rank - 2;
  const out = convSpec(bias ? [x, w, bias] : [x, w], attrs).shape;
  const O = out.slice(1, d + 1) as number[];
  const K = w.shape.slice(0, d) as number[];
  const [cg, F, G] = [w.shape[d] as number, w.shape[d + 1] as number, plan.groups];
  const kn = product(K)!;
  const padded = ENGINE.run(PAD, [x], { pads: [[0, 0], ...plan.padsBefore.map((b, i) => [b, plan.padsAfter[i]] as const), [0, 0]], value: 0 });
  // window k: padded[n, o·stride + k·dilation, c] for every output position o
  const windows = positions(K).map((k) => ENGINE.run(SLICE, [padded], {
    begin: [0, ...k.map((ki, i) => ki * plan.dilations[i]), 0],
    size: [-1, ...O, -1],
    step: [1, ...plan.strides, 1],
  }));
  const rows = x.shape[0] === null ? -1 : x.shape[0] * product(O)!;
  const patches = stack(windows, d + 1);
  let y: Tensor;
  if (G === 1) {
    y = matmul(reshape(patches, [rows, kn * cg]), reshape(w, [kn * cg, F]));
  } else {
    const byGroup = reshape(transpose(reshape(patches, [rows, kn, G, cg]), [2, 0, 1, 3]), [G, rows, kn * cg]);
    const kernels = reshape(transpose(reshape(w, [kn, cg, G, F / G]), [2, 0, 1, 3]), [G, kn * cg, F / G]);
    y = reshape(transpose(matmul(byGroup, kernels), [1, 0, 2]), [rows, F]);
  }
  y = reshape(y, [x.shape[0] === null ? -1 : x.shape[0], ...O, F]);
  return activate(bias ? add(y, bias) : y, activation);
}

/** The contract's geometry alone, without the padding after (implied by the output's size). */
const geometryOf = ({ strides, dilations, padsBefore, groups }: ConvPlan): ConvGeometry => ({ strides, dilations, padsBefore, groups });

const CONV = defineFused({
  kernel: 'conv',
  infer: convSpec,
  compose: composedConv,
  applies: ([x, w, bias]) =>
    isFloat(x.dtype) && w.dtype === x.dtype && (bias === undefined || bias.dtype === x.dtype) && x.size > 0 && w.size > 0,
  run: (conv, [x, w, bias], out, { plan, activation }) => conv(x, w, bias ?? null, geometryOf(plan), activation, out),
  // the whole backward pass (activation, input, kernel and bias gradients) in one kernel,
  // instead of the composition's slices, pads and scatters
  backward: {
    kernel: 'convGrad',
    infer: ([x, w, bias]) => [
      { shape: x.shape, dtype: x.dtype },
      { shape: w.shape, dtype: w.dtype },
      ...(bias ? [{ shape: bias.shape, dtype: bias.dtype }] : []),
    ],
    run: (convGrad, dy, y, [x, w], [dx, dw, dBias], { plan, activation }) =>
      convGrad(dy, y, x, w, geometryOf(plan), activation, dx, dw, dBias ?? null),
  },
});

/**
 * act(conv(x, w) + bias), channels last: x [N, ...S, C] with 1 to 3 spatial axes of known
 * size, w [...K, C / groups, F], bias [F] or null; out [N, ...O, F]. The backend's fused kernel
 * where it has one, else composed from primitives (always for symbolic inputs). The caller
 * (kiln.ops' convolutions) has worked out the padding from the user's options.
 */
export function convolve(x: Tensor, w: Tensor, bias: Tensor | null, plan: ConvPlan, activation: FusedActivation = 'linear'): Tensor {
  const attrs = { plan, activation };
  const inputs = bias ? [x, w, bias] : [x, w];
  const spec = convSpec(inputs, attrs);
  if (spec.shape.slice(1, -1).includes(null)) {
    fail('conv', `the spatial sizes must be known to lay out the convolution, got x ${fmtShape(x.shape)}`);
  }
  return CONV.apply(inputs, attrs);
}
