import type { Backend, DType, TensorInfo, TypedArray } from '../backends/contract.js';
import { fail } from './errors.js';
import { checkAllocation, checkRank } from './limits.js';
import type { Shape } from './shape.js';
import { DataHandle, lifecycle, Tensor } from './tensor.js';
import { currentBackend } from './backends.js';
import { SymbolicTensor } from './symbolic.js';
import { Trace } from './trace.js';

/** The shape and dtype of a value, known without computing it. */
export interface Spec {
  shape: Shape;
  dtype: DType;
}

/**
 * A primitive op: one kernel call, its shape/dtype inference and its gradient rule.
 * Everything in kiln.ops is either a primitive or composed of primitives.
 */
export interface Primitive<A = void> {
  readonly name: string;
  /** Checks the inputs and says what the output will be; throws `name: expected …, got …`. */
  infer(inputs: readonly Spec[], attrs: A): Spec;
  /** Computes the output into `out`. Absent for views (reshape): the output shares the input's buffer. */
  run?(backend: Backend, inputs: readonly TensorInfo[], out: TensorInfo, attrs: A): void;
  /**
   * Gradients of the inputs given the output's gradient `dy`, composed from ops (so they run on
   * every backend and can be differentiated again). Broadcast inputs may get gradients of the
   * output's shape: the tape sums them back to the input's shape. null = no gradient.
   * `needs[i]` says whether input i leads back to a source; a rule may skip the others.
   */
  grad?(dy: Tensor, inputs: readonly Tensor[], out: Tensor, attrs: A, needs: readonly boolean[]): readonly (Tensor | null)[];
}

/**
 * A fused kernel with several outputs (an optimizer update, a layer's whole backward pass). It
 * is not differentiable and never recorded: it serves updates and first-order gradients, whose
 * rules compose differentiable ops instead when an outer tape records them.
 */
export interface MultiPrimitive<A> {
  readonly name: string;
  infer(inputs: readonly Spec[], attrs: A): Spec[];
  run(backend: Backend, inputs: readonly TensorInfo[], outs: readonly TensorInfo[], attrs: A): void;
}

/** A recorded primitive application, with views of the tensors its gradient needs. */
export interface TapeNode {
  prim: Primitive<any>;
  attrs: unknown;
  inputIds: number[];
  inputs: Tensor[];
  out: Tensor;
  /** Tapes still holding this node (nested tapes share it); the last one frees the views. */
  users: number;
}

/** What the engine tells a recording tape. */
export interface TapeSink {
  push(node: TapeNode): void;
}

type Scope = Set<Tensor>;

class Engine {
  private scopes: Scope[] = [];
  /** What each undoOnFailure call has seen made, kept tensors (a Variable's) included. */
  private made: Scope[] = [];
  private tapes: TapeSink[] = [];
  private live = new Map<Backend, number>();
  private tracing: Trace | null = null;

  constructor() {
    lifecycle.release = (t) => this.release(t);
    lifecycle.read = (t) => {
      if (this.tracing && !this.tracing.readBack) this.tracing.readBack = `it reads tensor ${t.id} ${t.dtype} [${t.shape}] back to the host`;
    };
  }

  /** A new tensor over a fresh buffer, tracked by the innermost tidy scope. */
  track(t: Tensor): Tensor {
    this.live.set(t.dataHandle().backend, (this.live.get(t.dataHandle().backend) ?? 0) + 1);
    this.scopes.at(-1)?.add(t);
    for (const m of this.made) m.add(t);
    return t;
  }

  allocate(backend: Backend, shape: readonly number[], dtype: DType, op = 'allocate'): Tensor {
    if (!backend.dtypes.includes(dtype)) {
      fail(op, `backend '${backend.name}' does not support dtype ${dtype} (it supports ${backend.dtypes.join(', ')})`);
    }
    const size = checkAllocation(op, shape, dtype);
    const id = backend.alloc(dtype, size);
    this.tracing?.allocated(id);
    return this.track(new Tensor(new DataHandle(backend, id, dtype, size), shape, dtype));
  }

  /** A tensor holding a copy of `data` on the current backend. */
  upload(data: TypedArray, shape: readonly number[], dtype: DType, op = 'upload'): Tensor {
    const t = this.allocate(currentBackend(), shape, dtype, op);
    if (t.size > 0) {
      t.dataHandle().backend.write(t.dataHandle().id, data);
      this.tracing?.uploaded(t.dataHandle().id, data);
    }
    return t;
  }

  /**
   * Another tensor over the same buffer. `keepId` makes it the same value for autodiff (the
   * tape's saved views); otherwise it is a new value (reshape).
   */
  view(t: Tensor, shape: readonly number[] = t.shape, keepId = false, tracked = true): Tensor {
    const h = t.dataHandle('view');
    h.refs++;
    const v = new Tensor(h, shape, t.dtype, keepId ? t.id : undefined);
    if (tracked) return this.track(v);
    this.live.set(h.backend, (this.live.get(h.backend) ?? 0) + 1);
    return v;
  }

  private release(t: Tensor): void {
    const h = t.dataHandle();
    this.live.set(h.backend, (this.live.get(h.backend) ?? 1) - 1);
    for (const s of this.scopes) s.delete(t);
    for (const m of this.made) m.delete(t);
    if (--h.refs === 0 && !this.tracing?.keeps(h.id)) h.backend.free(h.id);
  }

  /**
   * Runs `fn` while recording every kernel it calls on the current backend (src/trace.ts). The
   * buffers it frees stay allocated, owned by the trace, until the trace becomes a plan or is
   * released. Traces do not nest.
   */
  trace<T>(fn: () => T): { result: T; trace: Trace } {
    if (this.tracing) fail('trace', 'a trace is already running');
    const trace = new Trace(currentBackend());
    this.tracing = trace;
    try {
      return { result: fn(), trace };
    } catch (err) {
      trace.release();
      throw err;
    } finally {
      this.tracing = null;
    }
  }

  /** Runs `prim` on concrete tensors (or symbolically, when any input is symbolic). */
  run<A>(prim: Primitive<A>, inputs: readonly (Tensor | SymbolicTensor)[], attrs: A): Tensor {
    const specs = inputs.map((x) => {
      if (x instanceof Tensor) x.dataHandle(prim.name);
      return x as Spec;
    });
    const spec = prim.infer(specs, attrs);
    checkRank(prim.name, spec.shape.length);
    if (inputs.some((x) => x instanceof SymbolicTensor)) {
      return new SymbolicTensor(spec.shape, spec.dtype, { prim, inputs, attrs }) as unknown as Tensor;
    }
    const backend = currentBackend();
    for (let i = 0; i < inputs.length; i++) {
      const h = (inputs[i] as Tensor).dataHandle();
      if (h.backend !== backend) {
        fail(prim.name, `input ${i} lives on backend '${h.backend.name}' but the current backend is '${backend.name}'; move it with await kiln.toBackend(t, '${backend.name}')`);
      }
    }
    let out: Tensor;
    if (prim.run) {
      out = this.allocate(backend, spec.shape as number[], spec.dtype, prim.name);
      if (out.size > 0) prim.run(this.tracing?.recording(backend) ?? backend, (inputs as Tensor[]).map(info), info(out), attrs);
    } else {
      out = this.view(inputs[0] as Tensor, spec.shape as number[]);
    }
    if (this.tapes.length > 0 && prim.grad && inputs.some((x) => x.dtype === 'float32' || x.dtype === 'float64')) {
      const node: TapeNode = {
        prim,
        attrs,
        inputIds: inputs.map((x) => (x as Tensor).id),
        inputs: (inputs as Tensor[]).map((x) => this.view(x, x.shape, true, false)),
        out: this.view(out, out.shape, true, false),
        users: this.tapes.length,
      };
      for (const tape of this.tapes) tape.push(node);
    }
    return out;
  }

  /** Runs a multi-output primitive on concrete tensors of the current backend. */
  runMany<A>(prim: MultiPrimitive<A>, inputs: readonly Tensor[], attrs: A): Tensor[] {
    const backend = currentBackend();
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i].dataHandle(prim.name).backend !== backend) {
        fail(prim.name, `input ${i} lives on backend '${inputs[i].dataHandle().backend.name}' but the current backend is '${backend.name}'`);
      }
    }
    const outs = prim.infer(inputs, attrs).map((s) => this.allocate(backend, s.shape as number[], s.dtype, prim.name));
    if (outs.some((t) => t.size > 0)) prim.run(this.tracing?.recording(backend) ?? backend, inputs.map(info), outs.map(info), attrs);
    return outs;
  }

  withTape<T>(tape: TapeSink, fn: () => T): T {
    this.tapes.push(tape);
    try {
      return fn();
    } finally {
      this.tapes.splice(this.tapes.lastIndexOf(tape), 1);
    }
  }

  /** Runs fn with no tape recording (stopGradient of a whole computation). */
  withoutTapes<T>(fn: () => T): T {
    const saved = this.tapes;
    this.tapes = [];
    try {
      return fn();
    } finally {
      this.tapes = saved;
    }
  }

  get recording(): boolean {
    return this.tapes.length > 0;
  }

  /**
   * Runs `fn`; if it throws, frees every tensor it made that is still alive, the ones it kept
   * too, so that a failed build (a model from a bad config) leaves memory as it was.
   */
  undoOnFailure<T>(fn: () => T): T {
    const made: Scope = new Set();
    this.made.push(made);
    try {
      return fn();
    } catch (err) {
      for (const t of made) t.dispose();
      throw err;
    } finally {
      this.made.splice(this.made.lastIndexOf(made), 1);
    }
  }

  tidy<T>(fn: () => T): T {
    const scope: Scope = new Set();
    this.scopes.push(scope);
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) {
        fail('tidy', 'the function returned a Promise; tidy only accepts synchronous functions (await outside it)');
      }
    } catch (err) {
      // a failed step must not leak what it made before failing
      for (const t of scope) t.dispose();
      throw err;
    } finally {
      this.scopes.pop();
    }
    const keep = new Set<Tensor>();
    collectTensors(result, keep);
    for (const t of scope) if (!keep.has(t)) t.dispose();
    const parent = this.scopes.at(-1);
    if (parent) for (const t of keep) if (scope.has(t)) parent.add(t);
    return result;
  }

  /** Takes `t` out of every enclosing tidy scope: the caller disposes it. */
  keep<T extends Tensor>(t: T): T {
    for (const s of this.scopes) s.delete(t);
    return t;
  }

  memoryOf(backend: Backend): { numTensors: number; numBytes: number; numBuffers: number } {
    const m = backend.memory();
    return { numTensors: this.live.get(backend) ?? 0, numBytes: m.numBytes, numBuffers: m.numBuffers };
  }
}

export function info(t: Tensor): TensorInfo {
  return { id: t.dataHandle().id, shape: t.shape, dtype: t.dtype };
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) into.add(value);
  else if (depth < 4 && Array.isArray(value)) for (const v of value) collectTensors(v, into, depth + 1);
  else if (depth < 4 && value instanceof Map) for (const v of value.values()) collectTensors(v, into, depth + 1);
  else if (depth < 4 && value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
  }
}

export const ENGINE = new Engine();


