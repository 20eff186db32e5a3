import type { Backend, FusedKernels, TensorInfo } from '../../backends/contract.js';
import { sizeOf } from '../../backends/contract.js';
import { currentBackend } from '../backends.js';
import { ENGINE, type MultiPrimitive, type Primitive, type Spec } from '../engine.js';
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { composedGrad } from './composed-grad.js';
import { fusedKernelsEnabled } from './switch.js';

/** A fused kernel of the contract, by its name in FusedKernels. */
export type FusedKernel = keyof FusedKernels;

/** What every fused op declares: its kernel, the same function composed from ops, and when the kernel fits. */
interface Definition<K extends FusedKernel, A, Out> {
  readonly kernel: K;
  /**
   * The same function built from kiln ops: what runs when fused kernels are off, the backend has
   * no such kernel, an input is symbolic or the inputs do not qualify; also the source of the
   * gradient wherever the fused backward kernel does not serve.
   */
  compose(inputs: readonly Tensor[], attrs: A): Out;
  /** Whether the kernel takes these (concrete) inputs: dtypes, ranks, non-empty sizes. */
  applies(inputs: readonly Tensor[], attrs: A): boolean;
}

/** A fused backward kernel: the gradients of some of a one-output op's inputs, in one call. */
export interface FusedBackward<K extends FusedKernel, A> {
  readonly kernel: K;
  /**
   * The gradient each input gets from the kernel, null where the kernel computes none (the
   * gradient is then null, or composed when `applies` says so).
   */
  infer(inputs: readonly Spec[], attrs: A): readonly (Spec | null)[];
  /** Whether the kernel serves the gradients `needs` asks for; by default it does. */
  applies?(inputs: readonly Tensor[], attrs: A, needs: readonly boolean[]): boolean;
  /**
   * Calls `kernel` given the output's gradient `dy` and value `y`. A null grad is not wanted; the
   * kernel is not called when none is, so a kernel with one gradient always gets it.
   */
  run(
    kernel: FusedKernels[K], dy: TensorInfo, y: TensorInfo, inputs: readonly TensorInfo[],
    grads: readonly (TensorInfo | null)[], attrs: A,
  ): void;
}

/** A fused op with one output, differentiable: its gradient is `backward`'s kernel or the composition's. */
export interface FusedOne<K extends FusedKernel, A, B extends FusedKernel> extends Definition<K, A, Tensor> {
  readonly outputs?: 'one';
  /** The kernel's output shape and dtype, from its inputs'. */
  infer(inputs: readonly Spec[], attrs: A): Spec;
  /** Calls `kernel` (the current backend's) on buffers core has allocated. */
  run(kernel: FusedKernels[K], inputs: readonly TensorInfo[], out: TensorInfo, attrs: A): void;
  readonly backward?: FusedBackward<B, A>;
}

/**
 * A fused op with several outputs (an optimizer step). The kernel is not differentiable, so the
 * op composes while a tape records.
 */
export interface FusedMany<K extends FusedKernel, A> extends Definition<K, A, Tensor[]> {
  readonly outputs: 'many';
  /** Each output's shape and dtype, from the inputs'. */
  infer(inputs: readonly Spec[], attrs: A): Spec[];
  run(kernel: FusedKernels[K], inputs: readonly TensorInfo[], outs: readonly TensorInfo[], attrs: A): void;
}

/** A defined fused op: call it with its inputs and attributes. */
export interface FusedOp<A, Out> {
  /** The kernels it runs: its own, then its backward kernel if it has one. */
  readonly kernels: readonly FusedKernel[];
  apply(inputs: readonly Tensor[], attrs: A): Out;
}

const defined = new Map<FusedKernel, FusedOp<never, unknown>>();

/** Every fused op defined so far, under each kernel it runs; a kernel belongs to one op. */
export const FUSED_OPS: ReadonlyMap<FusedKernel, FusedOp<never, unknown>> = defined;

/**
 * Declares a fused op once: its kernel, shape inference, composed form, when the kernel applies,
 * how to call it and (optionally) its backward kernel. The op it returns runs the kernel when
 * fused kernels are on, the current backend has the kernel, every input is concrete (symbolic
 * calls compose, so graphs and exports hold only the contract's primitives) and `applies` holds;
 * otherwise it runs the composition. Its gradient is the backward kernel's, except while an outer
 * tape records the backward pass (for higher-order gradients) or where that kernel is not
 * offered or does not apply: then it is the composition's, which can be differentiated again.
 */
export function defineFused<K extends FusedKernel, A, B extends FusedKernel = never>(def: FusedOne<K, A, B>): FusedOp<A, Tensor>;
export function defineFused<K extends FusedKernel, A>(def: FusedMany<K, A>): FusedOp<A, Tensor[]>;
export function defineFused<K extends FusedKernel, A, B extends FusedKernel>(
  def: FusedOne<K, A, B> | FusedMany<K, A>,
): FusedOp<A, Tensor | Tensor[]> {
  const op = def.outputs === 'many' ? defineMany(def) : defineOne(def);
  for (const kernel of op.kernels) {
    if (defined.has(kernel)) fail('defineFused', `fused kernel '${kernel}' already has a definition; each kernel has exactly one`);
    defined.set(kernel, op as FusedOp<never, unknown>);
  }
  return op;
}

function defineOne<K extends FusedKernel, A, B extends FusedKernel>(def: FusedOne<K, A, B>): FusedOp<A, Tensor> {
  const backward = def.backward;
  const backwardPrim = backward && backwardPrimitive(backward);
  const prim: Primitive<A> = {
    name: def.kernel,
    infer: (inputs, attrs) => def.infer(inputs, attrs),
    run: (backend, inputs, out, attrs) => def.run(kernelOf(backend, def.kernel), inputs, out, attrs),
    grad(dy, inputs, y, attrs, needs) {
      const served =
        backward && backwardPrim && !ENGINE.recording && offered(backward.kernel) && (backward.applies?.(inputs, attrs, needs) ?? true);
      if (!served) return composedGrad((...xs) => def.compose(xs, attrs), inputs, dy, needs);
      const wanted = backward.infer(inputs, attrs).map((spec, i) => spec !== null && needs[i]);
      if (!wanted.some(Boolean)) return inputs.map(() => null);
      return spread(wanted, ENGINE.runMany(backwardPrim, [dy, y, ...inputs], { attrs, wanted }));
    },
  };
  return {
    kernels: backward ? [def.kernel, backward.kernel] : [def.kernel],
    apply: (inputs, attrs) => (runsKernel(def, inputs, attrs) ? ENGINE.run(prim, inputs, attrs) : def.compose(inputs, attrs)),
  };
}

function defineMany<K extends FusedKernel, A>(def: FusedMany<K, A>): FusedOp<A, Tensor[]> {
  const prim: MultiPrimitive<A> = {
    name: def.kernel,
    infer: (inputs, attrs) => def.infer(inputs, attrs),
    run: (backend, inputs, outs, attrs) => def.run(kernelOf(backend, def.kernel), inputs, outs, attrs),
  };
  return {
    kernels: [def.kernel],
    apply: (inputs, attrs) =>
      !ENGINE.recording && runsKernel(def, inputs, attrs) ? ENGINE.runMany(prim, inputs, attrs) : def.compose(inputs, attrs),
  };
}

/** The op's attributes, and which inputs' gradients the backward kernel is asked for. */
interface BackwardAttrs<A> {
  attrs: A;
  wanted: readonly boolean[];
}

/** The backward kernel as a multi-output primitive over [dy, y, ...inputs], one output per wanted gradient. */
function backwardPrimitive<K extends FusedKernel, A>(backward: FusedBackward<K, A>): MultiPrimitive<BackwardAttrs<A>> {
  return {
    name: backward.kernel,
    infer: ([, , ...inputs], { attrs, wanted }) => backward.infer(inputs, attrs).filter((_, i) => wanted[i]) as Spec[],
    run(backend, [dy, y, ...inputs], outs, { attrs, wanted }) {
      backward.run(kernelOf(backend, backward.kernel), dy, y, inputs, spread(wanted, outs), attrs);
    },
  };
}

/** `values` placed at the wanted positions, null elsewhere. */
function spread<T>(wanted: readonly boolean[], values: readonly T[]): (T | null)[] {
  let k = 0;
  return wanted.map((w) => (w ? values[k++] : null));
}

function runsKernel<K extends FusedKernel, A>(def: Definition<K, A, unknown>, inputs: readonly Tensor[], attrs: A): boolean {
  return inputs.every((x) => x instanceof Tensor) && offered(def.kernel) && def.applies(inputs, attrs);
}

/** Whether fused kernels are on and the current backend has `kernel`. */
function offered(kernel: FusedKernel): boolean {
  return fusedKernelsEnabled() && currentBackend().fused?.[kernel] !== undefined;
}

/** The backend's kernel, called on its fused object (which a backend may write with methods using `this`). */
function kernelOf<K extends FusedKernel>(backend: Backend, kernel: K): FusedKernels[K] {
  const fused = backend.fused as FusedKernels;
  return (fused[kernel] as (...args: never[]) => void).bind(fused) as FusedKernels[K];
}

/** `t` seen as [rows, n], n its last dimension: the layout fused kernels take, whatever t's rank (>= 1). */
export function asRows(t: TensorInfo): TensorInfo {
  const n = t.shape[t.shape.length - 1];
  return { ...t, shape: [sizeOf(t.shape) / n, n] };
}

/** `t` seen as one dimension, as per-row values are passed to fused kernels. */
export function asFlat(t: TensorInfo): TensorInfo {
  return { ...t, shape: [sizeOf(t.shape)] };
}
