/**
 * The contract's optional fused kernels (backends/contract.ts has the primitive ones): what each
 * computes, the activations and update rules they apply, and their geometries.
 */
import type { TensorInfo } from './tensor-info.js';

/** Activations a fused kernel applies itself; any other activation composes after a linear one. */
export type FusedActivation = 'linear' | 'relu' | 'sigmoid' | 'tanh';
export const FUSED_ACTIVATIONS: readonly FusedActivation[] = ['linear', 'relu', 'sigmoid', 'tanh'];

/**
 * Optimizer update rules a fused kernel applies to one weight; `hyper` and `slots` per rule
 * (slots in the optimizer's order, each shaped like the weight; every output likewise):
 * - sgd     [lr, momentum, nesterov]     slots [] when momentum is 0, else [m]:
 *           momentum 0: w' = w - lr·g; else m' = momentum·m - lr·g and
 *           w' = nesterov ? w + momentum·m' - lr·g : w + m'
 * - adam    [alpha, beta1, beta2, epsilon] slots [m, v] or, for AMSGrad, [m, v, vHat]:
 *           m' = m + (g - m)(1 - beta1); v' = v + (g² - v)(1 - beta2); vHat' = max(vHat, v');
 *           w' = w - alpha·m' / (sqrt(vHat' or v') + epsilon)   (alpha has the bias corrections)
 * - rmsprop [lr, rho, momentum, epsilon, centered] slots [velocity, momentum if > 0, average if centered]:
 *           vel' = rho·vel + (1 - rho)·g²; avg' = rho·avg + (1 - rho)·g;
 *           inc = lr·g / sqrt((centered ? vel' - avg'² : vel') + epsilon);
 *           momentum 0: w' = w - inc; else mom' = momentum·mom + inc and w' = w - mom'
 * - adagrad [lr, epsilon]                 slots [accumulator]:
 *           acc' = acc + g²; w' = w - lr·g / sqrt(acc' + epsilon)
 * Flags in `hyper` (nesterov, centered) are 0 or 1; AMSGrad shows in adam's slot count. Slots are
 * stored before w' is computed from them, so float32 rounds them first, as the composition does.
 */
export type UpdateRule = 'sgd' | 'adam' | 'rmsprop' | 'adagrad';
export const UPDATE_RULES: readonly UpdateRule[] = ['sgd', 'adam', 'rmsprop', 'adagrad'];

/**
 * Optional fused kernels: each does in one call what a composition of the kernels above does.
 * A backend implements any subset; core composes the rest from the kernels above (and does so
 * for all of them when fused kernels are switched off), and the conformance suite runs both
 * paths on every backend. Tensors are float32 or float64, one dtype per call, except int32
 * sparse labels. Outputs are allocated by core; a null output is not wanted.
 */
export interface FusedKernels {
  /** out = act(x · w + bias): x [m, k], w [k, n], bias [n] or null, out [m, n]. */
  dense(x: TensorInfo, w: TensorInfo, bias: TensorInfo | null, activation: FusedActivation, out: TensorInfo): void;
  /**
   * Dense's backward from its output y = act(x · w + bias) and y's gradient dy (both [m, n]):
   * dz = dy · act'(y) (relu: a select, y <= 0 ? 0 : dy, so NaN passes as in the composition;
   * sigmoid: dy·y(1 - y); tanh: dy·(1 - y²)); dx = dz · wᵀ [m, k],
   * dw = xᵀ · dz [k, n], dBias = dz summed over rows [n].
   */
  denseGrad(
    dy: TensorInfo, y: TensorInfo, x: TensorInfo, w: TensorInfo, activation: FusedActivation,
    dx: TensorInfo | null, dw: TensorInfo | null, dBias: TensorInfo | null,
  ): void;
  /** Softmax (log: log-softmax) over the last axis of x [rows, n], max-shifted. */
  softmax(x: TensorInfo, log: boolean, out: TensorInfo): void;
  /** Back through softmax from its output y [rows, n]: dy - Σ(dy·y) scaled by y; for log, dy - exp(y)·Σdy. */
  softmaxGrad(dy: TensorInfo, y: TensorInfo, log: boolean, out: TensorInfo): void;
  /**
   * Per-row crossentropy of pred [rows, n] against labels: int32 class indices [rows] (already
   * checked in range) or probabilities [rows, n] of pred's dtype. From logits:
   * Σ_c t_c·(logsumexp(pred) - pred_c); from probabilities (rescaled to sum 1 per row):
   * -Σ_c t_c·log(clip(p_c, epsilon, 1 - epsilon)). out [rows].
   */
  crossEntropy(pred: TensorInfo, labels: TensorInfo, fromLogits: boolean, epsilon: number, out: TensorInfo): void;
  /** crossEntropy's gradient with respect to pred, given the rows' gradients dy [rows]; out [rows, n]. */
  crossEntropyGrad(
    pred: TensorInfo, labels: TensorInfo, fromLogits: boolean, epsilon: number, dy: TensorInfo, out: TensorInfo,
  ): void;
  /** One optimizer step on one weight (see UpdateRule): outs = [w', ...slots'], inputs unchanged. */
  applyUpdate(
    rule: UpdateRule, hyper: readonly number[], w: TensorInfo, g: TensorInfo,
    slots: readonly TensorInfo[], outs: readonly TensorInfo[],
  ): void;
  /**
   * An N-D convolution, channels last (d = 1, 2 or 3 spatial axes): x [N, ...S, C],
   * w [...K, C / groups, F], bias [F] or null, out [N, ...O, F];
   * out[n, o, f] = act(bias[f] + Σ_{k, c} x[n, o·stride + k·dilation - padBefore, g·C/groups + c] · w[k, c, f])
   * over every kernel position k and channel c of f's group g = floor(f / (F / groups)), where
   * an x position outside [0, S) reads 0. Core has checked the shapes and computed the pads
   * (the padding after each axis is implied by O).
   */
  conv(x: TensorInfo, w: TensorInfo, bias: TensorInfo | null, geometry: ConvGeometry, activation: FusedActivation, out: TensorInfo): void;
  /**
   * conv's backward from its output y and y's gradient dy (both [N, ...O, F]): dz = dy · act'(y)
   * as in denseGrad; dx [N, ...S, C] (zeroed, then every dz·w term added where it came from; an
   * x position outside [0, S) takes nothing), dw [...K, C / groups, F], dBias = dz summed over
   * all but the last axis [F].
   */
  convGrad(
    dy: TensorInfo, y: TensorInfo, x: TensorInfo, w: TensorInfo, geometry: ConvGeometry, activation: FusedActivation,
    dx: TensorInfo | null, dw: TensorInfo | null, dBias: TensorInfo | null,
  ): void;
  /**
   * Max or average pooling, channels last: x [N, ...S, C], out [N, ...O, C]; each output is the
   * max (or mean) of x over window positions o·stride + k - padBefore (k < window) that fall in
   * [0, S): padding is never the max, and an average counts only the positions inside (Keras's
   * "same"). A window with no position inside is not allowed (core checks).
   */
  pool(op: PoolOp, x: TensorInfo, window: PoolGeometry, out: TensorInfo): void;
  /**
   * pool's backward: dx [N, ...S, C] zeroed, then each dy spread over its window as the
   * composition's gradient does: for 'avg' dy / count to each inside position; for 'max' dy
   * split evenly among the positions that equal the window's max y (ties share, as kiln's max
   * reduction does).
   */
  poolGrad(op: PoolOp, dy: TensorInfo, x: TensorInfo, y: TensorInfo, window: PoolGeometry, dx: TensorInfo): void;
  /**
   * Per-channel statistics over every axis but the last: x [rows, C] (any leading shape, rows >
   * 0), out [2, C] holding the mean Σ_r x[r, c] / rows and the biased variance
   * Σ_r (x[r, c] - mean_c)² / rows, each summed in double from the stored mean (two passes).
   */
  moments(x: TensorInfo, out: TensorInfo): void;
  /**
   * moments' backward from its output y [2, C] and y's gradient dy [2, C]: dx [rows, C] =
   * dMean_c / rows + dVariance_c · 2 (x[r, c] - mean_c) / rows.
   */
  momentsGrad(dy: TensorInfo, y: TensorInfo, x: TensorInfo, dx: TensorInfo): void;
  /**
   * Batch normalization along the last axis with given statistics: x [rows, C], mean, variance,
   * gamma, beta [C] (gamma null: 1, beta null: 0); out = x · inv_c + shift_c with
   * inv = rsqrt(variance + epsilon) · gamma and shift = beta - mean · inv, each step and x · inv
   * rounded to x's dtype (kiln.ops.batchNormalization's composition).
   */
  batchNorm(
    x: TensorInfo, mean: TensorInfo, variance: TensorInfo, gamma: TensorInfo | null, beta: TensorInfo | null, epsilon: number,
    out: TensorInfo,
  ): void;
  /**
   * batchNorm's backward given dy [rows, C], with r = rsqrt(variance + epsilon) and
   * inv = r · gamma: dx = dy · inv, dMean = -Σ_r dy · inv, dVariance = -½ Σ_r dy · (x - mean) ·
   * gamma · r³, dGamma = Σ_r dy · (x - mean) · r, dBeta = Σ_r dy (sums in double); a null
   * output is not wanted (dGamma is null when gamma is).
   */
  batchNormGrad(
    dy: TensorInfo, x: TensorInfo, mean: TensorInfo, variance: TensorInfo, gamma: TensorInfo | null, epsilon: number,
    dx: TensorInfo | null, dMean: TensorInfo | null, dVariance: TensorInfo | null, dGamma: TensorInfo | null, dBeta: TensorInfo | null,
  ): void;
  /**
   * Layer normalization over the last axis (kiln.ops.layerNormalization's composition): x [rows,
   * C], gamma and beta [C] or null (1 and 0). Per row: mean = Σ x / C and var = Σ (x - mean)² / C,
   * the sums in double and each step (mean, x - mean, its square, var) rounded to x's dtype;
   * inv = rsqrt(var + epsilon) · gamma, shift = beta - mean · inv and out = x · inv + shift, each
   * step rounded to x's dtype.
   */
  layerNorm(x: TensorInfo, gamma: TensorInfo | null, beta: TensorInfo | null, epsilon: number, out: TensorInfo): void;
  /**
   * layerNorm's backward given dy [rows, C], mean and var recomputed from x as layerNorm takes
   * them, rstd = (var + epsilon)^-½, x̂ = (x - mean) · rstd and g = dy · gamma: per row dx = rstd ·
   * (g - mean(g) - x̂ · mean(g · x̂)); dGamma = Σ_rows dy · x̂, dBeta = Σ_rows dy, all in double. A
   * null output is not wanted (dGamma is null when gamma is).
   */
  layerNormGrad(
    dy: TensorInfo, x: TensorInfo, gamma: TensorInfo | null, epsilon: number,
    dx: TensorInfo | null, dGamma: TensorInfo | null, dBeta: TensorInfo | null,
  ): void;
  /**
   * Scaled dot-product attention: q [B, T, N, H], k and v [B, S, K, H] with N a multiple of K
   * (query head n reads key head floor(n / (N / K))), mask bool [Bm, Nm, T, S] (Bm 1 or B, Nm 1
   * or N) or null, out [B, T, N, H]. For each batch, head and query t: logits l_s = (q_t · k_s) ·
   * scale, set to ATTENTION_MASKED_LOGIT where the mask is false or (causal) s > t; p =
   * softmax(l), max-shifted; out_t = Σ_s p_s · v_s. Every size is at least 1.
   */
  attention(q: TensorInfo, k: TensorInfo, v: TensorInfo, mask: TensorInfo | null, scale: number, causal: boolean, out: TensorInfo): void;
  /**
   * attention's backward from its output y and y's gradient dy (both [B, T, N, H]), p recomputed
   * as in attention: dv_s = Σ_t p_s · dy_t, dp_s = dy_t · v_s, dl_s = p_s · (dp_s - Σ_h dy_t · y_t)
   * (0 where masked, so a fully masked row passes nothing to q and k), dq_t = scale · Σ_s dl_s ·
   * k_s, dk_s = scale · Σ_t dl_s · q_t; dk and dv sum over the query heads that read them. A null
   * output is not wanted.
   */
  attentionGrad(
    dy: TensorInfo, y: TensorInfo, q: TensorInfo, k: TensorInfo, v: TensorInfo, mask: TensorInfo | null, scale: number, causal: boolean,
    dq: TensorInfo | null, dk: TensorInfo | null, dv: TensorInfo | null,
  ): void;
  /**
   * The recurrent layers' loops over time, tanh and sigmoid, as src/fused/recurrent-scan.ts
   * composes them: xProj [B, T, G·U] (T > 0), h0 (c0) [B, U], kernel [U, G·U], mask [B, T] bool
   * or null; out [B, T, S·U] holds per step the record that file describes (lstm: out, h, c, i,
   * f, g, o; gru: out, h, z, r, hh, inner; simpleRnn: out, h). A masked step keeps the states
   * and outputs the previous output (zeros at t = 0), or zeros with zeroOutputForMask.
   */
  lstm(xProj: TensorInfo, h0: TensorInfo, c0: TensorInfo, kernel: TensorInfo, mask: TensorInfo | null, zeroOutputForMask: boolean, out: TensorInfo): void;
  /**
   * Each recurrent op's backward through time from its record y and y's gradient dy (every slot
   * may carry one): dxProj [B, T, G·U] the gates' pre-activation gradients, dh0, dc0, dKernel
   * (Σ_t h_{t-1}ᵀ · the gradient of h_{t-1}·kernel; GRU without resetAfter has (r·h)_{t-1} for
   * the candidate's block), gru's dBias [3U] (the gradient of h·kernel + bias summed over batch
   * and time); a null output is not wanted.
   */
  lstmGrad(
    dy: TensorInfo, y: TensorInfo, h0: TensorInfo, c0: TensorInfo, kernel: TensorInfo, mask: TensorInfo | null, zeroOutputForMask: boolean,
    dxProj: TensorInfo | null, dh0: TensorInfo | null, dc0: TensorInfo | null, dKernel: TensorInfo | null,
  ): void;
  /** GRU: bias [3U] or null (resetAfter only), as lstm. */
  gru(
    xProj: TensorInfo, h0: TensorInfo, kernel: TensorInfo, bias: TensorInfo | null, mask: TensorInfo | null, resetAfter: boolean,
    zeroOutputForMask: boolean, out: TensorInfo,
  ): void;
  gruGrad(
    dy: TensorInfo, y: TensorInfo, h0: TensorInfo, kernel: TensorInfo, mask: TensorInfo | null, resetAfter: boolean, zeroOutputForMask: boolean,
    dxProj: TensorInfo | null, dh0: TensorInfo | null, dKernel: TensorInfo | null, dBias: TensorInfo | null,
  ): void;
  simpleRnn(xProj: TensorInfo, h0: TensorInfo, kernel: TensorInfo, mask: TensorInfo | null, zeroOutputForMask: boolean, out: TensorInfo): void;
  simpleRnnGrad(
    dy: TensorInfo, y: TensorInfo, h0: TensorInfo, kernel: TensorInfo, mask: TensorInfo | null, zeroOutputForMask: boolean,
    dxProj: TensorInfo | null, dh0: TensorInfo | null, dKernel: TensorInfo | null,
  ): void;
}

/**
 * The logit attention gives a masked position: Keras's -0.7 · 3.38953e38, large and finite, so
 * that a row whose keys are all masked averages every value uniformly instead of giving NaN.
 */
export const ATTENTION_MASKED_LOGIT = -0.7 * 3.38953e38;

/** Where a convolution's kernel reads: per spatial axis, in order. */
export interface ConvGeometry {
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Zero padding before each spatial axis (the padding after is implied by the output's size). */
  readonly padsBefore: readonly number[];
  /** Channel groups: C and F are both multiples of it. */
  readonly groups: number;
}

export type PoolOp = 'max' | 'avg';
export const POOL_OPS: readonly PoolOp[] = ['max', 'avg'];

/** A pooling window per spatial axis, in order. */
export interface PoolGeometry {
  readonly window: readonly number[];
  readonly strides: readonly number[];
  readonly padsBefore: readonly number[];
}

export const FUSED_KERNELS: readonly (keyof FusedKernels)[] = [
  'dense', 'denseGrad', 'softmax', 'softmaxGrad', 'crossEntropy', 'crossEntropyGrad', 'applyUpdate',
  'conv', 'convGrad', 'pool', 'poolGrad', 'moments', 'momentsGrad', 'batchNorm', 'batchNormGrad',
  'layerNorm', 'layerNormGrad', 'attention', 'attentionGrad',
  'lstm', 'lstmGrad', 'gru', 'gruGrad', 'simpleRnn', 'simpleRnnGrad',
];
