/**
 * The backend contract: what a backend implements so that the whole of kiln runs on it.
 *
 * A backend owns buffers (flat, row-major, contiguous storage addressed by integer ids) and
 * runs a small set of primitive kernels on them. Core checks every argument, infers every
 * output shape and dtype, and allocates the output buffers before it calls a kernel, so a
 * kernel only computes: it never allocates what it returns, never frees, never throws for
 * shapes. docs/backends.md describes each kernel.
 */

export type DType = 'float32' | 'float64' | 'int32' | 'bool';

export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A view of a buffer as a tensor: the buffer holds `prod(shape)` elements in row-major order. */
export interface TensorInfo {
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Elementwise functions of one input; the output has the input's shape. */
export type UnaryOp =
  | 'neg' | 'abs' | 'sqrt' | 'exp' | 'expm1' | 'log' | 'log1p'
  | 'sin' | 'cos' | 'tanh' | 'erf' | 'floor' | 'round';

/** Elementwise functions of two inputs of one dtype, NumPy broadcasting to the output's shape. */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'mod' | 'floorDiv'
  | 'equal' | 'less' | 'lessEqual';

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min';
export type ArgReduceOp = 'argmax' | 'argmin';

export const UNARY_OPS: readonly UnaryOp[] = [
  'neg', 'abs', 'sqrt', 'exp', 'expm1', 'log', 'log1p', 'sin', 'cos', 'tanh', 'erf', 'floor', 'round',
];
export const BINARY_OPS: readonly BinaryOp[] = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'floorDiv', 'equal', 'less', 'lessEqual',
];
export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'prod', 'max', 'min'];
export const ARG_REDUCE_OPS: readonly ArgReduceOp[] = ['argmax', 'argmin'];

/**
 * The kernels. Every output `out` is allocated by core with its final shape and dtype.
 * Inputs of binary kernels share one dtype (core casts first); comparison outputs are bool.
 */
export interface Kernels {
  // unary
  unary(op: UnaryOp, x: TensorInfo, out: TensorInfo): void;
  // binary: `a` and `b` broadcast to `out.shape` (NumPy rules, already checked by core)
  binary(op: BinaryOp, a: TensorInfo, b: TensorInfo, out: TensorInfo): void;
  /** out = cond ? a : b; all three broadcast to out.shape; cond is bool. */
  where(cond: TensorInfo, a: TensorInfo, b: TensorInfo, out: TensorInfo): void;
  /** Converts values to out.dtype: float to int truncates toward zero, anything to bool is `!= 0`. */
  cast(x: TensorInfo, out: TensorInfo): void;

  // reduce: `axes` sorted, unique, non-negative; out.shape has those axes removed
  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[], out: TensorInfo): void;
  /** Index (int32) of the first extreme value along `axis`; out.shape drops `axis`. */
  argReduce(op: ArgReduceOp, x: TensorInfo, axis: number, out: TensorInfo): void;
  /** Inclusive (or exclusive) running sum along `axis`, optionally from the end. */
  cumsum(x: TensorInfo, axis: number, exclusive: boolean, reverse: boolean, out: TensorInfo): void;

  // matmul: a is [...batchA, m, k] (or [..., k, m] when transposeA), b is [...batchB, k, n]
  // (or [..., n, k]); batch dims broadcast to out.shape = [...batch, m, n]. Both ranks >= 2.
  matmul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, out: TensorInfo): void;

  // movement
  /** out[i_perm[0], …] = x[i_0, …]: out.shape[j] = x.shape[perm[j]]. */
  transpose(x: TensorInfo, perm: readonly number[], out: TensorInfo): void;
  /** out[i] = x[begin + i * step] per axis; steps are non-zero and may be negative. */
  slice(x: TensorInfo, begin: readonly number[], step: readonly number[], out: TensorInfo): void;
  /** Constant padding: `pads[d] = [before, after]`, both >= 0. */
  pad(x: TensorInfo, pads: readonly (readonly [number, number])[], value: number, out: TensorInfo): void;
  /** Joins inputs along `axis`; all other dims equal to out's. */
  concat(xs: readonly TensorInfo[], axis: number, out: TensorInfo): void;
  /** Repeats size-1 (or missing leading) dims of x to out.shape. */
  broadcastTo(x: TensorInfo, out: TensorInfo): void;

  // index
  /**
   * out = x indexed along `axis` by the int32 `indices` (values already checked in range):
   * out.shape = x.shape[:axis] + indices.shape + x.shape[axis+1:].
   */
  gather(x: TensorInfo, indices: TensorInfo, axis: number, out: TensorInfo): void;
  /**
   * The adjoint of gather: out (already shaped like the gathered-from tensor) is zeroed, then
   * each slice of `updates` is added at its index along `axis`.
   */
  scatterAdd(updates: TensorInfo, indices: TensorInfo, axis: number, out: TensorInfo): void;
}

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
   * (Σ_t h_{t-1}ᵀ · dgates_t), dBias [3U] (Σ of inner's gradients); a null output is not wanted.
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
  'lstm', 'lstmGrad', 'gru', 'gruGrad', 'simpleRnn', 'simpleRnnGrad',
];

// ---------------------------------------------------------------------------------------------
// Kernel rows: the ids the native addon's kernel table and the conformance suite use, derived
// here once. A row is `method` or, for a method whose first argument picks an op, `method:op`.

export const SELECT_KERNELS = ['where', 'cast'] as const satisfies readonly (keyof Kernels)[];
export const MOVEMENT_KERNELS = ['transpose', 'slice', 'pad', 'concat', 'broadcastTo'] as const satisfies readonly (keyof Kernels)[];
export const INDEX_KERNELS = ['gather', 'scatterAdd'] as const satisfies readonly (keyof Kernels)[];

/** The contract's rows by family; each family has its conformance file, test/conformance/<family>.test.ts. */
export const KERNEL_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  unary: UNARY_OPS.map((o) => `unary:${o}`),
  binary: BINARY_OPS.map((o) => `binary:${o}`),
  select: SELECT_KERNELS,
  reduce: [...REDUCE_OPS.map((o) => `reduce:${o}`), ...ARG_REDUCE_OPS.map((o) => `argReduce:${o}`), 'cumsum'],
  matmul: ['matmul'],
  movement: MOVEMENT_KERNELS,
  index: INDEX_KERNELS,
};

/** Every row of the contract (FusedKernels aside). */
export const KERNEL_ROWS: readonly string[] = Object.values(KERNEL_FAMILIES).flat();

/** The number of kernel rows in the contract; docs/backends.md quotes it and a test checks it. */
export const KERNEL_COUNT = KERNEL_ROWS.length;

/**
 * The fused kernels' rows, `fused:<kernel>`; applyUpdate has one per UpdateRule
 * (`fused:applyUpdate:adam`) and pool/poolGrad one per PoolOp (`fused:pool:max`), since each is
 * its own loop.
 */
export const FUSED_ROWS: readonly string[] = FUSED_KERNELS.flatMap((k) =>
  k === 'applyUpdate' ? UPDATE_RULES.map((r) => `fused:${k}:${r}`)
    : k === 'pool' || k === 'poolGrad' ? POOL_OPS.map((o) => `fused:${k}:${o}`)
      : [`fused:${k}`]);

export interface MemoryInfo {
  numBuffers: number;
  numBytes: number;
}

/** Buffers, readback, and the kernels. */
export interface Backend extends Kernels {
  readonly name: string;
  /** Dtypes this backend stores; core refuses others with a clear error. */
  readonly dtypes: readonly DType[];
  /** A new buffer of `size` elements, contents undefined. */
  alloc(dtype: DType, size: number): number;
  /** Copies `data` (length = buffer size, the buffer's typed-array type) into the buffer. */
  write(id: number, data: TypedArray): void;
  /** A copy of the buffer's contents. The only asynchronous call in the contract. */
  read(id: number): Promise<TypedArray>;
  /** A synchronous read, for backends whose memory the CPU can see; others leave it out. */
  readSync?(id: number): TypedArray;
  free(id: number): void;
  memory(): MemoryInfo;
  /** Releases everything the backend holds (used by tests and on process exit). */
  dispose?(): void;
  /** The fused kernels this backend has (any subset of FusedKernels), or none. */
  readonly fused?: Partial<FusedKernels>;
}

/** What each backend folder's index.ts exports: found by convention, created on demand. */
export interface BackendDescriptor {
  readonly name: string;
  /** Whether this backend can run here, and if not, why not. */
  probe(): { available: true } | { available: false; reason: string };
  create(): Backend | Promise<Backend>;
  /** Higher runs first when no backend is named; reference is 0. */
  readonly priority: number;
}

export const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };

export function typedArrayFor(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
    case 'bool': return new Uint8Array(size);
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides (in elements). */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}
