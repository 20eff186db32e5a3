/**
 * The backend contract: what a backend implements so that the whole of kiln runs on it.
 *
 * A backend owns buffers (flat, row-major, contiguous storage addressed by integer ids) and
 * runs a small set of primitive kernels on them. Core checks every argument, infers every
 * output shape and dtype, and allocates the output buffers before it calls a kernel, so a
 * kernel only computes: it never allocates what it returns, never frees, never throws for
 * shapes. docs/backends.md describes each kernel. This file holds the primitive kernels and
 * the Backend itself; the optional fused kernels are in fused-contract.ts, dtypes and buffer
 * views in tensor-info.ts, both re-exported here.
 */
import type { DType, TensorInfo, TypedArray } from './tensor-info.js';
import { FUSED_KERNELS, POOL_OPS, UPDATE_RULES, type FusedKernels } from './fused-contract.js';

export * from './tensor-info.js';
export * from './fused-contract.js';

/** Elementwise functions of one input; the output has the input's shape. */
export type UnaryOp =
  | 'neg' | 'abs' | 'sqrt' | 'exp' | 'expm1' | 'log' | 'log1p'
  | 'sin' | 'cos' | 'tanh' | 'erf' | 'floor' | 'round';

/** Elementwise functions of two inputs of one dtype, NumPy broadcasting to the output's shape. */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'mod' | 'floorDiv'
  | 'equal' | 'less' | 'lessEqual';

export type ReduceOp = 'sum' | 'prod' | 'max' | 'min';
/** What `random` draws: uniform in [0, 1), or standard normal. */
export type RandomDist = 'uniform' | 'normal';
export type ArgReduceOp = 'argmax' | 'argmin';

export const UNARY_OPS: readonly UnaryOp[] = [
  'neg', 'abs', 'sqrt', 'exp', 'expm1', 'log', 'log1p', 'sin', 'cos', 'tanh', 'erf', 'floor', 'round',
];
export const BINARY_OPS: readonly BinaryOp[] = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'floorDiv', 'equal', 'less', 'lessEqual',
];
export const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'prod', 'max', 'min'];
export const ARG_REDUCE_OPS: readonly ArgReduceOp[] = ['argmax', 'argmin'];
export const RANDOM_DISTS: readonly RandomDist[] = ['uniform', 'normal'];

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

  // creation: values made on the device, so that constants and random draws need no upload
  /** Sets every element of out to `value`, converted to out.dtype as cast does (bool: value != 0). */
  fill(value: number, out: TensorInfo): void;
  /**
   * Counter-based random numbers, Philox 4x32-10 keyed by `key` (two uint32): element i of out
   * comes from block floor(i / 4) (counter = [block, 0, 0, 0]), word i % 4, so the same key gives
   * the same numbers on every backend. 'uniform': (word >>> 8) * 2^-24 in [0, 1).
   * 'normal': Box–Muller on the block's word pairs (0,1) and (2,3): u1 = ((w0 >>> 8) + 1) * 2^-24
   * in (0, 1], u2 = (w1 >>> 8) * 2^-24; even element r*cos(2*pi*u2), odd r*sin(2*pi*u2), r = sqrt(-2 ln u1).
   * out is float32 or float64.
   */
  random(dist: RandomDist, key: readonly [number, number], out: TensorInfo): void;
}

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
  creation: ['fill'],
  random: RANDOM_DISTS.map((d) => `random:${d}`),
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
