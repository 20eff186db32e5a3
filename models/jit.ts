import type { TensorInfo } from '../backends/contract.js';
import { currentBackend } from '../src/backends.js';
import { ENGINE } from '../src/engine.js';
import { fusedKernelsEnabled } from '../src/fused/switch.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import { Plan, type Trace } from '../src/trace.js';
import type { Model } from './model.js';

/**
 * `compile({ jitCompile: true })` for inference (Keras's jit_compile): predict and predictOnBatch
 * run a model's call once per input signature as a recorded list of kernels (src/trace.ts), with
 * no layer calls, shape inference, tape, tidy or tensors per op. The first two calls of a
 * signature run eagerly under a trace; when both called the same kernels and uploaded the same
 * constants, and neither read a value back, drew random numbers or kept a tensor it made, the
 * second trace becomes the plan that later calls replay. A signature that cannot be replayed runs
 * eagerly for good, its reason kept (`jitStatus`). The plan reads the weights' buffers: when a
 * weight is given a new buffer (training, setWeights), the signature is traced again.
 */
type Entry =
  | { state: 'traced'; calls: string[]; uploads: string[] }
  | { state: 'plan'; plan: Plan; weights: Variable[]; ids: number[]; outputs: { shape: readonly number[]; dtype: Tensor['dtype'] }[] }
  | { state: 'eager'; reason: string };

const entries = new WeakMap<Model, Map<string, Entry>>();

const idsOf = (weights: readonly Variable[]) => weights.map((w) => w.value.dataHandle().id);

/** The outputs of `eager(xs)`, computed by replaying its plan where there is one. */
export function jitCall(model: Model, xs: Tensor[], eager: (xs: Tensor[]) => Tensor[]): Tensor[] {
  const backend = currentBackend();
  const key = `${backend.name} ${fusedKernelsEnabled()} ${xs.map((x) => `${x.dtype}[${x.shape}]`).join(' ')}`;
  let byKey = entries.get(model);
  if (!byKey) entries.set(model, (byKey = new Map()));
  const entry = byKey.get(key);
  if (entry?.state === 'eager') return eager(xs);
  if (entry?.state === 'plan') {
    // model.weights walks the layers: the plan keeps the list and compares buffer ids only
    if (entry.weights.every((w, i) => w.value.dataHandle().id === entry.ids[i])) {
      const outs = entry.outputs.map((o) => ENGINE.allocate(backend, o.shape, o.dtype, 'predict'));
      entry.plan.replay([...xs.map((x) => x.dataHandle().id), ...outs.map((o) => o.dataHandle().id)]);
      return outs;
    }
    entry.plan.dispose();
    byKey.delete(key);
    return jitCall(model, xs, eager);
  }

  const { result, trace } = ENGINE.trace(() => eager(xs));
  const reason = unreplayable(model, trace, xs, result);
  // buffers by shape and dtype: two traces allocate different ids for the same computation
  const calls = trace.calls.map((c) => `${c.method}:${JSON.stringify(c.args, (_, v: unknown) => (isInfo(v) ? `${v.dtype}[${v.shape}]` : v))}`);
  const uploads = trace.uploads.map((u) => `${u.data.constructor.name}:${Array.from(u.data).join(',')}`);
  if (reason === null && entry?.state === 'traced' && sameList(entry.calls, calls) && sameList(entry.uploads, uploads)) {
    byKey.set(key, {
      state: 'plan',
      plan: new Plan(trace, xs.map((x) => x.dataHandle().id), result.map((o) => o.dataHandle().id)),
      weights: model.weights,
      ids: idsOf(model.weights),
      outputs: result.map((o) => ({ shape: o.shape, dtype: o.dtype })),
    });
    return result;
  }
  trace.release();
  if (reason !== null) byKey.set(key, { state: 'eager', reason });
  else if (entry?.state === 'traced') byKey.set(key, { state: 'eager', reason: 'two calls with the same input shapes called different kernels or uploaded different values' });
  else byKey.set(key, { state: 'traced', calls, uploads });
  return result;
}

/** Why a trace cannot be replayed, or null. */
function unreplayable(model: Model, trace: Trace, xs: Tensor[], outs: Tensor[]): string | null {
  if (trace.readBack) return trace.readBack;
  if (trace.calls.some((c) => c.method === 'random')) return 'it draws random numbers, which a replay would repeat';
  const inputs = new Set(xs.map((x) => x.dataHandle().id));
  const outputs = new Set(outs.map((o) => o.dataHandle().id));
  if (outs.some((o) => !trace.made.has(o.dataHandle().id) || inputs.has(o.dataHandle().id))) return 'an output is not computed by the call (it is an input or a tensor made before)';
  for (const id of trace.made) if (!trace.kept.has(id) && !outputs.has(id)) return 'it keeps a tensor it made (a cache or a state update)';
  const weights = new Set(idsOf(model.weights));
  for (const c of trace.calls) {
    for (const a of c.args.flatMap((x) => (Array.isArray(x) ? x : [x]))) {
      if (isInfo(a) && !trace.made.has(a.id) && !inputs.has(a.id) && !weights.has(a.id)) return 'it reads a tensor that is neither an input, a weight nor made by the call';
    }
  }
  return null;
}

function isInfo(x: unknown): x is TensorInfo {
  return x !== null && typeof x === 'object' && typeof (x as TensorInfo).id === 'number' && Array.isArray((x as TensorInfo).shape);
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Why each input signature of `model` runs eagerly, or that it replays (for tests and `kiln info`-style reports). */
export function jitStatus(model: Model): Record<string, string> {
  return Object.fromEntries([...(entries.get(model) ?? new Map<string, Entry>())].map(([k, e]) => [k, e.state === 'eager' ? `eager: ${e.reason}` : e.state]));
}

/** Frees the plans of `model` (Model.dispose, and a new compile). */
export function releasePlans(model: Model): void {
  for (const e of entries.get(model)?.values() ?? []) if (e.state === 'plan') e.plan.dispose();
  entries.delete(model);
}
