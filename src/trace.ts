import type { Backend, TensorInfo, TypedArray } from '../backends/contract.js';
import { FUSED_KERNELS } from '../backends/contract.js';

/** The contract's kernel methods (fused ones are under `backend.fused`): what a trace records. */
const KERNEL_METHODS = new Set([
  'unary', 'binary', 'where', 'cast', 'reduce', 'argReduce', 'cumsum', 'matmul',
  'transpose', 'slice', 'pad', 'concat', 'broadcastTo', 'gather', 'scatterAdd', 'fill', 'random',
]);

/** One kernel call as a trace saw it: which method, and its arguments (buffers as TensorInfo). */
export interface KernelCall {
  fused: boolean;
  method: string;
  args: readonly unknown[];
}

/**
 * What one traced call did on its backend (ENGINE.trace): the kernels it called in order, the
 * buffers it allocated, which of those it freed (a trace keeps them, so no id is reused within
 * it and a replay can run on them again), what it uploaded, and whether it read a buffer back
 * (a value on the host can steer what happens next, so such a call cannot be replayed).
 */
export class Trace {
  readonly calls: KernelCall[] = [];
  readonly made = new Set<number>();
  readonly kept = new Set<number>();
  readonly uploads: { id: number; data: TypedArray }[] = [];
  readBack: string | null = null;
  private recorder: Backend | null = null;

  constructor(readonly backend: Backend) {}

  /** The backend as kernels should see it while tracing: each call is recorded, then run. */
  recording(backend: Backend): Backend {
    if (backend !== this.backend) return backend;
    this.recorder ??= recorder(backend, this.calls);
    return this.recorder;
  }

  allocated(id: number): void {
    this.made.add(id);
  }

  /** Whether the trace takes over a buffer the traced code frees (true for the ones it made). */
  keeps(id: number): boolean {
    if (!this.made.has(id)) return false;
    this.kept.add(id);
    return true;
  }

  uploaded(id: number, data: TypedArray): void {
    this.uploads.push({ id, data: data.slice() });
  }

  /** Frees what the trace kept (when it is not turned into a plan). */
  release(): void {
    for (const id of this.kept) this.backend.free(id);
    this.kept.clear();
  }
}

function recorder(backend: Backend, calls: KernelCall[]): Backend {
  const record = (fused: boolean, method: string, fn: (...a: unknown[]) => void, self: object) =>
    (...args: unknown[]) => {
      calls.push({ fused, method, args });
      return fn.apply(self, args);
    };
  const fused = backend.fused && Object.fromEntries(
    FUSED_KERNELS.flatMap((k) => {
      const fn = (backend.fused as Record<string, ((...a: unknown[]) => void) | undefined>)[k];
      return fn ? [[k, record(true, k, fn, backend.fused as object)]] : [];
    }),
  );
  return new Proxy(backend, {
    get(target, prop, receiver) {
      if (prop === 'fused') return fused;
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return typeof prop === 'string' && KERNEL_METHODS.has(prop) ? record(false, prop, v as (...a: unknown[]) => void, target) : (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/** Where a buffer id sits in a call's arguments: argument `arg`, or element `item` of an array argument. */
interface Slot {
  call: number;
  arg: number;
  item: number | null;
  /** Index into the replay's new ids: inputs first, then outputs. */
  to: number;
}

/** Whether an argument of a recorded call is a buffer (a TensorInfo) rather than an attribute. */
export function isInfo(x: unknown): x is TensorInfo {
  return x !== null && typeof x === 'object' && typeof (x as TensorInfo).id === 'number' && Array.isArray((x as TensorInfo).shape);
}

/**
 * A trace made replayable: the kernel calls again, on the trace's own buffers, with the traced
 * inputs' buffers replaced by the new inputs' and the outputs' by fresh ones. The plan owns the
 * buffers the trace kept and frees them in `dispose`.
 */
export class Plan {
  private readonly slots: Slot[] = [];

  constructor(private readonly trace: Trace, inputIds: readonly number[], outputIds: readonly number[]) {
    const target = new Map<number, number>();
    inputIds.forEach((id, i) => target.set(id, i));
    outputIds.forEach((id, i) => target.set(id, inputIds.length + i));
    trace.calls.forEach((c, call) => c.args.forEach((a, arg) => {
      if (isInfo(a) && target.has(a.id)) this.slots.push({ call, arg, item: null, to: target.get(a.id)! });
      else if (Array.isArray(a)) {
        a.forEach((x, item) => {
          if (isInfo(x) && target.has(x.id)) this.slots.push({ call, arg, item, to: target.get(x.id)! });
        });
      }
    }));
  }

  /** Runs the kernels with `ids` (the new inputs' buffers, then the outputs') in place of the traced ones. */
  replay(ids: readonly number[]): void {
    const { backend, calls } = this.trace;
    const patched = new Map<number, unknown[]>();
    for (const s of this.slots) {
      let a = patched.get(s.call);
      if (!a) patched.set(s.call, (a = [...calls[s.call].args]));
      if (s.item === null) a[s.arg] = { ...(a[s.arg] as TensorInfo), id: ids[s.to] };
      else {
        const list = [...(a[s.arg] as TensorInfo[])];
        list[s.item] = { ...list[s.item], id: ids[s.to] };
        a[s.arg] = list;
      }
    }
    const fused = backend.fused as Record<string, (...a: unknown[]) => void> | undefined;
    calls.forEach((c, i) => {
      const a = patched.get(i) ?? (c.args as unknown[]);
      if (c.fused) fused![c.method](...a);
      else (backend as unknown as Record<string, (...a: unknown[]) => void>)[c.method](...a);
    });
  }

  dispose(): void {
    this.trace.release();
  }
}
